package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// model is a reference LRU or FIFO cache: a slice in eviction order.
type model struct {
	lru      bool
	order    []*Entry // first = next victim
	maxBytes int64
	maxItems int
	evs      []ev
}

func (m *model) bytes() int64 {
	var b int64
	for _, e := range m.order {
		b += e.Weight()
	}
	return b
}

func (m *model) find(key string) int {
	return slices.IndexFunc(m.order, func(e *Entry) bool { return e.Key == key })
}

func (m *model) evict(r Reason, i int) {
	m.evs = append(m.evs, ev{m.order[i].Key, r, m.order[i]})
	m.order = slices.Delete(m.order, i, i+1)
}

// fit evicts from the front, skipping skip, until extra bytes and items fit.
func (m *model) fit(extraBytes int64, extraItems int, skip string) {
	for m.bytes()+extraBytes > m.maxBytes || (m.maxItems > 0 && len(m.order)+extraItems > m.maxItems) {
		i := 0
		if i < len(m.order) && m.order[i].Key == skip {
			i++
		}
		if i >= len(m.order) {
			return
		}
		m.evict(Size, i)
	}
}

func (m *model) set(e *Entry) error {
	if e.Weight() > m.maxBytes {
		return ErrTooLarge
	}
	if i := m.find(e.Key); i >= 0 {
		m.evs = append(m.evs, ev{e.Key, Replaced, m.order[i]})
		if m.lru {
			m.order = append(slices.Delete(m.order, i, i+1), e)
		} else {
			m.order[i] = e
		}
		m.fit(0, 0, e.Key)
		return nil
	}
	m.fit(e.Weight(), 1, "")
	m.order = append(m.order, e)
	return nil
}

func (m *model) get(key string) (*Entry, bool) {
	i := m.find(key)
	if i < 0 {
		return nil, false
	}
	e := m.order[i]
	if m.lru {
		m.order = append(slices.Delete(m.order, i, i+1), e)
	}
	return e, true
}

func (m *model) keys() []string {
	k := make([]string, len(m.order))
	for i, e := range m.order {
		k[i] = e.Key
	}
	slices.Sort(k)
	return k
}

// TestModel replays random operations on lru and fifo and on the reference model, and compares
// every result, the evictions in order, Len, Bytes and the keys after each operation.
func TestModel(t *testing.T) {
	for _, p := range []string{LRU, FIFO} {
		t.Run(p, func(t *testing.T) {
			for seed := range uint64(40) {
				runModel(t, p, seed)
			}
		})
	}
}

func runModel(t *testing.T, p string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	rec := &recorder{}
	maxBytes := int64(300 + rng.IntN(1500))
	maxItems := 0
	if rng.IntN(2) == 0 {
		maxItems = 1 + rng.IntN(8)
	}
	c := mustNew(t, p, Config{MaxBytes: maxBytes, MaxItems: maxItems, OnEvict: rec.onEvict})
	m := &model{lru: p == LRU, maxBytes: maxBytes, maxItems: maxItems}
	nkeys := 4 + rng.IntN(20)
	var trace []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d, after %v:\n"+format, append([]any{seed, trace}, args...)...)
	}
	for step := range 400 {
		key := fmt.Sprint("k", rng.IntN(nkeys))
		switch op := rng.IntN(100); {
		case op < 45:
			e := &Entry{Key: key, Value: make([]byte, rng.IntN(250)), ContentType: "x"}
			if rng.IntN(4) == 0 {
				e.Tags = []string{"t", fmt.Sprint(step)}
			}
			trace = append(trace, fmt.Sprintf("set(%s,%d)", key, e.Weight()))
			got, want := c.Set(e), m.set(e)
			if got != want {
				fail("Set error %v, model %v", got, want)
			}
		case op < 80:
			trace = append(trace, "get("+key+")")
			ge, gok := c.Get(key)
			me, mok := m.get(key)
			if gok != mok || (gok && (ge.Key != me.Key || len(ge.Value) != len(me.Value) || ge.Weight() != me.Weight())) {
				fail("Get = %v %v, model %v %v", ge, gok, me, mok)
			}
		case op < 85:
			trace = append(trace, "peek("+key+")")
			_, gok := c.Peek(key)
			if gok != (m.find(key) >= 0) {
				fail("Peek = %v", gok)
			}
		case op < 95:
			trace = append(trace, "delete("+key+")")
			i := m.find(key)
			if i >= 0 {
				m.evict(Deleted, i)
			}
			if got := c.Delete(key); got != (i >= 0) {
				fail("Delete = %v", got)
			}
		case op < 99:
			mb, mi := int64(200+rng.IntN(1600)), rng.IntN(10)
			if rng.IntN(3) == 0 {
				mb = -1
			}
			trace = append(trace, fmt.Sprintf("resize(%d,%d)", mb, mi))
			c.Resize(mb, mi)
			if mb > 0 {
				m.maxBytes = mb
			}
			m.maxItems = mi
			m.fit(0, 0, "")
		default:
			trace = append(trace, "clear")
			c.Clear()
			// Clear reports in map order
			got := rec.take()
			if len(got) != len(m.order) {
				fail("Clear reported %d, model has %d", len(got), len(m.order))
			}
			m.order = nil
			m.evs = nil
		}
		if got, want := evString(rec.take()), evString(m.evs); got != want {
			fail("evictions %q, model %q", got, want)
		}
		m.evs = nil
		if c.Len() != len(m.order) || c.Bytes() != m.bytes() {
			fail("Len %d Bytes %d, model %d %d", c.Len(), c.Bytes(), len(m.order), m.bytes())
		}
		if got := sortedKeys(c); !slices.Equal(got, m.keys()) {
			fail("keys %v, model %v", got, m.keys())
		}
		checkLimits(t, c, m.maxBytes, m.maxItems)
	}
}

// TestRandomInvariants runs random operations, with expiry and a moving clock, on every policy
// and checks after each one: the limits; that Len and Bytes match the entries the cache took and
// has not reported gone (each accepted entry is reported exactly once); that no expired entry
// is returned; and that Get returns the last value set under a key, if any.
func TestRandomInvariants(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		for seed := range uint64(20) {
			runInvariants(t, p, seed)
		}
	})
}

func runInvariants(t *testing.T, p string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	rec := &recorder{}
	clk := newClock()
	maxBytes := int64(500 + rng.IntN(3000))
	maxItems := 0
	if rng.IntN(2) == 0 {
		maxItems = 2 + rng.IntN(15)
	}
	c := mustNew(t, p, Config{MaxBytes: maxBytes, MaxItems: maxItems, OnEvict: rec.onEvict, Now: clk.Now})
	// An entry is identified by its value's backing array, which the cache's copy shares.
	id := func(e *Entry) *byte { return &e.Value[0] }
	live := map[*byte]*Entry{} // accepted and not reported
	last := map[string]*byte{} // the key's last accepted entry, until reported
	accepted, reported := 0, 0
	absorb := func() {
		settle(c)
		for _, e := range rec.take() {
			i := id(e.E)
			if live[i] == nil {
				t.Fatalf("seed %d: %v reported twice or never stored", seed, e)
			}
			delete(live, i)
			reported++
			if last[e.Key] == i {
				delete(last, e.Key)
			}
		}
	}
	for range 1500 {
		key := fmt.Sprint("k", rng.IntN(60))
		switch op := rng.IntN(100); {
		case op < 45:
			e := item(key, 1+rng.IntN(300))
			if rng.IntN(2) == 0 {
				e.ExpiresAt = clk.Now().Add(time.Duration(rng.IntN(5000)-200) * time.Millisecond)
			}
			live[id(e)] = e // before Set: it may be reported at once
			if err := c.Set(e); err != nil {
				delete(live, id(e))
				if e.Weight() <= maxBytes {
					t.Fatalf("seed %d: Set: %v", seed, err)
				}
				break
			}
			accepted++
			last[key] = id(e)
		case op < 80:
			now := clk.Now()
			e, ok := c.Get(key)
			if ok {
				if !e.ExpiresAt.IsZero() && !e.ExpiresAt.After(now) {
					t.Fatalf("seed %d: Get returned %q expired at %v, now %v", seed, key, e.ExpiresAt, now)
				}
				if last[key] != id(e) {
					t.Fatalf("seed %d: Get returned a stale entry for %q", seed, key)
				}
			}
		case op < 88:
			c.Delete(key)
		case op < 97:
			clk.Advance(time.Duration(rng.IntN(400)) * time.Millisecond)
		case op < 98:
			c.RemoveExpired()
		case op < 99:
			mb := int64(300 + rng.IntN(3000))
			mi := rng.IntN(15)
			c.Resize(mb, mi)
			maxBytes, maxItems = mb, mi
		default:
			c.Clear()
		}
		checkLimits(t, c, maxBytes, maxItems)
		absorb()
		var b int64
		for _, e := range live {
			b += e.Weight()
		}
		if c.Len() != len(live) || c.Bytes() != b {
			t.Fatalf("seed %d: Len %d Bytes %d, but %d entries of %d bytes stored and not reported", seed, c.Len(), c.Bytes(), len(live), b)
		}
	}
	c.Clear()
	absorb()
	if len(live) != 0 || accepted != reported {
		t.Fatalf("seed %d: %d accepted, %d reported, %d never reported", seed, accepted, reported, len(live))
	}
}
