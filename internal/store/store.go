// Package store opens the service's database, embedded SQLite by default or
// PostgreSQL in production, from one URL, and applies the embedded,
// versioned migrations of its dialect.
//
// Both engines are reached through database/sql, with $1 placeholders,
// RETURNING and ON CONFLICT ... excluded, which work on both. Instants are
// stored as INTEGER unix milliseconds. What differs between the engines is
// kept in dialect.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/painel-universal/painel/internal/config"
)

// Store is an open database with its dialect.
type Store struct {
	DB      *sql.DB
	Dialect Dialect
	// Target is what was opened: the SQLite file path, or the PostgreSQL
	// URL with its password redacted.
	Target string

	migrations []Migration
}

// Open opens the database named by rawURL (see config.ParseDatabaseURL);
// an empty URL means SQLite at dataDir/painel.db. The SQLite file's folder
// is created when missing. Open checks the connection before returning.
func Open(ctx context.Context, rawURL, dataDir string) (*Store, error) {
	kind, target, err := config.ParseDatabaseURL(rawURL, dataDir)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	var s *Store
	switch kind {
	case config.SQLite:
		s, err = openSQLite(target)
	case config.Postgres:
		s, err = openPostgres(target)
	}
	if err != nil {
		return nil, err
	}
	if s.migrations, err = loadMigrations(s.Dialect); err != nil {
		s.DB.Close()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.DB.PingContext(pctx); err != nil {
		s.DB.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", s.Dialect.Name(), s.Target, err)
	}
	return s, nil
}

func openSQLite(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	// WAL lets readers run beside the one writer; busy_timeout makes a
	// writer wait for the lock instead of failing; _txlock=immediate takes
	// the write lock at BEGIN, so two transactions never deadlock upgrading
	// a read lock; foreign keys are off by default in SQLite. The path goes
	// into a file: URI, where %, ? and # would otherwise be read as an
	// escape, the start of the options and a fragment.
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{DB: db, Dialect: SQLiteDialect, Target: path}, nil
}

func openPostgres(rawURL string) (*Store, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", config.Redact(rawURL), err)
	}
	db.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
	db.SetMaxIdleConns(max(4, runtime.NumCPU()))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	return &Store{DB: db, Dialect: PostgresDialect, Target: config.Redact(rawURL)}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.DB.Close() }

// Tx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (also when fn panics).
func (s *Store) Tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ErrNotMigrated reports a database whose schema is behind this binary.
var ErrNotMigrated = errors.New("database schema is not up to date")

// Ready checks that the database answers and that every migration this
// binary knows is applied.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	var n int
	want := len(s.migrations)
	if want == 0 {
		return nil
	}
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version <= $1`,
		s.migrations[want-1].Version).Scan(&n)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotMigrated, err)
	}
	if n < want {
		return fmt.Errorf("%w: %d of %d migrations applied", ErrNotMigrated, n, want)
	}
	return nil
}

// Now returns the current instant as stored: unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

// maintenanceInterval is how often Maintain tunes the database.
const maintenanceInterval = time.Hour

// Maintain runs until ctx ends, keeping the database tuned: on SQLite it
// runs PRAGMA optimize (what SQLite recommends for long-lived connections,
// so the query planner's statistics stay current) every hour and once more
// when stopping. PostgreSQL's autovacuum does this itself.
func (s *Store) Maintain(ctx context.Context) error {
	if s.Dialect != SQLiteDialect {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(maintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Bounded: the store is closed right after the workers stop.
			octx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := s.DB.ExecContext(octx, `PRAGMA optimize`)
			return err
		case <-t.C:
			if _, err := s.DB.ExecContext(ctx, `PRAGMA optimize`); err != nil && ctx.Err() == nil {
				return fmt.Errorf("PRAGMA optimize: %w", err)
			}
		}
	}
}
