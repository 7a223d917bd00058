package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAdaptiveLimitsAfterSet: otter evicts in maintenance passes that normally run later; the
// wrapper must have evicted when Set returns.
func TestAdaptiveLimitsAfterSet(t *testing.T) {
	for _, maxItems := range []int{0, 100} {
		rec := &recorder{}
		c := mustNew(t, Adaptativo, Config{MaxBytes: 50_000, MaxItems: maxItems, OnEvict: rec.onEvict})
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range 20_000 {
			mustSet(t, c, item(fmt.Sprint("k", rng.IntN(5000)), rng.IntN(1000)))
			checkLimits(t, c, 50_000, maxItems)
			if i%3 == 0 {
				c.Get(fmt.Sprint("k", rng.IntN(5000)))
			}
		}
		sizes := 0
		for _, e := range rec.take() {
			if e.R == Size {
				sizes++
			}
		}
		if sizes == 0 {
			t.Fatal("no evictions for size")
		}
	}
}

// TestAdaptiveAdmission: W-TinyLFU keeps part of a working set that is still in use against a
// scan of new keys, where LRU of the same size loses all of it (each hot key is reused after
// about 200 other keys, in a cache of 150).
func TestAdaptiveAdmission(t *testing.T) {
	w := item("hot00", 100).Weight()
	hot := func(i int) string { return fmt.Sprintf("hot%02d", i%100) }
	for _, p := range []string{Adaptativo, LRU} {
		c := mustNew(t, p, Config{MaxBytes: 150 * w})
		for i := range 100 {
			mustSet(t, c, item(hot(i), 100))
		}
		hits := 0
		for i := range 20_000 {
			mustSet(t, c, item(fmt.Sprintf("s%05d", i), 95))
			if _, ok := c.Get(hot(i)); ok {
				if i >= 10_000 {
					hits++
				}
			} else {
				mustSet(t, c, item(hot(i), 100)) // cache-aside
			}
		}
		t.Logf("%s: %d of the last 10000 hot reads hit", p, hits)
		if p == Adaptativo && hits < 9_000 {
			t.Fatalf("adaptativo kept too little of the working set: %d hits", hits)
		}
		if p == LRU && hits != 0 {
			t.Fatalf("the test does not separate W-TinyLFU from LRU: LRU had %d hits", hits)
		}
	}
}

// TestGetAllocs: a Get hit allocates nothing.
func TestGetAllocs(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		c := mustNew(t, p, Config{MaxBytes: 1 << 20})
		for i := range 100 {
			mustSet(t, c, item(fmt.Sprint(i), 10))
		}
		keys := make([]string, 100)
		for i := range keys {
			keys[i] = fmt.Sprint(i)
		}
		i := 0
		if n := testing.AllocsPerRun(1000, func() {
			if _, ok := c.Get(keys[i%100]); !ok {
				t.Fatal("miss")
			}
			i++
		}); n != 0 {
			t.Fatalf("%v allocations per Get", n)
		}
	})
}

// TestAdaptiveRealClockExpiry: with the real clock otter reads a coarse clock, which lags; the
// wrapper must still never return an entry past its ExpiresAt.
func TestAdaptiveRealClockExpiry(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, Adaptativo, Config{MaxBytes: 1 << 20, OnEvict: rec.onEvict})
	for i := range 20 {
		key := fmt.Sprint("k", i)
		exp := time.Now().Add(time.Millisecond)
		mustSet(t, c, itemExp(key, 10, exp))
		mustSet(t, c, item("other", 10))
		for !time.Now().After(exp) {
		}
		if _, ok := c.Peek(key); ok {
			t.Fatalf("Peek returned %s after its ExpiresAt", key)
		}
		if keys := c.Keys(); len(keys) != 1 || keys[0] != "other" {
			t.Fatalf("Keys() = %v after %s expired", keys, key)
		}
		if _, ok := c.Get(key); ok {
			t.Fatalf("Get returned %s after its ExpiresAt", key)
		}
		if c.Len() != 1 {
			t.Fatalf("Len() = %d: Get did not remove the expired entry", c.Len())
		}
	}
	n := 0
	for _, e := range rec.take() {
		if e.R == Expired {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("%d entries reported expired, want 20", n)
	}
}

// TestAdaptiveItemSlack: when the item limit binds, adaptativo evicts a batch of MaxItems/64
// extra entries, never more.
func TestAdaptiveItemSlack(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, Adaptativo, Config{MaxBytes: 1 << 30, MaxItems: 640, OnEvict: rec.onEvict})
	for i := range 5000 {
		mustSet(t, c, item(fmt.Sprint("k", i), 10))
		if n := c.Len(); n > 640 || (i >= 640 && n < 640-10-1) {
			t.Fatalf("after %d Sets: Len() = %d", i+1, n)
		}
	}
	evs := rec.take()
	if len(evs) != 5000-c.Len() {
		t.Fatalf("%d evictions for %d entries gone", len(evs), 5000-c.Len())
	}
	for _, e := range evs {
		if e.R != Size {
			t.Fatalf("eviction %v", e)
		}
	}
}
