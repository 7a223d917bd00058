package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a database engine. The few real differences between the
// engines live here; everything else is portable SQL.
type Dialect string

// The supported dialects.
const (
	SQLiteDialect   Dialect = "sqlite"
	PostgresDialect Dialect = "postgres"
)

// Name returns the engine's name.
func (d Dialect) Name() string { return string(d) }

// migrationLockKey is the PostgreSQL advisory lock that serialises
// migrations across instances ("painel" in ASCII).
const migrationLockKey = 0x7061696e656c

// lockMigrations returns the statement that, run first in a transaction,
// keeps other instances from migrating at the same time. SQLite needs none:
// its transactions start with BEGIN IMMEDIATE, which already takes the
// database's write lock.
func (d Dialect) lockMigrations() (string, []any) {
	if d == PostgresDialect {
		return `SELECT pg_advisory_xact_lock($1)`, []any{int64(migrationLockKey)}
	}
	return "", nil
}

// tableExistsQuery counts the tables named $1 in the current schema.
func (d Dialect) tableExistsQuery() string {
	if d == PostgresDialect {
		return `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	return `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation, on either engine.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
