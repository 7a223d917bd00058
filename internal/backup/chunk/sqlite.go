package chunk

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// snapshotBusyTimeout is how long OpenSQLite's connection waits
// for a lock (SQLite's busy_timeout) before reporting SQLITE_BUSY,
// unless the context's deadline is nearer. In WAL mode a reader waits only
// while a checkpoint restarts the log or the WAL index is being recovered;
// in rollback-journal mode it waits for a writer's commit to finish.
const snapshotBusyTimeout = 30 * time.Second

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (or one of
// their extended codes).
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// FileURI makes path a file: URI for the sqlite driver (see fileURI).
func FileURI(path string) string { return fileURI(path) }

// fileURI makes path a file: URI for the sqlite driver, escaping the
// characters a URI would read as an escape, the query or a fragment (as
// internal/store does).
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// OpenSQLite returns a reader of a consistent image of the live SQLite
// database at path: its pages, in order, as one read transaction sees
// them, read through SQLite's sqlite_dbpage table: the database's own
// pages, page 1 included (SQLite's online backup API would rewrite its
// header), with no copy written to disk first; the pages committed only to
// the WAL come straight from SQLite's pager. The read transaction lasts
// until Close, so the image is one point in the database's history while
// writers keep committing: in WAL mode they are not delayed at all; in
// rollback-journal mode they wait for Close. The source is opened read-write without changing its
// journal mode or any other setting, and is only read. The connection's
// busy_timeout is 30 s, or up to ctx's deadline when nearer.
func OpenSQLite(ctx context.Context, path string) (io.ReadCloser, error) {
	db, _, err := openLive(ctx, path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var pageSize int
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		db.Close()
		return nil, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	// One statement is one read transaction: every row comes from the same
	// snapshot of the database.
	rows, err := db.QueryContext(ctx, "SELECT pgno, data FROM sqlite_dbpage ORDER BY pgno")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	return &pageReader{db: db, rows: rows, pageSize: pageSize, path: path}, nil
}

// openLive opens a live database (a regular file) for reading it as it is: read-write, without
// changing its journal mode or any other setting, with a busy_timeout of 30 s or up to ctx's
// deadline when nearer. Not memory-mapped: mapping would make the whole database count in the
// process's RSS for the length of the backup.
func openLive(ctx context.Context, path string) (*sql.DB, os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read sqlite: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("read sqlite: %s is not a regular file", path)
	}
	busy := snapshotBusyTimeout
	if dl, ok := ctx.Deadline(); ok {
		busy = min(busy, max(time.Until(dl), time.Millisecond))
	}
	db, err := sql.Open("sqlite", fileURI(path)+fmt.Sprintf("?mode=rw&_pragma=busy_timeout(%d)", busy.Milliseconds()))
	if err != nil {
		return nil, nil, fmt.Errorf("read sqlite: open %s: %w", path, err)
	}
	return db, st, nil
}

// pageReader streams the rows of sqlite_dbpage as the database file's bytes.
type pageReader struct {
	db       *sql.DB
	rows     *sql.Rows
	pageSize int
	path     string
	next     int64        // the page number to deliver next (0: 1)
	cur      []byte       // what is left of the page being read
	raw      sql.RawBytes // the row read ahead, valid until the next row
	rawPgno  int64
	holding  bool // raw holds a row not delivered yet
	zero     []byte
	err      error
}

func (r *pageReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// fill loads the next page into cur, or sets err (io.EOF at the end).
func (r *pageReader) fill() {
	if r.next == 0 {
		r.next = 1
	}
	if !r.holding {
		if !r.rows.Next() {
			if err := r.rows.Err(); err != nil {
				r.err = fmt.Errorf("read sqlite %s: %w", r.path, err)
			} else {
				r.err = io.EOF
			}
			return
		}
		if err := r.rows.Scan(&r.rawPgno, &r.raw); err != nil {
			r.err = fmt.Errorf("read sqlite %s: %w", r.path, err)
			return
		}
		if len(r.raw) != r.pageSize {
			r.err = fmt.Errorf("read sqlite %s: page %d has %d bytes, the page size is %d", r.path, r.rawPgno, len(r.raw), r.pageSize)
			return
		}
		if r.rawPgno < r.next {
			r.err = fmt.Errorf("read sqlite %s: page %d came after page %d", r.path, r.rawPgno, r.next-1)
			return
		}
		r.holding = true
	}
	if r.rawPgno > r.next {
		// A page SQLite does not list (none is expected: the lock-byte
		// page of a database over 1 GiB is listed as zeros): zeros keep
		// the following pages at their offsets.
		if r.zero == nil {
			r.zero = make([]byte, r.pageSize)
		}
		r.cur = r.zero
		r.next++
		return
	}
	r.cur = r.raw
	r.holding = false
	r.next++
}

// Close ends the read transaction and closes the connection.
func (r *pageReader) Close() error {
	err := r.rows.Close()
	if cerr := r.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// SQLiteLivePages calls fn with each page of the live database at path, as OpenSQLite reads
// them (one read transaction), at its offset: SQLitePages over OpenSQLite without copying each
// page through a reader. A chunk's Data is valid until fn returns. It returns fn's first error
// or the read's.
//
// With direct, when the read transaction's snapshot is the database file itself (a
// rollback-journal database: the transaction's shared lock keeps writers out of the file; or a
// WAL database whose log is empty: checkpoints wait for such a reader before writing to the
// file), the pages are read from the file in large blocks instead of one sqlite_dbpage row each,
// four times cheaper. Otherwise (pages committed only to the WAL) they come through
// sqlite_dbpage. direct must be false for a database this process also has open through another
// connection: the extra file descriptor, once closed, would drop that connection's POSIX locks.
func SQLiteLivePages(ctx context.Context, path string, direct bool, fn func(Chunk) error) error {
	return SQLiteLivePagesTo(ctx, path, direct, PageSink{Page: fn})
}

// PageSink receives the pages SQLiteLivePagesTo reads.
type PageSink struct {
	// Page is called with each page, in order; its Data is valid until it returns, unless the
	// page is in a buffer from Get (below).
	Page func(Chunk) error
	// Get and Done, when both set, lend the buffers of a direct read (see SQLiteLivePages):
	// Get returns an empty buffer whose capacity is a multiple of 64 KiB, the file is read
	// into it, Page sees its pages, and Done takes the buffer back with what was read, then
	// the caller's. The caller can keep a direct read's bytes that way without copying them.
	// Get is called before the first page of a direct read, and never for a read through
	// sqlite_dbpage.
	Get  func() []byte
	Done func([]byte)
}

// SQLiteLivePagesTo is SQLiteLivePages with the direct read's buffers lent by sink.
func SQLiteLivePagesTo(ctx context.Context, path string, direct bool, sink PageSink) error {
	fn := sink.Page
	if direct {
		if done, err := sqliteFilePages(ctx, path, sink); done || err != nil {
			return err
		}
	}
	rc, err := OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	r := rc.(*pageReader)
	defer r.Close()
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.fill()
		if r.err != nil {
			if errors.Is(r.err, io.EOF) {
				return nil
			}
			return r.err
		}
		if err := fn(Chunk{Offset: off, Data: r.cur}); err != nil {
			return err
		}
		off += int64(len(r.cur))
		r.cur = nil
	}
}

// directReads counts the databases sqliteFilePages read from the file (for tests).
var directReads atomic.Int64

// sqliteFilePages is SQLiteLivePages' direct read: it reports done = false, having called fn
// for no page, when the snapshot needs pages from the WAL (or the file is shorter than the
// snapshot), for the caller to read through sqlite_dbpage instead.
func sqliteFilePages(ctx context.Context, path string, sink PageSink) (done bool, err error) {
	db, st, err := openLive(ctx, path)
	if err != nil {
		return false, err
	}
	// The file is opened a second time only while the connection holds its read transaction,
	// and closed after the connection: closing it drops this process's locks on the file.
	var f *os.File
	defer func() {
		db.Close()
		if f != nil {
			f.Close()
		}
	}()
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	// Closing the connection rolls the read transaction back. The first read starts the
	// transaction's snapshot; the page size, journal mode and page count are read inside it
	// (before it another connection could change the page size with a VACUUM, or switch the
	// database to WAL), and page 1's header must agree (see below).
	var tables, pageSize, pageCount int64
	var mode string
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pageCount); err != nil {
		return false, fmt.Errorf("read sqlite %s: %w", path, err)
	}
	wal := strings.EqualFold(mode, "wal")
	if wal {
		// An empty (or missing) log, seen after the snapshot began, means the snapshot reads
		// the file only: a log this reader used could not be emptied while it reads.
		wst, err := os.Stat(path + "-wal")
		if err == nil && wst.Size() > 0 || err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
	}
	if f, err = os.Open(path); err != nil {
		return false, fmt.Errorf("read sqlite: %w", err)
	}
	fst, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("read sqlite: %w", err)
	}
	size := pageCount * pageSize
	if pageSize < 512 || pageSize > 65536 || pageCount < 1 || fst.Size() < size || !os.SameFile(st, fst) {
		return false, nil
	}
	// Page 1's header, as the file holds it, must describe the snapshot: its page size (bytes
	// 16-17, 1 meaning 65536) and its file format versions (bytes 18-19: 1 rollback journal,
	// 2 WAL). Anything else: read through sqlite_dbpage.
	var hdr [20]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false, nil
	}
	hdrSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if hdrSize == 1 {
		hdrSize = 65536
	}
	version := byte(1)
	if wal {
		version = 2
	}
	if hdrSize != pageSize || hdr[18] != version || hdr[19] != version {
		return false, nil
	}
	directReads.Add(1)
	get, put := sink.Get, sink.Done
	if get == nil || put == nil {
		bufp := fileBlocks.Get().(*[]byte)
		defer fileBlocks.Put(bufp)
		get, put = func() []byte { return (*bufp)[:0] }, func([]byte) {}
	}
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		buf := get()
		buf = buf[:cap(buf)/int(pageSize)*int(pageSize)]
		if len(buf) == 0 {
			return true, fmt.Errorf("read sqlite %s: a buffer of %d bytes for pages of %d", path, cap(buf), pageSize)
		}
		n := min(int64(len(buf)), size-off)
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return true, fmt.Errorf("read sqlite %s: %w", path, err)
		}
		for p := int64(0); p < n; p += pageSize {
			if err := sink.Page(Chunk{Offset: off + p, Data: buf[p : p+pageSize : p+pageSize]}); err != nil {
				return true, err
			}
		}
		put(buf[:n])
		off += n
	}
	return true, nil
}

// fileBlocks recycles sqliteFilePages' read buffers (a multiple of any page size).
var fileBlocks = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}
