package chunk

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fillBlobs adds rows rows of ~3 KB (one row a 4 KiB page) to a blobs
// table: a big database quickly, even under the race detector.
func fillBlobs(t testing.TB, db *sql.DB, rows int) {
	t.Helper()
	start := time.Now()
	if _, err := db.Exec(`CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < $1)
		INSERT INTO blobs(id, data) SELECT i, randomblob(32) || zeroblob(2968) FROM c`, rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("filled %d blob rows in %v", rows, time.Since(start).Round(time.Millisecond))
}

func integrityCheck(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, res)
	}
}

// livePagesImage writes SQLiteLivePages' image of src (with direct) to dst.
func livePagesImage(ctx context.Context, src, dst string, direct bool) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	err = SQLiteLivePages(ctx, src, direct, func(c Chunk) error {
		_, err := f.WriteAt(c.Data, c.Offset)
		return err
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readImage writes OpenSQLite's image of src to dst.
func readImage(ctx context.Context, src, dst string) error {
	rc, err := OpenSQLite(ctx, src)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		rc.Close()
		return err
	}
	_, err = io.Copy(f, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// TestSnapshotSQLiteUnderWriter is acceptance 5: the image of a live
// database (OpenSQLite, read through sqlite_dbpage in one read transaction,
// as backups read it) completes while a writer commits every 5 ms, and is
// consistent, in WAL and in rollback-journal mode.
func TestSnapshotSQLiteUnderWriter(t *testing.T) {
	readers := map[string]func(ctx context.Context, src, dst string) error{
		"dbpage": readImage,
		"direct": func(ctx context.Context, src, dst string) error { return livePagesImage(ctx, src, dst, true) },
	}
	for _, mode := range []string{"wal", "delete"} {
		for _, reader := range []string{"dbpage", "direct"} {
			t.Run(mode+"/"+reader, func(t *testing.T) {
				rows := 20000 // ~80 MB
				if mode == "delete" {
					rows = 5000 // ~20 MB: the writer waits for the copy to release its lock
				}
				dir := t.TempDir()
				src := filepath.Join(dir, "live.db")
				db := openSQLite(t, src, 4096, mode == "wal")
				fillBlobs(t, db, rows)
				if _, err := db.Exec(`CREATE TABLE counter(id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
				INSERT INTO counter VALUES (1, 0);
				CREATE TABLE log(n INTEGER PRIMARY KEY, at INTEGER NOT NULL, pad BLOB NOT NULL)`); err != nil {
					t.Fatal(err)
				}
				st, err := os.Stat(src)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("source: %.1f MB, journal mode %s", float64(st.Size())/1e6, mode)

				// The writer: its own pool (as another part of the service
				// would be), one small transaction every 5 ms, touching the
				// counter, a new log row and a random blob row.
				wdb := openSQLite(t, src, 0, false)
				w := startTxWriter(t, wdb, 5*time.Millisecond, func(tx *sql.Tx, n int64) error {
					_, err := tx.Exec(`UPDATE counter SET n = $1 WHERE id = 1`, n)
					if err == nil {
						_, err = tx.Exec(`INSERT INTO log(n, at, pad) VALUES ($1, $2, randomblob(100))`, n, time.Now().UnixNano())
					}
					if err == nil {
						_, err = tx.Exec(`UPDATE blobs SET data = randomblob(3000) WHERE id = $1`, 1+n*7919%int64(rows))
					}
					return err
				})
				w.waitFor(t, 20) // the writer is running

				dst := filepath.Join(dir, "copy.db")
				sctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				before := w.committed.Load()
				start := time.Now()
				err = readers[reader](sctx, src, dst)
				took := time.Since(start)
				after := w.pending.Load()
				time.Sleep(50 * time.Millisecond) // the writer keeps going after the copy
				werr := w.Err()
				if err != nil {
					t.Fatalf("snapshot after %v: %v", took, err)
				}
				if werr != nil {
					t.Fatalf("writer: %v", werr)
				}
				t.Logf("snapshot of %.1f MB took %v; the writer committed %d transactions meanwhile (%d in all)",
					float64(st.Size())/1e6, took.Round(time.Millisecond), after-before, w.committed.Load())
				// In WAL mode the writer does not wait for the copy; in
				// rollback-journal mode it waits for the copy's read lock.
				if mode == "wal" && after-before < 3 {
					t.Errorf("the writer committed only %d transactions during the snapshot", after-before)
				}

				integrityCheck(t, dst)
				cdb, err := sql.Open("sqlite", fileURI(dst)+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				defer cdb.Close()
				var n, count, maxN, blobs int64
				if err := cdb.QueryRow(`SELECT (SELECT n FROM counter), (SELECT count(*) FROM log),
				(SELECT coalesce(max(n), 0) FROM log), (SELECT count(*) FROM blobs)`).Scan(&n, &count, &maxN, &blobs); err != nil {
					t.Fatal(err)
				}
				if n < before || n > after {
					t.Errorf("the copy's counter is %d, outside the %d..%d committed around the snapshot", n, before, after)
				}
				if count != n || maxN != n || blobs != int64(rows) {
					t.Errorf("inconsistent copy: counter %d, %d log rows up to %d, %d blob rows", n, count, maxN, blobs)
				}
				t.Logf("the copy holds the state after commit %d", n)
			})
		}
	}
}

func pageAt(b []byte, pageSize, i int) []byte { return b[i*pageSize : (i+1)*pageSize] }

// TestSnapshotSQLitePageIdentity checks what page-level deduplication
// needs: the copy's pages are the source's pages, and two copies taken
// around a small update differ only in the pages it wrote.
func TestSnapshotSQLitePageIdentity(t *testing.T) {
	// Images taken with OpenSQLite, as backups take them.
	dir := t.TempDir()
	src := filepath.Join(dir, "app.db")
	db := openSQLite(t, src, 4096, true)
	fillEvents(t, db, 3000, 11)
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	if err := readImage(t.Context(), src, a); err != nil {
		t.Fatal(err)
	}
	// Same-size values in three rows: three leaf pages change in place.
	ids := []int{17, 1500, 2999}
	for _, id := range ids {
		if _, err := db.Exec(`UPDATE events SET token = upper(token) WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := readImage(t.Context(), src, b); err != nil {
		t.Fatal(err)
	}
	db.Close() // checkpoints the WAL into the source file

	read := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	srcData, aData, bData := read(src), read(a), read(b)
	const ps = 4096
	if len(aData) != len(bData) || len(bData) != len(srcData) || len(aData)%ps != 0 {
		t.Fatalf("sizes: source %d, copies %d and %d", len(srcData), len(aData), len(bData))
	}
	pages := len(aData) / ps

	// The second copy against the source (no change since): pages 2..N
	// identical; page 1 only in the header's counters.
	for i := 1; i < pages; i++ {
		if !bytes.Equal(pageAt(srcData, ps, i), pageAt(bData, ps, i)) {
			t.Errorf("page %d of the copy differs from the source's", i+1)
		}
	}
	if !bytes.Equal(srcData[SQLiteHeaderSize:ps], bData[SQLiteHeaderSize:ps]) {
		t.Error("page 1 of the copy differs from the source's beyond the header")
	}

	var diff []int
	for i := range pages {
		if !bytes.Equal(pageAt(aData, ps, i), pageAt(bData, ps, i)) {
			diff = append(diff, i+1)
		}
	}
	t.Logf("%d pages; copies before and after updating %d rows differ in pages %v", pages, len(ids), diff)
	// At most one leaf page per updated row, and maybe page 1 (header
	// counters; in WAL mode the change counter does not move).
	leaves := len(diff)
	if leaves > 0 && diff[0] == 1 {
		leaves--
	}
	if leaves < 1 || leaves > len(ids) {
		t.Errorf("pages %v differ, want 1-%d leaf pages (and maybe page 1)", diff, len(ids))
	}
}

func TestSnapshotSQLiteErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	db := openSQLite(t, src, 0, true)
	fillBlobs(t, db, 10)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := readImage(ctx, src, filepath.Join(dir, "copy.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	if _, err := OpenSQLite(t.Context(), filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing source: %v", err)
	}
	if _, err := OpenSQLite(t.Context(), dir); err == nil {
		t.Error("a folder was opened as a database")
	}
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := readImage(t.Context(), junk, filepath.Join(dir, "junk.img")); err == nil {
		t.Error("a file that is not a database was read")
	} else {
		t.Log(err)
	}
	for _, name := range []string{"copy.db", "junk.img"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a failed read left %s behind", name)
		}
	}
	// The image of a live database opens and passes integrity_check.
	dst := filepath.Join(dir, "image.db")
	if err := readImage(t.Context(), src, dst); err != nil {
		t.Fatal(err)
	}
	integrityCheck(t, dst)
}

// TestOpenSQLiteImage: the image of a database nobody writes is the file itself, byte for
// byte (page 1 included, unlike the backup API's copy), for each page size.
func TestOpenSQLiteImage(t *testing.T) {
	for _, ps := range []int{512, 4096, 65536} {
		dir := t.TempDir()
		src := filepath.Join(dir, "db.sqlite")
		db := openSQLite(t, src, ps, false)
		fillBlobs(t, db, 300)
		db.Close()
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "image")
		if err := readImage(t.Context(), src, dst); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(dst)
		if !bytes.Equal(got, want) {
			t.Fatalf("page size %d: image of %d bytes differs from the %d-byte file", ps, len(got), len(want))
		}
	}
	if _, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("OpenSQLite of a missing file succeeded")
	}
	notDB := filepath.Join(t.TempDir(), "text")
	os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 100), 0o600)
	if err := readImage(t.Context(), notDB, notDB+".img"); err == nil {
		t.Fatal("OpenSQLite of a text file succeeded")
	}
}

// TestSQLiteLivePagesDirect: the direct read gives the same image as sqlite_dbpage, and is used
// only when the snapshot is the file: a rollback-journal database, or a WAL database whose log
// is empty, even while a writer commits to the log and a checkpoint is attempted during the
// read; with pages in the WAL it falls back to sqlite_dbpage.
func TestSQLiteLivePagesDirect(t *testing.T) {
	ctx := t.Context()
	for _, wal := range []bool{false, true} {
		src := closedBlobDB(t, wal)
		dir := filepath.Dir(src)
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		before := directReads.Load()
		got := filepath.Join(dir, "direct.img")
		if err := livePagesImage(ctx, src, got, true); err != nil {
			t.Fatal(err)
		}
		if directReads.Load() != before+1 {
			t.Fatalf("wal=%v: the direct read was not used", wal)
		}
		if b, _ := os.ReadFile(got); !bytes.Equal(b, want) {
			t.Fatalf("wal=%v: direct image differs from the file", wal)
		}
		if err := livePagesImage(ctx, src, filepath.Join(dir, "dbpage.img"), false); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "dbpage.img")); !bytes.Equal(b, want) {
			t.Fatalf("wal=%v: sqlite_dbpage image differs from the file", wal)
		}
		if directReads.Load() != before+1 {
			t.Fatalf("wal=%v: direct=false read the file directly", wal)
		}
	}

	// Rollback journal: the read holds its shared lock, so a writer cannot commit meanwhile.
	{
		src := closedBlobDB(t, false)
		w, err := sql.Open("sqlite", fileURI(src)+"?_pragma=busy_timeout(50)")
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		before := directReads.Load()
		var pages int
		err = SQLiteLivePages(ctx, src, true, func(c Chunk) error {
			if pages++; pages == 2 {
				if _, err := w.Exec("UPDATE blobs SET data = randomblob(10)"); !isBusy(err) {
					return fmt.Errorf("a writer during the read got %v, want SQLITE_BUSY", err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if directReads.Load() != before+1 {
			t.Fatal("the direct read was not used in rollback-journal mode")
		}
		if _, err := w.Exec("UPDATE blobs SET data = randomblob(10)"); err != nil {
			t.Fatalf("a writer after the read: %v", err)
		}
	}

	// WAL, empty log: a writer commits and a checkpoint is tried while the read is under way;
	// the image is the database before the commit.
	src := closedBlobDB(t, true)
	dir := filepath.Dir(src)
	want, _ := os.ReadFile(src)
	w := openSQLite(t, src, 0, false)
	if _, err := w.Exec("PRAGMA wal_autocheckpoint=0"); err != nil {
		t.Fatal(err)
	}
	var pages int
	img, err := os.Create(filepath.Join(dir, "during.img"))
	if err != nil {
		t.Fatal(err)
	}
	before := directReads.Load()
	err = SQLiteLivePages(ctx, src, true, func(c Chunk) error {
		if pages++; pages == 2 {
			if _, err := w.Exec("UPDATE blobs SET data = randomblob(3000)"); err != nil {
				return fmt.Errorf("writer: %w", err)
			}
			var busy, logFrames, done int
			if err := w.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			if done > 0 {
				return fmt.Errorf("a checkpoint wrote %d frames into the file being read", done)
			}
		}
		_, err := img.WriteAt(c.Data, c.Offset)
		return err
	})
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	if directReads.Load() != before+1 {
		t.Fatal("the direct read was not used on an empty log")
	}
	if b, _ := os.ReadFile(img.Name()); !bytes.Equal(b, want) {
		t.Fatal("the image read while a writer committed is not the database before the commit")
	}

	// Now the log holds the commit: the direct read falls back to sqlite_dbpage, whose image
	// has the commit.
	after := filepath.Join(dir, "after.img")
	if err := livePagesImage(ctx, src, after, true); err != nil {
		t.Fatal(err)
	}
	if directReads.Load() != before+1 {
		t.Fatal("the direct read was used with pages in the WAL")
	}
	integrityCheck(t, after)
	if b, _ := os.ReadFile(after); bytes.Equal(b, want) {
		t.Fatal("the image after the commit does not have it")
	}
}

// closedBlobDB returns a new database of 500 blob rows, in WAL or rollback-journal mode, that
// no connection holds open any more (so a WAL database has an empty log).
func closedBlobDB(t *testing.T, wal bool) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "db.sqlite")
	db := openSQLite(t, src, 4096, wal)
	fillBlobs(t, db, 500)
	db.Close() // the last connection: the WAL is checkpointed and removed
	return src
}

// TestSQLiteLivePagesToBuffers: a direct read goes into the buffers the sink lends, every byte
// of the file once, the pages pointing into them; a read through sqlite_dbpage (pages in the
// WAL) never asks for one; a buffer too small for a page is an error.
func TestSQLiteLivePagesToBuffers(t *testing.T) {
	ctx := t.Context()
	src := closedBlobDB(t, false)
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var blocks, pages []byte
	var lent []byte
	gets := 0
	sink := PageSink{
		Page: func(c Chunk) error {
			if int64(len(pages)) != c.Offset {
				return fmt.Errorf("page at %d, want %d", c.Offset, len(pages))
			}
			pages = append(pages, c.Data...)
			return nil
		},
		Get: func() []byte {
			gets++
			lent = make([]byte, 0, 64<<10)
			return lent
		},
		Done: func(b []byte) {
			if len(b) == 0 || &b[0] != &lent[:1][0] {
				t.Error("Done got a buffer that Get did not lend")
			}
			blocks = append(blocks, b...)
		},
	}
	if err := SQLiteLivePagesTo(ctx, src, true, sink); err != nil {
		t.Fatal(err)
	}
	if gets < 2 || !bytes.Equal(blocks, want) || !bytes.Equal(pages, want) {
		t.Fatalf("%d buffers, %d bytes in them and %d in pages, file %d", gets, len(blocks), len(pages), len(want))
	}

	// Pages in the WAL: read through sqlite_dbpage, no buffer asked for.
	wsrc := closedBlobDB(t, true)
	w := openSQLite(t, wsrc, 0, false)
	if _, err := w.Exec("PRAGMA wal_autocheckpoint=0"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("UPDATE blobs SET data = randomblob(100)"); err != nil {
		t.Fatal(err)
	}
	gets, pages = 0, nil
	if err := SQLiteLivePagesTo(ctx, wsrc, true, sink); err != nil {
		t.Fatal(err)
	}
	if gets != 0 || len(pages) == 0 {
		t.Fatalf("WAL read: %d buffers asked for, %d bytes of pages", gets, len(pages))
	}

	// A buffer smaller than a page.
	small := sink
	small.Get = func() []byte { return make([]byte, 0, 100) }
	if err := SQLiteLivePagesTo(ctx, src, true, small); err == nil {
		t.Fatal("a buffer smaller than a page accepted")
	}
}
