package backup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/backup/chunk"
	"github.com/painel-universal/painel/internal/backup/repo"
)

// dataSQLite creates a SQLite database of rows in the data folder (read straight from the file,
// unlike the service's own database, which is read through sqlite_dbpage).
func dataSQLite(t *testing.T, e *env, rows int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", chunk.FileURI(filepath.Join(e.dataDir, "app.db")))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE ev (id INTEGER PRIMARY KEY, v INTEGER, txt TEXT)`); err != nil {
		t.Fatal(err)
	}
	tx, _ := db.Begin()
	for i := range rows {
		if _, err := tx.Exec(`INSERT INTO ev VALUES (?, 0, ?)`, i, strings.Repeat(fmt.Sprint(i%97), 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return db
}

func entryOf(t *testing.T, m *Manifest, path string) FileEntry {
	t.Helper()
	for _, f := range m.Arquivos {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("%s not in backup %s", path, m.ID)
	return FileEntry{}
}

// TestPageCacheSkipsUnchangedPages: after a full, an incremental takes the pages that did not
// change from the parent by fingerprint (both the file read directly and the service's database
// read through sqlite_dbpage), stores exactly the pages that changed, and restores and verifies.
func TestPageCacheSkipsUnchangedPages(t *testing.T) {
	e := newEnv(t, "")
	for i := range 2000 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, 0)`, i, strings.Repeat("z", 700))
	}
	app := dataSQLite(t, e, 3000)
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	full := e.backupNow(Full)
	dbPages := len(entryOf(t, full, "banco/painel.db").Chunks)
	appPages := len(entryOf(t, full, "dados/app.db").Chunks)
	if dbPages < 100 || appPages < 100 {
		t.Fatalf("pages: %d, %d", dbPages, appPages)
	}
	for _, f := range full.Arquivos {
		if strings.Contains(f.Path, ".tmp-backup") {
			t.Fatalf("the cache folder was backed up: %s", f.Path)
		}
	}

	// A few rows change in each database.
	for i := 0; i < 2000; i += 400 {
		e.exec(`UPDATE itens SET valor = 1 WHERE id = $1`, i)
	}
	app2, err := sql.Open("sqlite", chunk.FileURI(filepath.Join(e.dataDir, "app.db")))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i += 500 {
		if _, err := app2.Exec(`UPDATE ev SET v = 1, txt = 'x' WHERE id = ?`, i); err != nil {
			t.Fatal(err)
		}
	}
	app2.Close()
	want := e.now()
	before := reusedPages.Load()
	incr := e.backupNow(Incremental)
	reused := reusedPages.Load() - before

	changed := 0
	for _, f := range incr.Arquivos {
		changed += len(f.Patch)
	}
	total := entryOf(t, incr, "banco/painel.db").NChunks + entryOf(t, incr, "dados/app.db").NChunks
	t.Logf("pages: %d in all, %d taken from the parent unhashed, %d changed", total, reused, changed)
	if changed == 0 || int(reused) != total-changed {
		t.Fatalf("reused %d pages of %d with %d changed: want every unchanged page reused", reused, total, changed)
	}
	e.reopen()
	compare(t, "incremental", e.restored(incr.ID, ""), want)
	if v, err := e.svc.Verify(context.Background(), incr.ID); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}

	// The cache keeps the entries of the latest backup and of the latest full only.
	names, err := filepath.Glob(filepath.Join(e.svc.opts.CacheDir, "*.pfp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		base := filepath.Base(n)
		if !strings.HasPrefix(base, full.ID+"-") && !strings.HasPrefix(base, incr.ID+"-") {
			t.Errorf("stale cache entry %s", base)
		}
	}
	if len(names) != 4 {
		t.Errorf("%d cache entries, want 4 (2 databases x 2 backups): %v", len(names), names)
	}
}

// TestPageCacheEntriesChecked: an entry is used only when it is intact, made under the cache's
// key and describes exactly the chunk list of the parent's file.
func TestPageCacheEntriesChecked(t *testing.T) {
	dir := t.TempDir()
	c, err := openPageCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	pages := [][]byte{[]byte(strings.Repeat("a", 4096)), []byte(strings.Repeat("b", 4096))}
	e := FileEntry{FileSummary: FileSummary{Path: "dados/x.db", SQLite: true}}
	var fps []byte
	for _, p := range pages {
		e.Chunks = append(e.Chunks, ChunkRef{ID: repo.Hash(p), Len: int64(len(p))})
		fps = c.fingerprint(fps, p)
	}
	if string(fps[:16]) == string(fps[16:]) || string(c.fingerprint(nil, pages[0])) != string(fps[:16]) {
		t.Fatal("fingerprints not distinct or not deterministic")
	}
	id := newID(e.MTime)
	if err := c.save(id, e, fps); err != nil {
		t.Fatal(err)
	}
	if got := c.load(id, e.Path, e); string(got) != string(fps) {
		t.Fatal("intact entry not loaded")
	}
	if c.load(id, "dados/y.db", e) != nil || c.load(newID(e.MTime), e.Path, e) != nil || c.load("../x", e.Path, e) != nil {
		t.Fatal("entry of another path or backup loaded")
	}
	other := e
	other.Chunks = ChunkList{e.Chunks[1], e.Chunks[0]}
	if c.load(id, e.Path, other) != nil {
		t.Fatal("entry loaded for another chunk list")
	}
	other.Chunks = e.Chunks[:1]
	if c.load(id, e.Path, other) != nil {
		t.Fatal("entry loaded for a shorter chunk list")
	}
	if err := c.save(id, other, fps); err == nil {
		t.Fatal("saved fingerprints that do not match the chunk count")
	}
	// A flipped byte anywhere is caught by the CRC.
	name := filepath.Join(dir, entryName(id, e.Path))
	b, _ := os.ReadFile(name)
	for _, i := range []int{0, 5, 20, 50, len(b) - 20, len(b) - 1} {
		bad := append([]byte(nil), b...)
		bad[i] ^= 1
		os.WriteFile(name, bad, 0o600)
		if c.load(id, e.Path, e) != nil {
			t.Fatalf("entry with byte %d flipped loaded", i)
		}
	}
	os.WriteFile(name, b[:len(b)-7], 0o600)
	if c.load(id, e.Path, e) != nil {
		t.Fatal("truncated entry loaded")
	}
	// Another key (a lost key file makes a new one) neither loads old entries nor keeps them.
	os.WriteFile(name, b, 0o600)
	os.Remove(filepath.Join(dir, pageCacheKey))
	c2, err := openPageCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c2.load(id, e.Path, e) != nil {
		t.Fatal("entry of another key loaded")
	}
	if string(c2.fingerprint(nil, pages[0])) == string(fps[:16]) {
		t.Fatal("a new key gives the same fingerprints")
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatalf("old entry kept after a new key: %v", err)
	}
}

// TestPageCacheUnusable: a backup works (hashing every page) when the cache folder cannot be
// used, and restores.
func TestPageCacheUnusable(t *testing.T) {
	e := newEnv(t, "")
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.opts.CacheDir = filepath.Join(blocker, "cache")
	e.reopen()
	if e.svc.pages != nil {
		t.Fatal("cache opened under a file")
	}
	for i := range 300 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, 0)`, i, strings.Repeat("q", 500))
	}
	e.backupNow(Full)
	e.exec(`UPDATE itens SET valor = 2 WHERE id = 7`)
	want := e.now()
	before := reusedPages.Load()
	incr := e.backupNow(Incremental)
	if n := reusedPages.Load() - before; n != 0 {
		t.Fatalf("%d pages reused without a cache", n)
	}
	compare(t, "incremental without cache", e.restored(incr.ID, ""), want)
}
