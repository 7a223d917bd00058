package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/testenv"
)

// storeURLs remembers the URL each test store was opened with, so that
// openSame can open another *Store on the same database (Store.Target has
// the password redacted and cannot be reused).
var storeURLs sync.Map // *Store -> string

// openURL opens rawURL, closing the store when the test ends.
func openURL(t *testing.T, rawURL string) *Store {
	t.Helper()
	s, err := Open(context.Background(), rawURL, t.TempDir())
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	storeURLs.Store(s, rawURL)
	t.Cleanup(func() {
		storeURLs.Delete(s)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openSame opens a second, independent *Store on the database of s.
func openSame(t *testing.T, s *Store) *Store {
	t.Helper()
	u, ok := storeURLs.Load(s)
	if !ok {
		t.Fatal("openSame: store was not opened by openURL")
	}
	return openURL(t, u.(string))
}

// forEachEngine runs fn as subtest "sqlite" and as subtest "postgres" (the
// latter skips, or fails under PAINEL_REQUIRE_SERVICES=1, when
// PAINEL_TEST_POSTGRES_URL is unset). Each call of open returns a store on
// a database of its own: a new file on SQLite, a new schema on PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openSQLiteTest)
	})
	t.Run("postgres", func(t *testing.T) {
		testenv.PostgresURL(t) // skip (or fail) before running fn
		fn(t, func(t *testing.T) *Store {
			t.Helper()
			return openURL(t, testenv.FreshPostgresURL(t))
		})
	})
}

func openSQLiteTest(t *testing.T) *Store {
	t.Helper()
	return openURL(t, "sqlite://"+filepath.Join(t.TempDir(), "painel.db"))
}

// migrated opens a store and applies its migrations.
func migrated(t *testing.T, open func(t *testing.T) *Store) *Store {
	t.Helper()
	s := open(t)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func versions(ms []Migration) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return out
}

func TestOpen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := open(t)
		if err := s.DB.PingContext(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		var one int
		if err := s.DB.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 = %d, %v; want 1, nil", one, err)
		}
		if s.Target == "" {
			t.Error("Target is empty")
		}
		if len(s.Migrations()) == 0 {
			t.Fatalf("no embedded migrations for %s", s.Dialect.Name())
		}
		switch s.Dialect {
		case SQLiteDialect:
			if _, err := os.Stat(s.Target); err != nil {
				t.Errorf("database file %s: %v", s.Target, err)
			}
		case PostgresDialect:
			// The search_path given in the URL must reach the session, or
			// the tests would share (and break) one schema.
			var schema string
			if err := s.DB.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema, "painel_test_") {
				t.Fatalf("current_schema() = %q, want the test's fresh schema", schema)
			}
			if !strings.Contains(s.Target, "search_path="+schema) {
				t.Errorf("Target %q does not name schema %s", s.Target, schema)
			}
			// And what Migrate creates must land in that schema.
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			n := countRows(t, s, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('schema_migrations', 'meta')`, schema)
			if n != 2 {
				t.Errorf("%d of schema_migrations, meta in schema %s, want 2", n, schema)
			}
		default:
			t.Fatalf("Dialect = %q", s.Dialect)
		}
	})
}

func TestOpenBadURL(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{
		"mysql://root@localhost/painel",
		"painel.db",
		"sqlite://",
		"sqlite:///tmp/x.db?mode=ro",
		"postgres:///painel",
	} {
		s, err := Open(ctx, u, t.TempDir())
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
			continue
		}
		if !strings.Contains(err.Error(), "database URL") {
			t.Errorf("Open(%q) = %v, want a database URL error", u, err)
		}
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	// Nothing listens on port 1: Open must check the connection, and its
	// error must not show the password.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://painel:s3cr3tpw@127.0.0.1:1/painel?sslmode=disable&connect_timeout=5", "")
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3tpw") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestOpenSQLiteDefaultPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := filepath.Join(dir, "painel.db")
	if s.Dialect != SQLiteDialect || s.Target != want {
		t.Fatalf("Open(\"\") = %s %s, want sqlite %s", s.Dialect, s.Target, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSQLiteCreatesFolderAndPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "painel.db")
	s := openURL(t, "sqlite://"+path)
	if s.Target != path {
		t.Errorf("Target = %q, want %q", s.Target, path)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		t.Fatalf("parent folder not created: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	// Every connection of the pool must carry the settings, not only the
	// first: hold two at once.
	var conns []*sql.Conn
	for range 2 {
		c, err := s.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("conn %d: journal_mode = %q, want wal", i, mode)
		}
		if fk != 1 {
			t.Errorf("conn %d: foreign_keys = %d, want 1", i, fk)
		}
		if busy < 1000 {
			t.Errorf("conn %d: busy_timeout = %d ms, want at least 1000", i, busy)
		}
	}
}

func TestOpenSQLitePathWithURICharacters(t *testing.T) {
	// The path is handed to SQLite as a file: URI; characters that mean
	// something in a URI must still name the same file on disk.
	dir := filepath.Join(t.TempDir(), "my data #1 100%41 ?x=y&mode=ro")
	path := filepath.Join(dir, "painel.db")
	s, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatalf("Open with data dir %q: %v", dir, err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files beside the data dir: %q, want only %q", names, filepath.Base(dir))
	}
}

func TestOpenSQLiteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := openURL(t, "sqlite://rel/painel.db")
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rel", "painel.db")); err != nil {
		t.Fatalf("database not created relative to the working folder: %v", err)
	}
}

func TestMigrate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := open(t)
		migs := s.Migrations()
		for i := 1; i < len(migs); i++ {
			if migs[i].Version <= migs[i-1].Version {
				t.Fatalf("migrations out of order: %v", versions(migs))
			}
		}
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		if got, want := fmt.Sprint(versions(applied)), fmt.Sprint(versions(migs)); got != want {
			t.Fatalf("first Migrate applied %s, want %s", got, want)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM schema_migrations`); n != len(migs) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(migs))
		}
		for _, m := range migs {
			var name, sum string
			if err := s.DB.QueryRowContext(ctx, `SELECT name, checksum FROM schema_migrations WHERE version = $1`, m.Version).Scan(&name, &sum); err != nil {
				t.Fatalf("row of %d: %v", m.Version, err)
			}
			if name != m.Name || sum != m.Checksum {
				t.Errorf("row of %d = %s %s, want %s %s", m.Version, name, sum, m.Name, m.Checksum)
			}
		}
		applied, err = s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Fatalf("second Migrate applied %v, want nothing", versions(applied))
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM schema_migrations`); n != len(migs) {
			t.Fatalf("after second Migrate schema_migrations has %d rows, want %d", n, len(migs))
		}
		// A second store on the same database finds nothing to do either.
		if applied, err := openSame(t, s).Migrate(ctx); err != nil || len(applied) != 0 {
			t.Fatalf("Migrate from another store = %v, %v; want nothing, nil", versions(applied), err)
		}
	})
}

func TestReady(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := open(t)
		if err := s.Ready(ctx); !errors.Is(err, ErrNotMigrated) {
			t.Fatalf("Ready before Migrate = %v, want ErrNotMigrated", err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("Ready after Migrate = %v, want nil", err)
		}
		last := s.Migrations()[len(s.Migrations())-1]
		if _, err := s.DB.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = $1`, last.Version); err != nil {
			t.Fatal(err)
		}
		if err := s.Ready(ctx); !errors.Is(err, ErrNotMigrated) {
			t.Fatalf("Ready with migration %d missing = %v, want ErrNotMigrated", last.Version, err)
		}
		s.Close()
		if err := s.Ready(ctx); err == nil || errors.Is(err, ErrNotMigrated) {
			t.Fatalf("Ready on a closed store = %v, want an unreachable error", err)
		}
	})
}

func TestMigrationStatus(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := open(t)
		migs := s.Migrations()
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatalf("MigrationStatus before Migrate: %v", err)
		}
		if len(st) != len(migs) {
			t.Fatalf("status has %d entries, want %d", len(st), len(migs))
		}
		for i, m := range st {
			if m.Version != migs[i].Version || m.Name != migs[i].Name || m.Applied || !m.AppliedAt.IsZero() || m.Changed || m.Unknown {
				t.Errorf("before Migrate: %+v, want %d_%s pending", m, migs[i].Version, migs[i].Name)
			}
		}

		before := time.Now().Add(-time.Second)
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		after := time.Now().Add(time.Second)
		if st, err = s.MigrationStatus(ctx); err != nil {
			t.Fatal(err)
		}
		if len(st) != len(migs) {
			t.Fatalf("status has %d entries, want %d", len(st), len(migs))
		}
		for i, m := range st {
			if m.Version != migs[i].Version || m.Name != migs[i].Name || !m.Applied || m.Changed || m.Unknown {
				t.Errorf("after Migrate: %+v, want %d_%s applied", m, migs[i].Version, migs[i].Name)
			}
			if m.AppliedAt.Before(before) || m.AppliedAt.After(after) {
				t.Errorf("%d applied at %v, want between %v and %v", m.Version, m.AppliedAt, before, after)
			}
		}

		// Half applied: drop the record of the last migration.
		last := migs[len(migs)-1]
		if _, err := s.DB.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = $1`, last.Version); err != nil {
			t.Fatal(err)
		}
		if st, err = s.MigrationStatus(ctx); err != nil {
			t.Fatal(err)
		}
		if got := st[len(st)-1]; got.Version != last.Version || got.Applied {
			t.Errorf("after deleting %d: %+v, want it pending", last.Version, got)
		}
	})
}

func TestMigrationChanged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := migrated(t, open)
		first := s.Migrations()[0]
		res, err := s.DB.ExecContext(ctx, `UPDATE schema_migrations SET checksum = 'x' WHERE version = $1`, first.Version)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("UPDATE changed %d rows, want 1", n)
		}
		applied, err := s.Migrate(ctx)
		if !errors.Is(err, ErrMigrationChanged) {
			t.Fatalf("Migrate after a checksum change = %v, want ErrMigrationChanged", err)
		}
		if len(applied) != 0 {
			t.Errorf("Migrate applied %v while failing", versions(applied))
		}
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st {
			if want := m.Version == first.Version; m.Changed != want || !m.Applied || m.Unknown {
				t.Errorf("%+v: Changed = %v, want %v (applied, not unknown)", m, m.Changed, want)
			}
		}
	})
}

func TestMigrationUnknown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := migrated(t, open)
		at := time.UnixMilli(Now()).UTC()
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999999, 'from_the_future', 'abc', $1)`, at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		migs := s.Migrations()
		if len(st) != len(migs)+1 {
			t.Fatalf("status has %d entries, want %d", len(st), len(migs)+1)
		}
		for _, m := range st[:len(migs)] {
			if m.Unknown || !m.Applied || m.Changed {
				t.Errorf("%+v: want applied, known, unchanged", m)
			}
		}
		u := st[len(st)-1]
		want := MigrationStatus{Version: 999999, Name: "from_the_future", Applied: true, AppliedAt: at, Unknown: true}
		if u != want {
			t.Errorf("unknown row = %+v, want %+v", u, want)
		}
	})
}

func TestMigrateConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		const n = 4
		stores := []*Store{open(t)}
		for len(stores) < n {
			stores = append(stores, openSame(t, stores[0]))
		}
		migs := stores[0].Migrations()
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			applied = make([][]Migration, n)
			errs    = make([]error, n)
		)
		for i, s := range stores {
			wg.Go(func() {
				<-start
				applied[i], errs[i] = s.Migrate(ctx)
			})
		}
		close(start)
		wg.Wait()
		times := map[int64]int{}
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Migrate %d: %v", i, errs[i])
			}
			for _, m := range applied[i] {
				times[m.Version]++
			}
		}
		for _, m := range migs {
			if times[m.Version] != 1 {
				t.Errorf("migration %d applied %d times, want 1", m.Version, times[m.Version])
			}
			delete(times, m.Version)
		}
		if len(times) != 0 {
			t.Errorf("applied versions not embedded: %v", times)
		}
		if c := countRows(t, stores[0], `SELECT COUNT(*) FROM schema_migrations`); c != len(migs) {
			t.Errorf("schema_migrations has %d rows, want %d", c, len(migs))
		}
		for i, s := range stores {
			if err := s.Ready(ctx); err != nil {
				t.Errorf("Ready on store %d: %v", i, err)
			}
		}
	})
}

var errTest = errors.New("test error")

func TestTx(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := migrated(t, open)
		insert := func(tx *sql.Tx, key string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ($1, 'v', $2)`, key, Now())
			return err
		}

		t.Run("commit", func(t *testing.T) {
			if err := s.Tx(ctx, func(tx *sql.Tx) error { return insert(tx, "committed") }); err != nil {
				t.Fatalf("Tx: %v", err)
			}
			if v, err := s.GetMeta(ctx, "committed"); err != nil || v != "v" {
				t.Fatalf("GetMeta after commit = %q, %v; want v, nil", v, err)
			}
		})

		t.Run("error rolls back", func(t *testing.T) {
			err := s.Tx(ctx, func(tx *sql.Tx) error {
				if err := insert(tx, "errored"); err != nil {
					return fmt.Errorf("insert: %w", err)
				}
				return errTest
			})
			if !errors.Is(err, errTest) {
				t.Fatalf("Tx = %v, want the error fn returned", err)
			}
			if _, err := s.GetMeta(ctx, "errored"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetMeta after rollback = %v, want ErrNotFound", err)
			}
		})

		t.Run("panic rolls back", func(t *testing.T) {
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				_ = s.Tx(ctx, func(tx *sql.Tx) error {
					if err := insert(tx, "panicked"); err != nil {
						t.Errorf("insert: %v", err)
					}
					panic("boom")
				})
				t.Error("Tx returned after fn panicked")
			}()
			if recovered != "boom" {
				t.Fatalf("recovered %v, want the panic value boom", recovered)
			}
			if _, err := s.GetMeta(ctx, "panicked"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetMeta after panic = %v, want ErrNotFound", err)
			}
		})

		// A rolled-back or panicked transaction must not keep its
		// connection busy or the database locked: write again.
		t.Run("usable afterwards", func(t *testing.T) {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := s.Tx(wctx, func(tx *sql.Tx) error { return insert(tx, "after") }); err != nil {
				t.Fatalf("Tx after rollbacks: %v", err)
			}
			if err := openSame(t, s).PutMeta(wctx, "other-store", "v"); err != nil {
				t.Fatalf("write from another store after rollbacks: %v", err)
			}
		})
	})
}

func TestTxConcurrentReadModifyWriteSQLite(t *testing.T) {
	// Transactions begin with BEGIN IMMEDIATE: a read followed by a write
	// never fails with SQLITE_BUSY for a writer that came in between, and
	// updates are not lost.
	ctx := context.Background()
	s := migrated(t, openSQLiteTest)
	if err := s.PutMeta(ctx, "counter", "0"); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for range workers {
		wg.Go(func() {
			for range rounds {
				errs <- s.Tx(ctx, func(tx *sql.Tx) error {
					var v int
					if err := tx.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'counter'`).Scan(&v); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `UPDATE meta SET value = $1 WHERE key = 'counter'`, fmt.Sprint(v+1))
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Tx: %v", err)
		}
	}
	if v, err := s.GetMeta(ctx, "counter"); err != nil || v != fmt.Sprint(workers*rounds) {
		t.Fatalf("counter = %q, %v; want %d", v, err, workers*rounds)
	}
}

func TestMeta(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := migrated(t, open)
		if v, err := s.GetMeta(ctx, "missing"); !errors.Is(err, ErrNotFound) || v != "" {
			t.Fatalf("GetMeta(missing) = %q, %v; want \"\", ErrNotFound", v, err)
		}
		if err := s.PutMeta(ctx, "k", "one"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.GetMeta(ctx, "k"); err != nil || v != "one" {
			t.Fatalf("GetMeta(k) = %q, %v; want one", v, err)
		}
		var at1 int64
		if err := s.DB.QueryRowContext(ctx, `SELECT updated_at FROM meta WHERE key = 'k'`).Scan(&at1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if err := s.PutMeta(ctx, "k", "two"); err != nil {
			t.Fatalf("PutMeta over an existing key: %v", err)
		}
		if v, err := s.GetMeta(ctx, "k"); err != nil || v != "two" {
			t.Fatalf("GetMeta(k) after upsert = %q, %v; want two", v, err)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM meta WHERE key = 'k'`); n != 1 {
			t.Fatalf("%d rows for k, want 1", n)
		}
		var at2 int64
		if err := s.DB.QueryRowContext(ctx, `SELECT updated_at FROM meta WHERE key = 'k'`).Scan(&at2); err != nil {
			t.Fatal(err)
		}
		if at2 <= at1 {
			t.Errorf("updated_at %d after upsert, want later than %d", at2, at1)
		}
		// Values survive as given, and other keys are untouched.
		odd := "ünïcødé 'quoted' \"double\" \n line; DROP TABLE meta; --"
		if err := s.PutMeta(ctx, "odd", odd); err != nil {
			t.Fatal(err)
		}
		if v, err := s.GetMeta(ctx, "odd"); err != nil || v != odd {
			t.Fatalf("GetMeta(odd) = %q, %v; want %q", v, err, odd)
		}
		if v, err := s.GetMeta(ctx, "k"); err != nil || v != "two" {
			t.Fatalf("GetMeta(k) = %q, %v; want two", v, err)
		}
		// Visible from another store on the same database.
		if v, err := openSame(t, s).GetMeta(ctx, "k"); err != nil || v != "two" {
			t.Fatalf("GetMeta(k) from another store = %q, %v; want two", v, err)
		}
	})
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestInstallationID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx := context.Background()
		s := migrated(t, open)
		id, err := s.InstallationID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !hexID.MatchString(id) {
			t.Fatalf("InstallationID = %q, want 32 hex digits", id)
		}
		for range 3 {
			if again, err := s.InstallationID(ctx); err != nil || again != id {
				t.Fatalf("InstallationID again = %q, %v; want %q", again, err, id)
			}
		}
		if other, err := openSame(t, s).InstallationID(ctx); err != nil || other != id {
			t.Fatalf("InstallationID from another store = %q, %v; want %q", other, err, id)
		}
		if v, err := s.GetMeta(ctx, "installation_id"); err != nil || v != id {
			t.Fatalf("GetMeta(installation_id) = %q, %v; want %q", v, err, id)
		}
		if n := countRows(t, s, `SELECT COUNT(*) FROM meta`); n != 1 {
			t.Errorf("meta has %d rows, want 1", n)
		}
		// A second database has an id of its own.
		if fresh, err := migrated(t, open).InstallationID(ctx); err != nil || fresh == id {
			t.Errorf("InstallationID of another database = %q, %v; want a different id", fresh, err)
		}
	})
}

func TestInstallationIDConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		first := migrated(t, open)
		stores := []*Store{first, openSame(t, first), openSame(t, first)}
		const perStore = 4
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			mu    sync.Mutex
			ids   = map[string]int{}
		)
		for _, s := range stores {
			for range perStore {
				wg.Go(func() {
					<-start
					id, err := s.InstallationID(ctx)
					if err != nil {
						t.Errorf("InstallationID: %v", err)
						return
					}
					mu.Lock()
					ids[id]++
					mu.Unlock()
				})
			}
		}
		close(start)
		wg.Wait()
		if len(ids) != 1 {
			t.Fatalf("concurrent InstallationID gave %d ids: %v", len(ids), ids)
		}
		for id, n := range ids {
			if n != len(stores)*perStore || !hexID.MatchString(id) {
				t.Fatalf("ids = %v, want one 32-hex id %d times", ids, len(stores)*perStore)
			}
			if stored, err := first.GetMeta(ctx, "installation_id"); err != nil || stored != id {
				t.Fatalf("stored id = %q, %v; want %q", stored, err, id)
			}
		}
	})
}

func TestMaintainStopsOnCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := migrated(t, open)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Maintain(ctx) }()
		select {
		case err := <-done:
			t.Fatalf("Maintain returned before ctx ended: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Maintain = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Maintain did not return within 5s of ctx being cancelled")
		}
		// The store is still usable afterwards.
		if err := s.Ready(context.Background()); err != nil {
			t.Fatalf("Ready after Maintain: %v", err)
		}
	})
}
