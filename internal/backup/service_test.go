package backup

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/backup/chunk"
	"github.com/painel-universal/painel/internal/backup/repo"
	"github.com/painel-universal/painel/internal/backup/storage"
	"github.com/painel-universal/painel/internal/store"
	"github.com/painel-universal/painel/internal/testenv"
)

type env struct {
	t       testing.TB
	dataDir string
	st      *store.Store
	svc     *Service
	opts    Options
}

// newEnv opens a store (SQLite in the data folder, or PostgreSQL at pgURL) with a table of
// rows, and the backup service on a local store outside the data folder.
func newEnv(t testing.TB, pgURL string) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, dataDir: filepath.Join(root, "data")}
	if err := os.MkdirAll(e.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), pgURL, e.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(`CREATE TABLE itens (id BIGINT PRIMARY KEY, nome TEXT NOT NULL, valor DOUBLE PRECISION NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	e.st = st
	be, err := storage.OpenLocal(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := ""
	if st.Dialect == store.SQLiteDialect {
		dbPath = st.Target
	}
	e.opts = Options{DataDir: e.dataDir, DatabasePath: dbPath, RestoreDir: filepath.Join(root, "restore"), Backend: be}
	e.reopen()
	return e
}

func (e *env) reopen() {
	e.t.Helper()
	svc, err := Open(context.Background(), e.st, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.st.DB.Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) write(rel, content string) {
	e.t.Helper()
	p := filepath.Join(e.dataDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// backupNow runs a backup of tipo and waits for it.
func (e *env) backupNow(tipo string) *Manifest {
	e.t.Helper()
	j, err := e.svc.StartBackup(context.Background(), tipo)
	if err != nil {
		e.t.Fatal(err)
	}
	_ = j.Wait(context.Background())
	v := e.svc.JobView(j)
	if v.Status != "concluido" {
		e.t.Fatalf("backup %s: %s", tipo, v.Erro)
	}
	return e.svc.catalog[v.BackupID]
}

// snapshot is what a point in time looks like: the table's rows and the data folder's files
// (minus the database files, which the rows stand for).
type snapshot struct {
	rows  string
	files map[string]string
}

func (e *env) rowsOf(db *sql.DB) string {
	e.t.Helper()
	rows, err := db.Query(`SELECT id, nome, valor FROM itens ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var nome string
		var v float64
		if err := rows.Scan(&id, &nome, &v); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d|%s|%g\n", id, nome, v)
	}
	return b.String()
}

func filesUnder(t testing.TB, root string, skip func(rel string) bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if skip(rel) {
			return nil
		}
		b, _ := os.ReadFile(p)
		out[rel] = string(b)
		return nil
	})
	return out
}

func (e *env) now() snapshot {
	return snapshot{rows: e.rowsOf(e.st.DB), files: filesUnder(e.t, e.dataDir, func(rel string) bool {
		return strings.HasPrefix(rel, "painel.db") || strings.HasPrefix(rel, ".tmp-backup")
	})}
}

// restored restores id into a fresh folder and reads it back as a snapshot.
func (e *env) restored(id string, pgURL string) snapshot {
	e.t.Helper()
	name := "r-" + id
	j, err := e.svc.StartRestore(context.Background(), id, name, CheckFull)
	if err != nil {
		e.t.Fatal(err)
	}
	_ = j.Wait(context.Background())
	if v := e.svc.JobView(j); v.Status != "concluido" {
		e.t.Fatalf("restore %s: %s", id, v.Erro)
	}
	dir := filepath.Join(e.opts.RestoreDir, name)
	var rows string
	if e.st.Dialect == store.SQLiteDialect {
		db, err := sql.Open("sqlite", filepath.Join(dir, "banco", "painel.db"))
		if err != nil {
			e.t.Fatal(err)
		}
		rows = e.rowsOf(db)
		db.Close()
	} else {
		// Load the dump into a schema of its own and read the rows from there.
		target := testenv.FreshPostgresURL(e.t)
		st2, err := store.Open(context.Background(), target, e.t.TempDir())
		if err != nil {
			e.t.Fatal(err)
		}
		defer st2.Close()
		if _, err := st2.Migrate(context.Background()); err != nil {
			e.t.Fatal(err)
		}
		if _, err := st2.DB.Exec(`CREATE TABLE itens (id BIGINT PRIMARY KEY, nome TEXT NOT NULL, valor DOUBLE PRECISION NOT NULL)`); err != nil {
			e.t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, "banco", "postgres.dump"))
		if err != nil {
			e.t.Fatal(err)
		}
		defer f.Close()
		if err := chunk.RestorePostgres(context.Background(), st2.DB, f); err != nil {
			e.t.Fatal(err)
		}
		rows = e.rowsOf(st2.DB)
	}
	files := filesUnder(e.t, filepath.Join(dir, "dados"), func(string) bool { return false })
	return snapshot{rows: rows, files: files}
}

func compare(t testing.TB, what string, got, want snapshot) {
	t.Helper()
	if got.rows != want.rows {
		t.Errorf("%s: rows differ:\n got %q\nwant %q", what, trunc(got.rows), trunc(want.rows))
	}
	if len(got.files) != len(want.files) {
		t.Errorf("%s: %d files, want %d (%v vs %v)", what, len(got.files), len(want.files), keys(got.files), keys(want.files))
	}
	for k, v := range want.files {
		if got.files[k] != v {
			t.Errorf("%s: file %s differs (%d vs %d bytes)", what, k, len(got.files[k]), len(v))
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// roundTrip: data → full → changes → differential → changes → incremental; each of the three
// restores to exactly its point in time.
func roundTrip(t *testing.T, pgURL string) {
	e := newEnv(t, pgURL)
	for i := range 500 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, $3)`, i, fmt.Sprintf("item %d ção", i), float64(i)*1.5)
	}
	e.write("notas/a.txt", "primeira versão")
	e.write("notas/b.txt", strings.Repeat("b", 200_000))
	e.write("grande.bin", strings.Repeat("0123456789", 300_000))
	p1 := e.now()
	full := e.backupNow(Full)

	e.exec(`UPDATE itens SET valor = valor + 1 WHERE id % 7 = 0`)
	e.exec(`DELETE FROM itens WHERE id > 480`)
	e.write("notas/a.txt", "segunda versão")
	if err := os.Remove(filepath.Join(e.dataDir, "notas", "b.txt")); err != nil {
		t.Fatal(err)
	}
	e.write("novo/c.txt", "novo arquivo")
	p2 := e.now()
	diff := e.backupNow(Differential)

	e.exec(`INSERT INTO itens (id, nome, valor) VALUES (1000, 'depois', 7)`)
	e.write("notas/a.txt", "terceira versão")
	e.write("grande.bin", strings.Repeat("0123456789", 300_000)+"fim")
	p3 := e.now()
	incr := e.backupNow(Incremental)

	if diff.Pai != full.ID || incr.Pai != diff.ID || incr.Completo != full.ID {
		t.Fatalf("chain: diff.pai=%s incr.pai=%s incr.base=%s", diff.Pai, incr.Pai, incr.Completo)
	}
	if len(diff.Removidos) != 1 || diff.Removidos[0] != "dados/notas/b.txt" {
		t.Errorf("differential removals %v", diff.Removidos)
	}
	t.Logf("full %d bytes stored, differential %d, incremental %d", full.BytesArmazenados, diff.BytesArmazenados, incr.BytesArmazenados)
	// A reopened service (a new process) sees the same catalogue.
	e.reopen()
	compare(t, "full", e.restored(full.ID, pgURL), p1)
	compare(t, "differential", e.restored(diff.ID, pgURL), p2)
	compare(t, "incremental", e.restored(incr.ID, pgURL), p3)
	for _, id := range []string{full.ID, diff.ID, incr.ID} {
		v, err := e.svc.Verify(context.Background(), id)
		if err != nil || !v.OK {
			t.Errorf("verify %s: %+v %v", id, v, err)
		}
	}
	// The full cannot be deleted while others depend on it; with cascade, all three go.
	if _, err := e.svc.Delete(context.Background(), full.ID, false); err == nil {
		t.Fatal("deleting a full others depend on was allowed")
	}
	removed, err := e.svc.Delete(context.Background(), full.ID, true)
	if err != nil || len(removed) != 3 {
		t.Fatalf("cascade: %v %v", removed, err)
	}
	if st := e.svc.repo; st == nil {
		t.Fatal("no repo")
	}
}

func TestRoundTripSQLite(t *testing.T) { roundTrip(t, "") }

// TestRoundTripBigFilesFirst runs the round trip with files of 64 KiB and more restored as big
// ones: alone and first, synced while checked, the small ones after the last is written.
func TestRoundTripBigFilesFirst(t *testing.T) {
	old := restoreBigFile
	restoreBigFile = 64 << 10
	t.Cleanup(func() { restoreBigFile = old })
	roundTrip(t, "")
}

func TestRoundTripPostgres(t *testing.T) { roundTrip(t, testenv.FreshPostgresURL(t)) }

// TestCorruptionDetected: one flipped byte in any stored object makes verificar fail and the
// restore of a backup that reads it fail.
func TestCorruptionDetected(t *testing.T) { corruptionDetected(t) }

// TestCorruptionDetectedBigFile is TestCorruptionDetected with the file restored as a big one
// (read by ReadOrderedUnchecked, the file read back and checked as a whole) rather than in a
// group of small ones.
func TestCorruptionDetectedBigFile(t *testing.T) {
	old := restoreBigFile
	restoreBigFile = 64 << 10
	t.Cleanup(func() { restoreBigFile = old })
	corruptionDetected(t)
}

func corruptionDetected(t *testing.T) {
	e := newEnv(t, "")
	e.write("x.bin", strings.Repeat("dados importantes ", 100_000))
	m := e.backupNow(Full)
	storeDir := filepath.Join(filepath.Dir(e.dataDir), "store")
	var objects []string
	_ = filepath.WalkDir(storeDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(p, "/packs/") || strings.Contains(p, "/manifests/") || strings.Contains(p, "/index/")) {
			objects = append(objects, p)
		}
		return nil
	})
	if len(objects) < 3 {
		t.Fatalf("objects %v", objects)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, obj := range objects {
		orig, err := os.ReadFile(obj)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			pos := rng.IntN(len(orig))
			bad := bytes.Clone(orig)
			bad[pos] ^= 0x01 << rng.IntN(8)
			if err := os.WriteFile(obj, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			e.reopen() // a fresh process reads the damaged object
			rel, _ := filepath.Rel(storeDir, obj)
			if _, ok := e.svc.catalog[m.ID]; ok {
				v, err := e.svc.Verify(context.Background(), m.ID)
				if err == nil && v.OK {
					t.Errorf("%s byte %d flipped: verificar passed", rel, pos)
				}
				j, err := e.svc.StartRestore(context.Background(), m.ID, fmt.Sprintf("c-%d", rng.Int()), "")
				if err == nil {
					_ = j.Wait(context.Background())
					if e.svc.JobView(j).Status == "concluido" {
						t.Errorf("%s byte %d flipped: restore succeeded", rel, pos)
					}
				}
			} // else: the manifest no longer loads, so the backup is not offered at all
			if err := os.WriteFile(obj, orig, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.reopen()
	if v, err := e.svc.Verify(context.Background(), m.ID); err != nil || !v.OK {
		t.Fatalf("restored objects: %+v %v", v, err)
	}
}

// TestHostileManifestsRefused: manifests with paths that escape, and restores through planted
// symlinks, are refused.
func TestHostileManifestsRefused(t *testing.T) {
	base := Manifest{Versao: manifestVersion, ID: "20261128t120000000z-abcdef", Tipo: Full}
	zero := strings.Repeat("0", 64)
	for _, p := range []string{"../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "a/./b", "a\\b", ""} {
		m := base
		m.Arquivos = []FileEntry{{FileSummary: FileSummary{Path: p, Size: 1, SHA256: zero}, Chunks: ChunkList{{Len: 1}}}}
		b, _ := m.encode()
		if _, err := decodeManifest(b); err == nil {
			t.Errorf("manifest with path %q accepted", p)
		}
	}
	m := base
	m.Removidos = []string{"../x"}
	b, _ := m.encode()
	if _, err := decodeManifest(b); err == nil {
		t.Error("removal path ../x accepted")
	}
	// A symlink planted in the destination is not followed.
	e := newEnv(t, "")
	e.write("sub/f.txt", "conteúdo")
	full := e.backupNow(Full)
	outside := t.TempDir()
	dest := filepath.Join(e.opts.RestoreDir, "alvo")
	if err := os.MkdirAll(dest, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dest, "dados")); err != nil {
		t.Fatal(err)
	}
	var p progress
	if _, err := e.svc.restoreTo(context.Background(), full.ID, dest, CheckQuick, &p); err == nil {
		t.Fatal("restore through a symlink succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("restore wrote outside the destination: %v", entries)
	}
	if _, err := e.svc.StartRestore(context.Background(), full.ID, "../fora", ""); err == nil {
		t.Fatal("destino ../fora accepted")
	}
	if _, err := e.svc.StartRestore(context.Background(), full.ID, "/etc", ""); err == nil {
		t.Fatal("destino /etc accepted")
	}
}

// TestBackupWhileWriting: a SQLite backup completes while a writer commits every 5 ms, and the
// restored database is consistent.
func TestBackupWhileWriting(t *testing.T) {
	e := newEnv(t, "")
	big := strings.Repeat("x", 2000)
	for i := range 5000 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, 0)`, i, big)
	}
	ctx, cancel := context.WithCancel(context.Background())
	commits := make(chan int, 1)
	go func() {
		n := 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				commits <- n
				return
			case <-tick.C:
				if _, err := e.st.DB.Exec(`UPDATE itens SET valor = valor + 1 WHERE id = $1`, n%5000); err == nil {
					n++
				}
			}
		}
	}()
	start := time.Now()
	m := e.backupNow(Full)
	took := time.Since(start)
	cancel()
	n := <-commits
	t.Logf("backup of a %d-byte database took %v while %d commits went in", m.BytesLogicos, took, n)
	if n < 10 {
		t.Errorf("the writer committed only %d times", n)
	}
	got := e.restored(m.ID, "")
	if strings.Count(got.rows, "\n") != 5000 {
		t.Fatalf("restored %d rows", strings.Count(got.rows, "\n"))
	}
}

// TestCrashDuringBackup kills backup processes with SIGKILL at random moments: every backup
// that remains verifies, and the next backup succeeds.
func TestCrashDuringBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("20 killed processes")
	}
	root := t.TempDir()
	dataDir := filepath.Join(root, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 20 {
		blob := make([]byte, 2<<20)
		for j := range blob {
			blob[j] = byte(rng.IntN(256))
		}
		if err := os.WriteFile(filepath.Join(dataDir, fmt.Sprintf("f%02d.bin", i)), blob, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(kill time.Duration, tipo string) (killed bool, out string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "PAINEL_CRASH_ROOT="+root, "PAINEL_CRASH_TIPO="+tipo)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("helper failed: %v\n%s", err, buf.String())
			}
			return false, buf.String()
		case <-time.After(kill):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true, buf.String()
		}
	}
	// Calibrate: how long does a whole run take here? Kills then land anywhere inside one.
	t0 := time.Now()
	if killed, out := run(time.Minute, Full); killed || !strings.Contains(out, "BACKUP-OK") {
		t.Fatalf("calibration run:\n%s", out)
	}
	whole := time.Since(t0)
	// A run of each type takes about as long as the last one that finished.
	last := map[string]time.Duration{Full: whole, Differential: whole, Incremental: whole}
	kills := 0
	for i := range 20 {
		// new content in a few files so every run has work to do
		for range 3 {
			blob := make([]byte, 2<<20)
			for j := range blob {
				blob[j] = byte(rng.IntN(256))
			}
			_ = os.WriteFile(filepath.Join(dataDir, fmt.Sprintf("f%02d.bin", rng.IntN(20))), blob, 0o600)
		}
		tipo := []string{Full, Differential, Incremental}[i%3]
		start := time.Now()
		if killed, _ := run(time.Duration(float64(last[tipo])*(0.05+0.9*rng.Float64())), tipo); killed {
			kills++
		} else {
			last[tipo] = time.Since(start)
		}
	}
	t.Logf("a whole run takes %v; %d of 20 backup processes were killed mid-run", whole, kills)
	if kills < 10 {
		t.Errorf("only %d runs were killed: the kill window does not cover the backups", kills)
	}
	// After the crashes: every backup that exists verifies, and a new one succeeds.
	if _, out := run(time.Minute, Incremental); !strings.Contains(out, "BACKUP-OK") {
		t.Fatalf("the backup after the crashes failed:\n%s", out)
	}
	st, err := store.Open(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	be, _ := storage.OpenLocal(filepath.Join(root, "store"))
	svc, err := Open(context.Background(), st, Options{DataDir: dataDir, DatabasePath: st.Target, RestoreDir: filepath.Join(root, "restore"), Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	list, n := svc.List(1, 1000)
	if n == 0 {
		t.Fatal("no backup survived")
	}
	for _, b := range list {
		v, err := svc.Verify(context.Background(), b.ID)
		if err != nil || !v.OK {
			t.Errorf("backup %s after crashes: %+v %v", b.ID, v, err)
		}
	}
	t.Logf("%d backups kept, all verified", n)
}

// TestCrashHelper is the process TestCrashDuringBackup kills: one backup, then "BACKUP-OK".
func TestCrashHelper(t *testing.T) {
	root := os.Getenv("PAINEL_CRASH_ROOT")
	if root == "" {
		t.Skip("run by TestCrashDuringBackup")
	}
	signal.Reset()
	dataDir := filepath.Join(root, "data")
	st, err := store.Open(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	be, err := storage.OpenLocal(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Open(context.Background(), st, Options{DataDir: dataDir, DatabasePath: st.Target, RestoreDir: filepath.Join(root, "restore"), Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutConfig(context.Background(), Config{Retencao: Retention{ManterUltimos: 5}}); err != nil {
		t.Fatal(err)
	}
	j, err := svc.StartBackup(context.Background(), os.Getenv("PAINEL_CRASH_TIPO"))
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Wait(context.Background())
	if v := svc.JobView(j); v.Status != "concluido" {
		t.Fatalf("backup: %s", v.Erro)
	}
	fmt.Println("BACKUP-OK " + strconv.Itoa(int(svc.JobView(j).BytesArmazenados)))
}

// liveRestore: a backup restored into the live database, in maintenance, while a reader keeps
// querying through the same pool: afterwards the live rows are the backup's.
func liveRestore(t *testing.T, pgURL string) {
	e := newEnv(t, pgURL)
	for i := range 300 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, $3)`, i, fmt.Sprintf("antes %d", i), float64(i))
	}
	want := e.rowsOf(e.st.DB)
	m := e.backupNow(Full)
	e.exec(`DELETE FROM itens WHERE id < 100`)
	e.exec(`UPDATE itens SET nome = 'mudou'`)
	var entered, reloaded int
	e.opts.Maintenance = func(ctx context.Context, reason string, fn func(context.Context) error) error {
		entered++
		if !strings.Contains(reason, m.ID) {
			t.Errorf("reason %q", reason)
		}
		return fn(ctx)
	}
	e.opts.AfterLiveRestore = func(context.Context) error { reloaded++; return nil }
	e.reopen()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readerErr := make(chan error, 1)
	go func() { // readers during the restore see a whole database: 200 rows (before) or 300 (after)
		for ctx.Err() == nil {
			var n int
			if err := e.st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM itens`).Scan(&n); err != nil && ctx.Err() == nil {
				readerErr <- err
				return
			}
			if n != 200 && n != 300 && ctx.Err() == nil {
				readerErr <- fmt.Errorf("a reader saw %d rows", n)
				return
			}
		}
		readerErr <- nil
	}()
	j, err := e.svc.StartLiveRestore(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Wait(context.Background())
	cancel()
	if err := <-readerErr; err != nil {
		t.Errorf("reader: %v", err)
	}
	if v := e.svc.JobView(j); v.Status != "concluido" {
		t.Fatalf("live restore: %s", v.Erro)
	}
	if entered != 1 || reloaded != 1 {
		t.Errorf("maintenance entered %d times, modules reloaded %d times", entered, reloaded)
	}
	if got := e.rowsOf(e.st.DB); got != want {
		t.Fatalf("live rows after restore differ:\n got %q\nwant %q", trunc(got), trunc(want))
	}
	if err := e.st.Ready(context.Background()); err != nil {
		t.Fatalf("store after restore: %v", err)
	}
	// Without a maintenance hook (no service to pause) it is refused.
	e.opts.Maintenance = nil
	e.reopen()
	if _, err := e.svc.StartLiveRestore(context.Background(), m.ID); err == nil {
		t.Fatal("live restore without maintenance accepted")
	}
}

func TestLiveRestoreSQLite(t *testing.T) { liveRestore(t, "") }

func TestLiveRestorePostgres(t *testing.T) { liveRestore(t, testenv.FreshPostgresURL(t)) }

// TestDeltaManifests: after a scattered update of a large database, the incremental's manifest
// lists only the changed pages, and the chain restores the exact rows.
func TestDeltaManifests(t *testing.T) {
	e := newEnv(t, "")
	big := strings.Repeat("y", 1500)
	for i := range 3000 {
		e.exec(`INSERT INTO itens (id, nome, valor) VALUES ($1, $2, 0)`, i, big)
	}
	full := e.backupNow(Full)
	for i := 0; i < 3000; i += 100 {
		e.exec(`UPDATE itens SET valor = 1 WHERE id = $1`, i)
	}
	want := e.now()
	incr := e.backupNow(Incremental)
	var db *FileEntry
	for i := range incr.Arquivos {
		if incr.Arquivos[i].Path == "banco/painel.db" {
			db = &incr.Arquivos[i]
		}
	}
	if db == nil || !db.Delta || len(db.Patch) == 0 || len(db.Patch)*10 > db.NChunks {
		t.Fatalf("incremental database entry: %+v", db)
	}
	b, _ := incr.encode()
	fb, _ := full.encode()
	t.Logf("database of %d pages: the incremental lists %d changed pages; manifests %d bytes (full %d)", db.NChunks, len(db.Patch), len(b), len(fb))
	e.reopen()
	compare(t, "incremental with delta", e.restored(incr.ID, ""), want)
	if v, err := e.svc.Verify(context.Background(), incr.ID); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
	// A delta without its base is refused when the chain is resolved.
	bad := FileEntry{FileSummary: FileSummary{Path: "x", Delta: true, NChunks: 2, Size: 2, SHA256: strings.Repeat("0", 64)},
		Patch: PatchList{{I: 1, ChunkRef: ChunkRef{ID: repo.ID{1}, Len: 1}}}}
	if _, err := bad.apply(FileEntry{}, false); err == nil {
		t.Fatal("delta without base accepted")
	}
	if _, err := bad.apply(FileEntry{Chunks: ChunkList{}}, true); err == nil {
		t.Fatal("delta with a hole accepted")
	}
}

// TestCloseWaitsThenCancels: Close waits for a running job; when its context ends first, it
// cancels the job, which stops without damaging the store, and the next backup succeeds.
func TestCloseWaitsThenCancels(t *testing.T) {
	e := newEnv(t, "")
	e.write("grande.bin", strings.Repeat("0123456789abcdef", 1<<20)) // 16 MiB
	j, err := e.svc.StartBackup(context.Background(), Full)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	cerr := e.svc.Close(ctx)
	<-j.done
	info := e.svc.JobView(j)
	if cerr == nil && info.Status != "concluido" {
		t.Fatalf("Close returned nil but the job ended %q", info.Status)
	}
	if cerr != nil && (info.Status != "falhou" || !strings.Contains(info.Erro, "context canceled")) {
		t.Fatalf("Close: %v; job %s %q", cerr, info.Status, info.Erro)
	}
	t.Logf("Close: %v; job %s", cerr, info.Status)
	e.reopen()
	if m := e.backupNow(Full); m == nil {
		t.Fatal("no backup after the interrupted one")
	}
	if rep, err := e.svc.repo.Verify(context.Background(), true); err != nil || !rep.OK() {
		t.Fatalf("store after an interrupted backup: %+v %v", rep.Problems, err)
	}
	// Close with time to spare waits for the job to finish.
	j, err = e.svc.StartBackup(context.Background(), Incremental)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if info := e.svc.JobView(j); info.Status != "concluido" {
		t.Fatalf("job after a patient Close: %s %q", info.Status, info.Erro)
	}
}

// TestPruneRefusedWithUnreadableManifest: a manifest this version cannot read (damaged, or from
// a newer version) may reference any chunk, so while one is in the store deleting a backup
// removes its manifest but no chunk, and the unreadable backup's data stays intact.
func TestPruneRefusedWithUnreadableManifest(t *testing.T) {
	e := newEnv(t, "")
	if _, err := e.svc.PutConfig(context.Background(), Config{Retencao: Retention{ManterUltimos: 10}, Fontes: []string{}}); err != nil {
		t.Fatal(err)
	}
	e.write("a.txt", strings.Repeat("conteúdo de a ", 1000))
	first := e.backupNow(Full)
	e.write("b.txt", strings.Repeat("conteúdo de b ", 1000))
	second := e.backupNow(Full)
	// The second backup's manifest, as a newer version would write it.
	b, err := e.svc.repo.LoadManifest(context.Background(), second.ID)
	if err != nil {
		t.Fatal(err)
	}
	future := strings.Replace(string(b), fmt.Sprintf(`"versao":%d`, manifestVersion), `"versao":99`, 1)
	if future == string(b) {
		t.Fatal("no versao field to change")
	}
	if err := e.svc.repo.SaveManifest(context.Background(), second.ID, []byte(future)); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if _, err := e.svc.Delete(context.Background(), first.ID, false); err == nil || !strings.Contains(err.Error(), "ilegível") {
		t.Fatalf("delete with an unreadable manifest in the store: %v, want the prune refused", err)
	}
	// Every chunk of the unreadable backup is still there.
	var ids []repo.ID
	for _, f := range second.Arquivos {
		for _, c := range f.Chunks {
			ids = append(ids, c.ID)
		}
	}
	rep, err := e.svc.repo.VerifyChunks(context.Background(), ids)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("the unreadable backup's chunks after the refused prune: %v %v", rep.Problems, err)
	}
}

// TestRestoreErrorNamesTheFile: when a chunk of one of many small files is missing, the
// restore fails naming that file (the files are read in groups; the error must not name
// another file of the group), and a cancelled restore never ends as a success.
func TestRestoreErrorNamesTheFile(t *testing.T) {
	e := newEnv(t, "")
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		e.write("sub/"+n, strings.Repeat("conteúdo de "+n+" ", 200))
	}
	full := e.backupNow(Full)
	b, err := e.svc.repo.LoadManifest(context.Background(), full.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, f := range m.Arquivos {
		if strings.HasSuffix(f.Path, "sub/c.txt") {
			m.Arquivos[i].Chunks[0].ID = repo.ID{0xde, 0xad}
			found = true
		}
	}
	if !found {
		t.Fatal("c.txt not in the manifest")
	}
	nb, _ := m.encode()
	if err := e.svc.repo.SaveManifest(context.Background(), full.ID, nb); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	dest := filepath.Join(e.opts.RestoreDir, "x")
	var p progress
	_, err = e.svc.restoreTo(context.Background(), full.ID, dest, CheckQuick, &p)
	if err == nil || !strings.Contains(err.Error(), "sub/c.txt") {
		t.Fatalf("restore with c.txt's chunk missing: %v, want an error naming sub/c.txt", err)
	}
	for _, n := range []string{"a.txt", "b.txt", "d.txt"} {
		if strings.Contains(err.Error(), "sub/"+n) {
			t.Fatalf("the error names %s: %v", n, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.restoreTo(ctx, full.ID, filepath.Join(e.opts.RestoreDir, "y"), CheckQuick, &p); err == nil {
		t.Fatal("a cancelled restore succeeded")
	}
}
