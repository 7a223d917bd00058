// Package chunk splits files into the pieces the backup store deduplicates,
// and takes consistent snapshots of the service's databases.
//
// Two splitters cover every file:
//
//   - SQLitePages cuts a SQLite database file on its page boundaries (the page
//     size comes from the file header). A row update rewrites whole pages in
//     place, so a 1% scattered update changes about 10% of the pages of a
//     4 KiB-page database and nothing else: storing only the pages whose hash
//     is new stores a tenth of the file.
//   - CDC cuts any other stream with content-defined chunking (restic's Rabin
//     chunker with a fixed polynomial), so an insertion shifts the boundaries
//     only near it. On a SQLite file CDC does badly: the same 1% update
//     touches most 1 MiB chunks.
//
// OpenSQLite and SQLiteLivePages read a live SQLite database as one read
// transaction sees it, page for page, through sqlite_dbpage (VACUUM INTO
// would rewrite every page and defeat page-level deduplication). DumpPostgres and
// RestorePostgres move the rows of a PostgreSQL schema through a framed COPY
// dump taken in one repeatable-read snapshot.
package chunk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/restic/chunker"
)

// Chunk is one piece of a file: its offset in the file and its bytes.
//
// Data belongs to the splitter and is reused: it stays valid until the
// callback that follows the one it was passed to returns (the splitters
// alternate two buffers, so a consumer may hash a chunk in the callback and
// hand it to another goroutine that finishes with it before the next
// callback returns). Copy it to keep it longer.
type Chunk struct {
	// Offset is the position of the first byte of Data in the file.
	Offset int64
	// Data is the chunk's content.
	Data []byte
}

// ErrNotSQLite is returned (wrapped) by SQLitePages and PageSize when the
// input does not start with a valid SQLite database header.
var ErrNotSQLite = errors.New("chunk: not a SQLite database file")

// SQLiteHeaderSize is the length of the SQLite database file header.
const SQLiteHeaderSize = 100

// sqliteMagic starts every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// DefaultPagesPerChunk is the number of SQLite pages SQLitePages puts in one
// chunk when asked for 0 or a negative number.
//
// One page per chunk, from measurements on the backup benchmark dataset
// (gen.py, 900,000 rows, 421 MB of 4 KiB pages; TestBenchmarkDataset): after
// mutate.py scatter (1% of the rows updated at random) the chunks not stored
// yet were
//
//	pages per chunk    chunks   new chunks   new bytes
//	1                 103,798        10.5%      45 MB
//	4                  25,950        30.9%     131 MB
//	16                  6,488        70.2%     298 MB
//	CDC (1 MiB avg)       733        94.5%     365 MB (85.9%)
//
// The changed pages are scattered, so every page added to a group adds
// bytes almost in proportion; after mutate.py cluster (the last 1% of the
// rows) all group sizes store ~1% (4.3-4.7 MB) against CDC's 8 MB. The cost
// of single pages is the number of chunks, one per page (~100,000 for
// 421 MB), each with an index and manifest entry in the store. Databases
// with 64 KiB pages gain much less: each page holds ~140 rows, so a 1%
// scattered update changes ~77% of them.
const DefaultPagesPerChunk = 1

// MaxSQLiteChunkSize bounds pagesPerChunk × page size in SQLitePages.
const MaxSQLiteChunkSize = 16 << 20

// PageSize returns the page size recorded in a SQLite database header
// (bytes 16-17, big-endian, where 1 means 65536). It fails with an error
// wrapping ErrNotSQLite if header is shorter than the 100-byte header, does
// not start with "SQLite format 3\x00", has a page size that is not a power
// of two between 512 and 65536, or has the wrong fixed payload fractions
// (bytes 21-23 must be 64, 32, 32).
func PageSize(header []byte) (int, error) {
	if len(header) < SQLiteHeaderSize {
		return 0, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrNotSQLite, len(header), SQLiteHeaderSize)
	}
	if string(header[:len(sqliteMagic)]) != sqliteMagic {
		return 0, fmt.Errorf("%w: no %q magic", ErrNotSQLite, sqliteMagic[:15])
	}
	v := int(binary.BigEndian.Uint16(header[16:18]))
	size := v
	if v == 1 {
		size = 65536
	}
	if size < 512 || size > 65536 || size&(size-1) != 0 {
		return 0, fmt.Errorf("%w: invalid page size %d", ErrNotSQLite, v)
	}
	if header[21] != 64 || header[22] != 32 || header[23] != 32 {
		return 0, fmt.Errorf("%w: invalid payload fractions %d/%d/%d", ErrNotSQLite, header[21], header[22], header[23])
	}
	return size, nil
}

// IsSQLite reports whether header (the first bytes of a file, at least 100)
// is a valid SQLite database header.
func IsSQLite(header []byte) bool {
	_, err := PageSize(header)
	return err == nil
}

// SQLitePages splits a SQLite database file on page boundaries: it reads
// the page size from the header (bytes 16-17, 1 meaning 65536) and calls fn
// with groups of pagesPerChunk pages (0 or less means DefaultPagesPerChunk),
// at offsets that are multiples of the group size. Every chunk but the last
// has exactly pagesPerChunk × page size bytes; a well-formed database file
// is a whole number of pages, and trailing bytes that are not (a file
// caught mid-write) are still passed on, as a shorter last chunk, so no
// byte is lost. It fails with an error wrapping ErrNotSQLite, before
// calling fn, if the header is not SQLite's, and returns fn's first error.
// Split a consistent image (OpenSQLite), not a live database file, whose
// WAL may hold committed pages.
func SQLitePages(r io.Reader, pagesPerChunk int, fn func(Chunk) error) error {
	if pagesPerChunk <= 0 {
		pagesPerChunk = DefaultPagesPerChunk
	}
	var hdr [SQLiteHeaderSize]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrNotSQLite, n, SQLiteHeaderSize)
		}
		return err
	}
	pageSize, err := PageSize(hdr[:])
	if err != nil {
		return err
	}
	if pagesPerChunk > MaxSQLiteChunkSize/pageSize {
		return fmt.Errorf("chunk: %d pages of %d bytes exceed the %d-byte chunk limit", pagesPerChunk, pageSize, MaxSQLiteChunkSize)
	}
	size := pageSize * pagesPerChunk
	bufs := [2][]byte{make([]byte, size), nil}
	buf := bufs[0]
	filled := copy(buf, hdr[:])
	var off int64
	for i := 0; ; {
		n, err := io.ReadFull(r, buf[filled:])
		filled += n
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if filled > 0 {
			if ferr := fn(Chunk{Offset: off, Data: buf[:filled]}); ferr != nil {
				return ferr
			}
			off += int64(filled)
		}
		if err != nil { // EOF: the file ended within or right after this group
			return nil
		}
		i++
		if bufs[i&1] == nil {
			bufs[i&1] = make([]byte, size)
		}
		buf, filled = bufs[i&1], 0
	}
}

var chunkers sync.Pool // of *chunker.Chunker

// Polynomial is the irreducible polynomial of the Rabin fingerprint used by
// CDC. It is fixed (restic picks a random one per repository) so chunk
// boundaries, and therefore chunk ids, are the same across runs and
// repositories; changing it would make every CDC chunk new.
const Polynomial = chunker.Pol(0x3DA3358B4DC173)

// CDC chunk size parameters: restic's defaults. With 20 average bits a
// boundary is found on average every 1 MiB after the minimum, so chunks
// average about 1.5 MiB on random data.
const (
	// CDCMinSize is the smallest CDC chunk but the last: 512 KiB.
	CDCMinSize = chunker.MinSize
	// CDCMaxSize is the largest CDC chunk: 8 MiB.
	CDCMaxSize = chunker.MaxSize
	// CDCAverageBits is the number of low fingerprint bits that must be
	// zero at a boundary: one boundary per 2^20 bytes on average.
	CDCAverageBits = 20
)

// CDC splits any stream with content-defined chunking: restic/chunker's
// Rabin fingerprint over a 64-byte window with Polynomial, chunks of at
// least CDCMinSize and at most CDCMaxSize bytes (the last one may be
// shorter), a boundary where the low CDCAverageBits bits of the fingerprint
// are zero. Boundaries depend only on the content, so the same input always
// gives the same chunks and an insertion or deletion changes only the
// chunks around it. An empty stream gives no chunk. It returns fn's first
// error or the reader's.
func CDC(r io.Reader, fn func(Chunk) error) error {
	// A chunker holds a 512 KiB read buffer: reused across files (a backup of thousands of
	// small files would otherwise allocate and zero one per file).
	c, _ := chunkers.Get().(*chunker.Chunker)
	if c == nil {
		c = chunker.NewWithBoundaries(r, Polynomial, CDCMinSize, CDCMaxSize)
	} else {
		c.ResetWithBoundaries(r, Polynomial, CDCMinSize, CDCMaxSize)
	}
	defer func() {
		c.Reset(nil, Polynomial) // drop the reader
		chunkers.Put(c)
	}()
	c.SetAverageBits(CDCAverageBits)
	var bufs [2][]byte // grown by the chunker's appends, then reused
	for i := 0; ; i++ {
		ch, err := c.Next(bufs[i&1])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		bufs[i&1] = ch.Data[:0]
		if err := fn(Chunk{Offset: int64(ch.Start), Data: ch.Data}); err != nil {
			return err
		}
	}
}

// Split chunks r with SQLitePages (DefaultPagesPerChunk) if it starts with
// a valid SQLite header, and with CDC otherwise, and reports which it used.
// A live SQLite database should be read with OpenSQLite instead: its
// file alone may miss pages still in its WAL.
func Split(r io.Reader, fn func(Chunk) error) (isSQLite bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	hdr, err := br.Peek(SQLiteHeaderSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if IsSQLite(hdr) {
		return true, SQLitePages(br, DefaultPagesPerChunk, fn)
	}
	return false, CDC(br, fn)
}
