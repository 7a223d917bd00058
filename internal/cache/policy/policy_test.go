package policy

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWeight(t *testing.T) {
	e := &Entry{Key: "abc", Value: make([]byte, 10), ContentType: "text/plain", Tags: []string{"x", "yz"}}
	if got, want := e.Weight(), int64(EntryOverhead+3+10+10+1+2); got != want {
		t.Fatalf("Weight() = %d, want %d", got, want)
	}
	if got := (&Entry{}).Weight(); got != EntryOverhead {
		t.Fatalf("empty Weight() = %d, want %d", got, EntryOverhead)
	}
}

func TestReasonString(t *testing.T) {
	want := map[Reason]string{Size: "tamanho", Expired: "expiracao", Deleted: "remocao", Cleared: "limpeza", Replaced: "substituicao"}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(r), r.String(), s)
		}
	}
	if len(want) != NumReasons {
		t.Fatalf("NumReasons = %d", NumReasons)
	}
	if s := Reason(99).String(); s != "Reason(99)" {
		t.Errorf("Reason(99).String() = %q", s)
	}
}

func TestNew(t *testing.T) {
	for _, p := range Policies() {
		c, err := New(p, Config{MaxBytes: 1000})
		if err != nil {
			t.Fatalf("New(%q): %v", p, err)
		}
		if c.Policy() != p {
			t.Errorf("Policy() = %q, want %q", c.Policy(), p)
		}
	}
	if _, err := New("arc", Config{MaxBytes: 1000}); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("New(arc) error = %v, want ErrUnknownPolicy", err)
	}
	if _, err := New(LRU, Config{}); err == nil {
		t.Error("New with MaxBytes 0: no error")
	}
	if _, err := New(LRU, Config{MaxBytes: 10, MaxItems: -1}); err == nil {
		t.Error("New with MaxItems -1: no error")
	}
}

// forEach runs f for every policy.
func forEach(t *testing.T, f func(t *testing.T, policy string)) {
	for _, p := range Policies() {
		t.Run(p, func(t *testing.T) { f(t, p) })
	}
}

func TestLRUOrder(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, LRU, Config{MaxBytes: 1 << 20, MaxItems: 3, OnEvict: rec.onEvict})
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, item(k, 1))
	}
	c.Get("a")                  // b c a
	mustSet(t, c, item("d", 1)) // evicts b: c a d
	c.Peek("c")                 // no recency
	mustSet(t, c, item("e", 1)) // evicts c: a d e
	mustSet(t, c, item("a", 2)) // overwrite: d e a
	mustSet(t, c, item("f", 1)) // evicts d: e a f
	wantEvents(t, rec, "b:tamanho c:tamanho a:substituicao d:tamanho")
	wantKeys(t, c, "a", "e", "f")
	if e, ok := c.Get("a"); !ok || len(e.Value) != 2 {
		t.Fatalf("Get(a) = %v, %v; want the overwritten value", e, ok)
	}
}

func TestLRUBytes(t *testing.T) {
	rec := &recorder{}
	w := item("a", 100).Weight() // all keys have one byte
	c := mustNew(t, LRU, Config{MaxBytes: 4 * w, OnEvict: rec.onEvict})
	for _, k := range []string{"a", "b", "c", "d"} {
		mustSet(t, c, item(k, 100))
	}
	c.Get("a") // b c d a
	// weighs 3w: evicts b, c, d
	mustSet(t, c, item("e", 100+2*int(w)))
	wantEvents(t, rec, "b:tamanho c:tamanho d:tamanho")
	wantKeys(t, c, "a", "e")
	checkLimits(t, c, 4*w, 0)
	// growing an entry in place evicts others, never itself
	mustSet(t, c, item("a", 100+int(w)))
	wantEvents(t, rec, "a:substituicao e:tamanho")
	wantKeys(t, c, "a")
}

func TestFIFOOrder(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, FIFO, Config{MaxBytes: 1 << 20, MaxItems: 3, OnEvict: rec.onEvict})
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, item(k, 1))
	}
	c.Get("a")                  // no reorder
	mustSet(t, c, item("a", 2)) // overwrite keeps a first
	mustSet(t, c, item("d", 1)) // evicts a
	mustSet(t, c, item("e", 1)) // evicts b
	evs := rec.take()
	if got := evString(evs); got != "a:substituicao a:tamanho b:tamanho" {
		t.Fatalf("evictions = %q", got)
	}
	if len(evs[1].E.Value) != 2 {
		t.Fatalf("evicted a has %d bytes, want the overwritten value", len(evs[1].E.Value))
	}
	wantKeys(t, c, "c", "d", "e")
	// a deleted key set again goes to the back
	c.Delete("c")
	mustSet(t, c, item("c", 1))
	mustSet(t, c, item("f", 1)) // evicts d
	wantEvents(t, rec, "c:remocao d:tamanho")
	// an overwrite that needs room skips itself although it is first
	w := item("x", 1).Weight()
	c.Resize(3*w+10, 0)          // e c f: 3 entries of weight w fit
	mustSet(t, c, item("e", 12)) // weighs w+11
	wantEvents(t, rec, "e:substituicao c:tamanho")
	wantKeys(t, c, "e", "f")
}

func TestLFUOrder(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, LFU, Config{MaxBytes: 1 << 20, MaxItems: 3, OnEvict: rec.onEvict})
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, item(k, 1))
	}
	for range 3 {
		c.Get("a")
	}
	c.Get("b")                  // a=4 b=2 c=1
	c.Peek("c")                 // no count
	mustSet(t, c, item("d", 1)) // evicts c
	mustSet(t, c, item("e", 1)) // evicts d, the only 1
	c.Get("e")                  // b=2 e=2, b less recent
	mustSet(t, c, item("f", 1)) // f is the 1, but it is new: evicts b
	wantEvents(t, rec, "c:tamanho d:tamanho b:tamanho")
	wantKeys(t, c, "a", "e", "f")
	// ties at count 1 go to the least recently used
	mustSet(t, c, item("g", 1)) // f=1 is the only 1
	c.Get("g")                  // g=2 e=2: e older
	c.Get("a")
	mustSet(t, c, item("h", 1)) // evicts e
	wantEvents(t, rec, "f:tamanho e:tamanho")
	// an overwrite counts as an access
	mustSet(t, c, item("h", 2)) // h=2
	mustSet(t, c, item("i", 1)) // g=2 older than h=2: evicts g
	wantEvents(t, rec, "h:substituicao g:tamanho")
	if o := c.(*local).ord.(*lfuOrder); o.halvings != 0 {
		t.Fatalf("%d halvings in %d accesses: the test assumes none", o.halvings, o.ops)
	}
}

// TestLFUAging: an entry that was hot long ago loses to entries that are hot now.
func TestLFUAging(t *testing.T) {
	rec := &recorder{}
	c := mustNew(t, LFU, Config{MaxBytes: 1 << 20, MaxItems: 3, OnEvict: rec.onEvict})
	mustSet(t, c, item("old", 1))
	for range 200 {
		c.Get("old")
	}
	mustSet(t, c, item("b", 1))
	mustSet(t, c, item("c", 1))
	// 2×40 accesses: without aging old (201) beats b and c (41 each)
	for range 40 {
		c.Get("b")
		c.Get("c")
	}
	mustSet(t, c, item("d", 1))
	wantEvents(t, rec, "old:tamanho")
	o := c.(*local).ord.(*lfuOrder)
	if o.halvings < 5 || o.period != agingFactor*3 {
		t.Fatalf("halvings = %d, period = %d", o.halvings, o.period)
	}
	// counts stay ordered and buckets distinct after the halvings
	var prev uint64
	n := 0
	for b := o.root.next; b != &o.root; b = b.next {
		if b.count <= prev || b.nodes.len == 0 {
			t.Fatalf("bucket %d after %d: %d nodes", b.count, prev, b.nodes.len)
		}
		for x := b.nodes.front(); x != nil; x = b.nodes.after(x) {
			if x.bkt != b {
				t.Fatalf("node %q points to another bucket", x.e.Key)
			}
			n++
		}
		prev = b.count
	}
	if n != c.Len() || o.size != n {
		t.Fatalf("%d nodes in buckets, size %d, Len %d", n, o.size, c.Len())
	}
}

// TestLFUHalve checks the halving and merging of buckets directly.
func TestLFUHalve(t *testing.T) {
	c := mustNew(t, LFU, Config{MaxBytes: 1 << 20, MaxItems: 100}).(*local)
	o := c.ord.(*lfuOrder)
	counts := map[string]int{"a": 1, "b": 2, "c": 3, "d": 3, "e": 4, "f": 7, "g": 8}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		mustSet(t, c, item(k, 1))
		for range counts[k] - 1 {
			c.Get(k)
		}
	}
	o.halve()
	// ceil halves: a,b=1 c,d,e=2 f,g=4; within a merged bucket the formerly lower counts first
	want := [][]string{{"a", "b"}, {"c", "d", "e"}, {"f", "g"}}
	wantCounts := []uint64{1, 2, 4}
	i := 0
	for b := o.root.next; b != &o.root; b = b.next {
		var keys []string
		for x := b.nodes.front(); x != nil; x = b.nodes.after(x) {
			keys = append(keys, x.e.Key)
		}
		if i >= len(want) || b.count != wantCounts[i] || fmt.Sprint(keys) != fmt.Sprint(want[i]) {
			t.Fatalf("bucket %d: count %d keys %v", i, b.count, keys)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d buckets", i)
	}
}

func TestTTLOrder(t *testing.T) {
	rec := &recorder{}
	clk := newClock()
	now := clk.Now()
	c := mustNew(t, TTL, Config{MaxBytes: 1 << 20, MaxItems: 4, OnEvict: rec.onEvict, Now: clk.Now})
	mustSet(t, c, item("x", 1))
	mustSet(t, c, itemExp("a", 1, now.Add(30*time.Second)))
	mustSet(t, c, itemExp("b", 1, now.Add(10*time.Second)))
	mustSet(t, c, item("y", 1))
	c.Get("b")                                              // no effect on the order
	mustSet(t, c, itemExp("c", 1, now.Add(20*time.Second))) // evicts b
	mustSet(t, c, item("z", 1))                             // evicts c
	mustSet(t, c, item("w", 1))                             // evicts a
	mustSet(t, c, item("v", 1))                             // evicts x, the first without expiry
	wantEvents(t, rec, "b:tamanho c:tamanho a:tamanho x:tamanho")
	// y z w v: giving z an expiry makes it first; taking it away from it puts it last
	mustSet(t, c, itemExp("z", 1, now.Add(time.Hour)))
	mustSet(t, c, item("u", 1)) // evicts z
	wantEvents(t, rec, "z:substituicao z:tamanho")
	mustSet(t, c, itemExp("y", 1, now.Add(time.Hour)))
	mustSet(t, c, item("y", 1)) // y goes behind w v u
	mustSet(t, c, item("t", 1)) // evicts w
	wantEvents(t, rec, "y:substituicao y:substituicao w:tamanho")
	// the ttl policy removes expired entries at every write, before any limit is reached
	c.Resize(-1, 0)
	mustSet(t, c, itemExp("s", 1, now.Add(5*time.Second)))
	clk.Advance(6 * time.Second)
	mustSet(t, c, item("r", 1))
	wantEvents(t, rec, "s:expiracao")
}

// TestExpiry: every policy hides expired entries and removes them with reason Expired.
func TestExpiry(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		rec := &recorder{}
		clk := newClock()
		now := clk.Now()
		c := mustNew(t, p, Config{MaxBytes: 1 << 20, OnEvict: rec.onEvict, Now: clk.Now})
		mustSet(t, c, itemExp("k1", 1, now.Add(10*time.Second)))
		mustSet(t, c, item("k2", 1))
		mustSet(t, c, itemExp("k3", 1, now.Add(20*time.Second)))
		clk.Advance(10*time.Second - 1)
		if _, ok := c.Get("k1"); !ok {
			t.Fatal("k1 expired early")
		}
		clk.Advance(1)
		if _, ok := c.Peek("k1"); ok {
			t.Fatal("Peek returned expired k1")
		}
		if _, ok := c.Get("k1"); ok {
			t.Fatal("Get returned expired k1")
		}
		settle(c)
		wantEvents(t, rec, "k1:expiracao")
		if c.Len() != 2 {
			t.Fatalf("Len = %d after Get removed k1", c.Len())
		}
		wantKeys(t, c, "k2", "k3")
		clk.Advance(10 * time.Second)
		wantKeys(t, c, "k2")
		if ok := c.Delete("k3"); ok {
			t.Fatal("Delete of expired k3 returned true")
		}
		settle(c)
		wantEvents(t, rec, "k3:expiracao")
		// RemoveExpired
		mustSet(t, c, itemExp("k4", 1, clk.Now().Add(time.Second)))
		mustSet(t, c, itemExp("k5", 1, clk.Now().Add(time.Hour)))
		clk.Advance(5 * time.Second)
		if n := c.RemoveExpired(); n != 1 {
			t.Fatalf("RemoveExpired() = %d, want 1", n)
		}
		settle(c)
		wantEvents(t, rec, "k4:expiracao")
		if c.Len() != 2 || c.Bytes() != item("k2", 1).Weight()+item("k5", 1).Weight() {
			t.Fatalf("Len = %d, Bytes = %d", c.Len(), c.Bytes())
		}
		// an overwrite can remove the expiry, or give one
		mustSet(t, c, item("k5", 1))
		mustSet(t, c, itemExp("k2", 1, clk.Now().Add(time.Second)))
		clk.Advance(time.Hour)
		if _, ok := c.Get("k5"); !ok {
			t.Fatal("k5 lost after its expiry was removed")
		}
		if _, ok := c.Get("k2"); ok {
			t.Fatal("k2 did not expire")
		}
		settle(c)
		wantEvents(t, rec, "k5:substituicao k2:substituicao k2:expiracao")
	})
}

// TestExpiredOnArrival: an entry already expired is not stored and is reported at once.
func TestExpiredOnArrival(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		rec := &recorder{}
		clk := newClock()
		c := mustNew(t, p, Config{MaxBytes: 1 << 20, OnEvict: rec.onEvict, Now: clk.Now})
		mustSet(t, c, item("k", 1))
		mustSet(t, c, itemExp("k", 2, clk.Now()))
		wantEvents(t, rec, "k:substituicao k:expiracao")
		if _, ok := c.Get("k"); ok || c.Len() != 0 || c.Bytes() != 0 {
			t.Fatalf("expired entry stored: Len %d Bytes %d", c.Len(), c.Bytes())
		}
		mustSet(t, c, itemExp("j", 2, time.Unix(0, 0)))
		wantEvents(t, rec, "j:expiracao")
	})
}

// TestReasons: every way out of the cache is reported with its reason.
func TestReasons(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		rec := &recorder{}
		clk := newClock()
		c := mustNew(t, p, Config{MaxBytes: 1 << 20, MaxItems: 2, OnEvict: rec.onEvict, Now: clk.Now})
		mustSet(t, c, item("a", 1))
		mustSet(t, c, item("a", 2))
		wantEvents(t, rec, "a:substituicao")
		if !c.Delete("a") || c.Delete("a") {
			t.Fatal("Delete results")
		}
		wantEvents(t, rec, "a:remocao")
		mustSet(t, c, item("b", 1))
		mustSet(t, c, item("c", 1))
		mustSet(t, c, item("d", 1))
		evs := rec.take()
		if len(evs) != 1 || evs[0].R != Size {
			t.Fatalf("third entry over MaxItems 2: %v", evs)
		}
		c.Clear()
		evs = rec.take()
		if len(evs) != 2 || evs[0].R != Cleared || evs[1].R != Cleared {
			t.Fatalf("Clear: %v", evs)
		}
		if c.Len() != 0 || c.Bytes() != 0 || len(c.Keys()) != 0 {
			t.Fatalf("after Clear: Len %d Bytes %d", c.Len(), c.Bytes())
		}
		mustSet(t, c, itemExp("e", 1, clk.Now().Add(time.Second)))
		mustSet(t, c, item("f", 1))
		clk.Advance(time.Second)
		c.Clear()
		got := map[string]Reason{}
		for _, e := range rec.take() {
			got[e.Key] = e.R
		}
		if len(got) != 2 || got["e"] != Expired || got["f"] != Cleared {
			t.Fatalf("Clear with an expired entry: %v", got)
		}
	})
}

func TestResizeShrink(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		rec := &recorder{}
		c := mustNew(t, p, Config{MaxBytes: 1 << 20, OnEvict: rec.onEvict})
		w := item("k00", 100).Weight()
		for i := range 20 {
			mustSet(t, c, item(fmt.Sprintf("k%02d", i), 100))
		}
		c.Resize(5*w, 0)
		checkLimits(t, c, 5*w, 0)
		if c.Len() != 5 || c.Bytes() != 5*w {
			t.Fatalf("after Resize(5w): Len %d Bytes %d", c.Len(), c.Bytes())
		}
		evs := rec.take()
		if len(evs) != 15 {
			t.Fatalf("%d evictions, want 15", len(evs))
		}
		for _, e := range evs {
			if e.R != Size {
				t.Fatalf("eviction %v", e)
			}
		}
		c.Resize(0, 2) // keeps the byte limit
		checkLimits(t, c, 5*w, 2)
		if c.Len() != 2 || len(rec.take()) != 3 {
			t.Fatalf("after Resize(0, 2): Len %d", c.Len())
		}
		c.Resize(-1, 0) // no item limit
		for i := range 10 {
			mustSet(t, c, item(fmt.Sprintf("n%02d", i), 100))
			checkLimits(t, c, 5*w, 0)
		}
		if c.Len() != 5 {
			t.Fatalf("Len %d after the item limit was removed", c.Len())
		}
		c.Resize(20*w, -1)
		for i := range 10 {
			mustSet(t, c, item(fmt.Sprintf("m%02d", i), 100))
		}
		if c.Len() != 15 {
			t.Fatalf("Len %d after growing", c.Len())
		}
	})
}

func TestErrTooLarge(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		c := mustNew(t, p, Config{MaxBytes: 200})
		mustSet(t, c, item("k", 10))
		big := item("k", 200-EntryOverhead) // weight 201
		if err := c.Set(big); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Set(weight %d) = %v, want ErrTooLarge", big.Weight(), err)
		}
		if e, ok := c.Get("k"); !ok || len(e.Value) != 10 {
			t.Fatal("failed Set changed the entry")
		}
		mustSet(t, c, item("k", 200-EntryOverhead-1)) // weight 200 fits exactly
		c.Resize(100, -1)
		if c.Len() != 0 {
			t.Fatalf("Len = %d after shrinking below the entry", c.Len())
		}
		if err := c.Set(item("j", 50)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("after Resize(100): %v", err)
		}
		if err := c.Set(nil); !errors.Is(err, ErrNilEntry) {
			t.Fatalf("Set(nil) = %v", err)
		}
	})
}

// TestSetCopies: the cache keeps its own copy of the Entry struct.
func TestSetCopies(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		c := mustNew(t, p, Config{MaxBytes: 1 << 20})
		e := item("k", 10)
		mustSet(t, c, e)
		e.Key = "other"
		e.Value = make([]byte, 1000)
		got, ok := c.Get("k")
		if !ok || got.Key != "k" || len(got.Value) != 10 || c.Bytes() != item("k", 10).Weight() {
			t.Fatalf("Get after the caller changed its struct: %+v", got)
		}
	})
}

func TestNilOnEvict(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		clk := newClock()
		c := mustNew(t, p, Config{MaxBytes: 1000, MaxItems: 2, Now: clk.Now})
		for i := range 10 {
			mustSet(t, c, itemExp(fmt.Sprint(i), 10, clk.Now().Add(time.Second)))
			c.Get(fmt.Sprint(i - 1))
			clk.Advance(300 * time.Millisecond)
		}
		c.Delete("9")
		c.Clear()
		if c.Len() != 0 {
			t.Fatal(c.Len())
		}
	})
}

// TestOnEvictReentrant: OnEvict runs without internal locks, so it may call the cache.
func TestOnEvictReentrant(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		var c Cache
		calls := 0
		c = mustNew(t, p, Config{MaxBytes: 1 << 20, MaxItems: 2, OnEvict: func(e *Entry, r Reason) {
			calls++
			c.Len()
			c.Bytes()
			c.Get("x")
			if r == Size {
				c.Delete("nothing")
			}
		}})
		for i := range 5 {
			mustSet(t, c, item(fmt.Sprint(i), 1))
		}
		c.Clear()
		if calls != 5 {
			t.Fatalf("%d calls", calls)
		}
	})
}
