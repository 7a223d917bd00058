package chunk

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openSQLite opens path with the service's pragmas (internal/store): WAL,
// busy_timeout, immediate transactions. pageSize > 0 sets the page size
// of a new database, before the switch to WAL.
func openSQLite(t testing.TB, path string, pageSize int, wal bool) *sql.DB {
	t.Helper()
	dsn := fileURI(path) + "?_pragma=busy_timeout(10000)&_txlock=immediate&_pragma=synchronous(NORMAL)"
	if pageSize > 0 {
		dsn += fmt.Sprintf("&_pragma=page_size(%d)", pageSize)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The driver applies _pragma options in its own order, and a database
	// in WAL mode cannot change its page size: switch once it is set.
	if wal {
		if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

var syllables = []string{"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "xi", "zu", "ba", "de", "fi", "go", "hu", "ja", "pe", "qi", "ro", "ty"}

// vocabulary returns n pseudo-words, like the backup dataset's gen.py.
func vocabulary(rng *rand.Rand, n int) []string {
	v := make([]string, n)
	for i := range v {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		v[i] = b.String()
	}
	return v
}

func words(rng *rand.Rand, vocab []string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocab[rng.IntN(len(vocab))])
	}
	return b.String()
}

var eventKinds = []string{"upload", "login", "render", "export", "comment", "share", "delete", "edit"}

// fillEvents creates the backup dataset's events table (gen.py's schema and
// row shape: ~450 bytes a row, two indexes) with rows rows in db.
func fillEvents(t testing.TB, db *sql.DB, rows int, seed uint64) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	rng := rand.New(rand.NewPCG(seed, 42))
	vocab := vocabulary(rng, 5000)
	if _, err := db.ExecContext(ctx, `CREATE TABLE events(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
		created_at TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, token TEXT NOT NULL,
		updated_at TEXT)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO events(id,user_id,created_at,kind,title,body,token) VALUES(?,?,?,?,?,?,?)`)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Unix(1_600_000_000, 0).UTC()
	for i := 1; i <= rows; i++ {
		ts := base.Add(time.Duration(i*30+rng.IntN(30)) * time.Second).Format("2006-01-02T15:04:05Z")
		tok := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		if _, err := st.ExecContext(ctx, i, 1+rng.IntN(50000), ts, eventKinds[rng.IntN(len(eventKinds))],
			words(rng, vocab, 6), words(rng, vocab, 30+rng.IntN(31)), tok); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE INDEX ev_user ON events(user_id, created_at)`,
		`CREATE INDEX ev_kind ON events(kind, created_at)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("filled %d event rows in %v", rows, time.Since(start).Round(time.Millisecond))
}

// scatterUpdate rewrites the body of pct% of the events rows, picked at
// random (mutate.py scatter).
func scatterUpdate(t testing.TB, db *sql.DB, rows int, pct float64, seed uint64) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	vocab := vocabulary(rng, 5000)
	k := int(float64(rows) * pct / 100)
	ids := rng.Perm(rows)[:k]
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET body = ?, updated_at = ? WHERE id = ?`,
			words(rng, vocab, 30+rng.IntN(31)), "2026-01-01T00:00:00Z", id+1); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// txWriter commits one transaction per step on its own goroutine until stopped, for the tests
// that copy a database while it is written: pending is the step being tried, committed the
// last one committed.
type txWriter struct {
	pending, committed atomic.Int64
	err                error // the first error, once done is closed
	done               chan struct{}
	stop               context.CancelFunc
	wg                 sync.WaitGroup
}

// startTxWriter runs step(tx, n) in a transaction for n = 1, 2, ..., one every `every` (0: back to
// back), until Stop or a failure; the test's cleanup stops it.
func startTxWriter(t *testing.T, db *sql.DB, every time.Duration, step func(tx *sql.Tx, n int64) error) *txWriter {
	w := &txWriter{done: make(chan struct{})}
	ctx, stop := context.WithCancel(t.Context())
	w.stop = stop
	w.wg.Go(func() {
		defer close(w.done)
		var tick <-chan time.Time
		if every > 0 {
			tk := time.NewTicker(every)
			defer tk.Stop()
			tick = tk.C
		}
		for n := int64(1); ; n++ {
			if tick != nil {
				select {
				case <-ctx.Done():
					return
				case <-tick:
				}
			} else if ctx.Err() != nil {
				return
			}
			w.pending.Store(n)
			tx, err := db.BeginTx(ctx, nil)
			if err == nil {
				if err = step(tx, n); err == nil {
					err = tx.Commit()
				} else {
					_ = tx.Rollback()
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					w.err = err
				}
				return
			}
			w.committed.Store(n)
		}
	})
	t.Cleanup(w.Stop)
	return w
}

// waitFor waits until n transactions are committed; a writer that fails first fails the test.
func (w *txWriter) waitFor(t *testing.T, n int64) {
	t.Helper()
	for w.committed.Load() < n {
		select {
		case <-w.done:
			t.Fatalf("writer: %v", w.err)
		case <-time.After(time.Millisecond):
		}
	}
}

// Stop ends the writer and waits for it; Err is then its failure, if any.
func (w *txWriter) Stop() { w.stop(); w.wg.Wait() }

func (w *txWriter) Err() error { w.Stop(); return w.err }
