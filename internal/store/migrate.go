package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema change.
type Migration struct {
	Version  int64
	Name     string
	SQL      string
	Checksum string // hex SHA-256 of the file
}

// MigrationStatus is a migration as the database sees it.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
	// Changed is true when the applied migration's checksum differs from
	// the file this binary embeds (the file was edited after it ran).
	Changed bool
	// Unknown is true for a version recorded in the database that this
	// binary does not embed (a newer binary migrated the database).
	Unknown bool
}

// loadMigrations reads and checks the dialect's embedded migrations: files
// named NNNN_name.sql, with unique, increasing versions.
func loadMigrations(d Dialect) ([]Migration, error) {
	dir := "migrations/" + d.Name()
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int64]string{}
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.sql", dir, e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: name, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrations returns the migrations this binary embeds for the store's dialect.
func (s *Store) Migrations() []Migration { return s.migrations }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	checksum   TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// ErrMigrationChanged reports an applied migration whose file was edited
// afterwards: the database may not match what the binary expects.
var ErrMigrationChanged = errors.New("applied migration was changed")

// lockedTx runs fn in a transaction that first takes the migration lock.
func (s *Store) lockedTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.Tx(ctx, func(tx *sql.Tx) error {
		if q, args := s.Dialect.lockMigrations(); q != "" {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
		}
		return fn(tx)
	})
}

// Migrate applies every pending migration, each in its own transaction
// under a lock, so that several instances starting together apply each
// migration exactly once. It refuses to go on when an applied migration's
// file was changed. It returns the migrations it applied.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	migs := s.migrations
	err := s.lockedTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := s.checkApplied(ctx, migs); err != nil {
		return nil, err
	}
	var applied []Migration
	for _, m := range migs {
		did := false
		err := s.lockedTx(ctx, func(tx *sql.Tx) error {
			var one int
			switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = $1`, m.Version).Scan(&one); {
			case err == nil:
				return nil // applied already, maybe by another instance
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`,
				m.Version, m.Name, m.Checksum, Now())
			did = err == nil
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if did {
			applied = append(applied, m)
		}
	}
	return applied, nil
}

func (s *Store) checkApplied(ctx context.Context, migs []Migration) error {
	st, err := s.statusOf(ctx, migs)
	if err != nil {
		return err
	}
	for _, m := range st {
		if m.Changed {
			return fmt.Errorf("%w: %04d_%s differs from the file that was applied; restore the original file and add a new migration instead",
				ErrMigrationChanged, m.Version, m.Name)
		}
	}
	return nil
}

// MigrationStatus lists the embedded migrations with whether each is
// applied, followed by any version the database has that this binary does
// not know.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	return s.statusOf(ctx, s.migrations)
}

func (s *Store) statusOf(ctx context.Context, migs []Migration) ([]MigrationStatus, error) {
	type row struct {
		name, sum string
		at        int64
	}
	applied := map[int64]row{}
	rows, err := s.DB.QueryContext(ctx, `SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		if !s.hasMigrationsTable(ctx) {
			rows = nil // nothing applied yet
		} else {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
	}
	if rows != nil {
		defer rows.Close()
		for rows.Next() {
			var v int64
			var r row
			if err := rows.Scan(&v, &r.name, &r.sum, &r.at); err != nil {
				return nil, err
			}
			applied[v] = r
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []MigrationStatus
	for _, m := range migs {
		st := MigrationStatus{Version: m.Version, Name: m.Name}
		if r, ok := applied[m.Version]; ok {
			st.Applied = true
			st.AppliedAt = time.UnixMilli(r.at).UTC()
			st.Changed = r.sum != m.Checksum
			delete(applied, m.Version)
		}
		out = append(out, st)
	}
	var unknown []int64
	for v := range applied {
		unknown = append(unknown, v)
	}
	sort.Slice(unknown, func(i, j int) bool { return unknown[i] < unknown[j] })
	for _, v := range unknown {
		r := applied[v]
		out = append(out, MigrationStatus{Version: v, Name: r.name, Applied: true, AppliedAt: time.UnixMilli(r.at).UTC(), Unknown: true})
	}
	return out, nil
}

func (s *Store) hasMigrationsTable(ctx context.Context) bool {
	var n int
	return s.DB.QueryRowContext(ctx, s.Dialect.tableExistsQuery(), "schema_migrations").Scan(&n) == nil && n > 0
}
