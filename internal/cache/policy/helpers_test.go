package policy

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct{ nanos atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// ev is a recorded OnEvict call.
type ev struct {
	Key string
	R   Reason
	E   *Entry
}

func (e ev) String() string { return e.Key + ":" + e.R.String() }

// recorder records OnEvict calls.
type recorder struct {
	mu  sync.Mutex
	evs []ev
}

func (r *recorder) onEvict(e *Entry, why Reason) {
	r.mu.Lock()
	r.evs = append(r.evs, ev{e.Key, why, e})
	r.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (r *recorder) take() []ev {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}

func evString(evs []ev) string {
	s := make([]string, len(evs))
	for i, e := range evs {
		s[i] = e.String()
	}
	return strings.Join(s, " ")
}

// settle makes an adaptive cache report what otter removed in the background: its maintenance
// passes run on goroutines of their own. CleanUp waits for a pass in progress and does what a
// pass still to start would do (with a fake clock that has not moved since, a later pass finds
// nothing to remove), then report delivers the queue. It is a no-op for the other policies.
func settle(c Cache) {
	if s, ok := c.(*switcher); ok {
		if a, ok := s.cur.Load().c.(*adaptive); ok {
			a.c.CleanUp()
			a.report()
		}
		s.report()
	}
}

// item returns an entry whose weight is EntryOverhead + len(key) + size.
func item(key string, size int) *Entry {
	return &Entry{Key: key, Value: make([]byte, size)}
}

func itemExp(key string, size int, exp time.Time) *Entry {
	e := item(key, size)
	e.ExpiresAt = exp
	return e
}

func mustNew(t testing.TB, policy string, cfg Config) Cache {
	t.Helper()
	c, err := New(policy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSet(t testing.TB, c Cache, e *Entry) {
	t.Helper()
	if err := c.Set(e); err != nil {
		t.Fatalf("Set(%q): %v", e.Key, err)
	}
}

func sortedKeys(c Cache) []string {
	k := c.Keys()
	slices.Sort(k)
	return k
}

func wantEvents(t *testing.T, rec *recorder, want string) {
	t.Helper()
	if got := evString(rec.take()); got != want {
		t.Fatalf("evictions = %q, want %q", got, want)
	}
}

func wantKeys(t *testing.T, c Cache, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := sortedKeys(c); !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
}

// checkLimits fails if the cache is over its limits.
func checkLimits(t testing.TB, c Cache, maxBytes int64, maxItems int) {
	t.Helper()
	if b := c.Bytes(); b > maxBytes {
		t.Fatalf("%s: Bytes() = %d > MaxBytes %d", c.Policy(), b, maxBytes)
	}
	if n := c.Len(); maxItems > 0 && n > maxItems {
		t.Fatalf("%s: Len() = %d > MaxItems %d", c.Policy(), n, maxItems)
	}
}
