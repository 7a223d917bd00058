// Package testenv finds the outside services that some tests need
// (PostgreSQL, Redis, Chromium). A missing service skips the test with a
// message naming the variable to set, unless PAINEL_REQUIRE_SERVICES=1 (as
// in CI), where it fails the test instead.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Required reports whether missing services fail tests instead of
// skipping them.
func Required() bool { return os.Getenv("PAINEL_REQUIRE_SERVICES") == "1" }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("PAINEL_REQUIRE_SERVICES=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// PostgresURL returns PAINEL_TEST_POSTGRES_URL, or skips (fails) the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PAINEL_TEST_POSTGRES_URL")
	if u == "" {
		missing(t, "PostgreSQL test skipped: set PAINEL_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// RedisURL returns PAINEL_TEST_REDIS_URL, or skips (fails) the test.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PAINEL_TEST_REDIS_URL")
	if u == "" {
		missing(t, "Redis test skipped: set PAINEL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
	}
	return u
}

// Chromium returns the path of a Chromium binary (PAINEL_TEST_CHROMIUM, or
// chromium / chromium-browser / google-chrome on PATH), or skips (fails)
// the test.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PAINEL_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "browser test skipped: install chromium (apt-get install chromium) or set PAINEL_TEST_CHROMIUM")
	return ""
}

// FreshPostgresURL creates a PostgreSQL schema with a random name, drops it
// (with everything in it) when the test ends, and returns
// PAINEL_TEST_POSTGRES_URL with search_path set to it, so each test has a
// database of its own. Without the variable it skips (or fails) the test.
func FreshPostgresURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "painel_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Cleanups run last in, first out: stores opened on this schema later
	// are closed before it is dropped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
