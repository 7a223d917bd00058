package policy

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func newARC(cfg Config) *local { return newLocal("arc", cfg, &arcOrder{}) }

// TestARCExact: the cases of ARC on a cache of three equal entries.
func TestARCExact(t *testing.T) {
	rec := &recorder{}
	w := item("a", 10).Weight()
	c := newARC(Config{MaxBytes: 3 * w, OnEvict: rec.onEvict})
	o := c.ord.(*arcOrder)
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, item(k, 10))
	}
	if _, ok := c.Get("a"); !ok { // a → T2
		t.Fatal("a missing")
	}
	mustSet(t, c, item("d", 10)) // T1 = [b c] over p = 0: b leaves T1 for B1
	wantEvents(t, rec, "b:tamanho")
	wantKeys(t, c, "a", "c", "d")
	if o.b1.n != 1 || o.t2.len != 1 || o.t1.len != 2 {
		t.Fatalf("lists T1 %d T2 %d B1 %d", o.t1.len, o.t2.len, o.b1.n)
	}
	mustSet(t, c, item("b", 10)) // B1 ghost hit: p grows by one entry, b → T2, c (LRU of T1) leaves
	if o.p != w {
		t.Fatalf("p = %d, want %d", o.p, w)
	}
	wantEvents(t, rec, "c:tamanho")
	wantKeys(t, c, "a", "b", "d")
	if o.t2.len != 2 || o.t1.len != 1 {
		t.Fatalf("lists T1 %d T2 %d", o.t1.len, o.t2.len)
	}
	// T1 = [d] at p: the victim comes from T2's LRU end (a), which becomes a B2 ghost
	mustSet(t, c, item("e", 10))
	wantEvents(t, rec, "a:tamanho")
	mustSet(t, c, item("a", 10)) // B2 ghost hit: p shrinks
	if o.p != 0 {
		t.Fatalf("p = %d after a B2 hit, want 0", o.p)
	}
	wantEvents(t, rec, "d:tamanho")
	wantKeys(t, c, "a", "b", "e")
}

// TestARCBytes: random weights, sets, gets and deletes never leave the weighted ARC over its
// limits, and its cost counters agree with its lists.
func TestARCBytes(t *testing.T) {
	for _, maxItems := range []int{0, 50} {
		rec := &recorder{}
		c := newARC(Config{MaxBytes: 20_000, MaxItems: maxItems, OnEvict: rec.onEvict})
		o := c.ord.(*arcOrder)
		rng := rand.New(rand.NewPCG(2, 2))
		for range 50_000 {
			k := fmt.Sprint("k", rng.IntN(400))
			switch r := rng.IntN(10); {
			case r < 5:
				if _, ok := c.Get(k); !ok {
					mustSet(t, c, item(k, rng.IntN(900)))
				}
			case r < 9:
				mustSet(t, c, item(k, rng.IntN(900)))
			default:
				c.Delete(k)
			}
			checkLimits(t, c, 20_000, maxItems)
			if o.t1.len+o.t2.len != c.Len() || o.listCost(&o.t1) != o.t1c || o.listCost(&o.t2) != o.t2c {
				t.Fatalf("lists out of step: T1 %d/%d T2 %d/%d, %d entries", o.t1c, o.listCost(&o.t1), o.t2c, o.listCost(&o.t2), c.Len())
			}
			if o.t1c+o.b1.cost > 20_000 && o.b1.n > 0 {
				t.Fatalf("|T1|+|B1| = %d over c", o.t1c+o.b1.cost)
			}
			if len(o.ghosts) != o.b1.n+o.b2.n {
				t.Fatalf("%d ghosts indexed, %d listed", len(o.ghosts), o.b1.n+o.b2.n)
			}
		}
	}
}

// TestARCTTL: the weighted ARC honours per-entry expiry like the other local policies.
func TestARCTTL(t *testing.T) {
	rec := &recorder{}
	clk := newClock()
	c := newARC(Config{MaxBytes: 1 << 20, OnEvict: rec.onEvict, Now: clk.Now})
	mustSet(t, c, itemExp("k1", 1, clk.Now().Add(time.Second)))
	mustSet(t, c, item("k2", 1))
	if _, ok := c.Get("k1"); !ok {
		t.Fatal("k1 expired early")
	}
	clk.Advance(time.Second)
	if _, ok := c.Get("k1"); ok {
		t.Fatal("Get returned expired k1")
	}
	wantEvents(t, rec, "k1:expiracao")
	mustSet(t, c, itemExp("k3", 1, clk.Now().Add(time.Second)))
	clk.Advance(time.Second)
	if n := c.RemoveExpired(); n != 1 {
		t.Fatalf("RemoveExpired = %d", n)
	}
	wantEvents(t, rec, "k3:expiracao")
	wantKeys(t, c, "k2")
}

// TestAdaptiveMigration: switching engines keeps the live entries and the limits and reports
// nothing for the migrated entries; expired ones are reported as Expired.
func TestAdaptiveMigration(t *testing.T) {
	rec := &recorder{}
	clk := newClock()
	const maxBytes, maxItems = 40_000, 200
	c := mustNew(t, Adaptativo, Config{MaxBytes: maxBytes, MaxItems: maxItems, OnEvict: rec.onEvict, Now: clk.Now})
	s := c.(*switcher)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 2000 {
		e := item(fmt.Sprint("k", rng.IntN(500)), rng.IntN(300))
		if i%7 == 0 {
			e.ExpiresAt = clk.Now().Add(time.Duration(1+rng.IntN(10)) * time.Second)
		}
		mustSet(t, c, e)
		c.Get(fmt.Sprint("k", rng.IntN(500)))
	}
	clk.Advance(5 * time.Second)
	settle(c)
	rec.take()
	for _, kind := range []int{engARC, engLRU, engWTinyLFU, engARC} {
		before := map[string]*Entry{}
		for _, k := range c.Keys() {
			e, _ := c.Peek(k)
			before[k] = e
		}
		s.smu.Lock()
		s.ch.live = kind
		s.smu.Unlock()
		s.switchTo()
		if s.Engine() != engineNames[kind] {
			t.Fatalf("engine %s, want %s", s.Engine(), engineNames[kind])
		}
		checkLimits(t, c, maxBytes, maxItems)
		for _, e := range rec.take() {
			if e.R != Expired {
				t.Fatalf("migration to %s reported %v", engineNames[kind], e)
			}
			if _, ok := before[e.Key]; ok {
				t.Fatalf("live entry %s reported", e.Key)
			}
		}
		for k, e := range before {
			got, ok := c.Peek(k)
			if !ok || string(got.Value) != string(e.Value) || !got.ExpiresAt.Equal(e.ExpiresAt) {
				t.Fatalf("%s lost %s in the migration", engineNames[kind], k)
			}
		}
		if c.Len() != len(before) {
			t.Fatalf("Len %d after migrating %d", c.Len(), len(before))
		}
		// the new engine works
		for range 1000 {
			mustSet(t, c, item(fmt.Sprint("n", rng.IntN(500)), rng.IntN(300)))
			checkLimits(t, c, maxBytes, maxItems)
		}
		clk.Advance(time.Second)
		settle(c)
		rec.take()
	}
}

// TestAdaptiveSwitches: on a workload of shifting popularity, where recency wins, the
// miniature simulations move the live engine to ARC (or LRU); on a loop larger than the cache,
// where ARC and LRU get nothing, back to W-TinyLFU.
func TestAdaptiveSwitches(t *testing.T) {
	const capacity = 1000
	c, err := NewAdaptiveEntries(capacity, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*switcher)
	var buf [8]byte
	access := func(k uint64) {
		binary.LittleEndian.PutUint64(buf[:], k)
		key := string(buf[:])
		if _, ok := c.Get(key); !ok {
			mustSet(t, c, &Entry{Key: key})
		}
		if c.Len() > capacity {
			t.Fatalf("Len %d", c.Len())
		}
	}
	rng := rand.New(rand.NewPCG(4, 4))
	// a hot set of 800 keys that drifts by one key every 20 accesses: each new key is hot at
	// once, which recency sees and a frequency filter learns late
	for i := range 400_000 {
		base := uint64(i / 20)
		access(base + uint64(rng.IntN(800)))
		if s.Engine() != "w-tinylfu" {
			t.Logf("switched to %s after %d accesses", s.Engine(), i+1)
			break
		}
	}
	if e := s.Engine(); e == "w-tinylfu" {
		t.Fatalf("still on %s, scores %v of %v", e, s.ch.score, s.ch.scoreN)
	}
	for i := range 400_000 {
		access(1<<40 + uint64(i%1500))
		if s.Engine() == "w-tinylfu" {
			t.Logf("back to w-tinylfu after %d loop accesses", i+1)
			return
		}
	}
	t.Fatalf("still on %s on a loop, scores %v of %v", s.Engine(), s.ch.score, s.ch.scoreN)
}

// TestAdaptiveConcurrentSwitches: Gets, Sets, Deletes and Resizes race with engine switches;
// the limits hold and every accepted entry is reported at most once (exactly once after Clear).
func TestAdaptiveConcurrentSwitches(t *testing.T) {
	var mu sync.Mutex
	seen := map[*Entry]int{}
	c := mustNew(t, Adaptativo, Config{MaxBytes: 30_000, MaxItems: 300, OnEvict: func(e *Entry, _ Reason) {
		mu.Lock()
		seen[e]++
		mu.Unlock()
	}})
	s := c.(*switcher)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprint("k", rng.IntN(600))
				switch r := rng.IntN(10); {
				case r < 6:
					if _, ok := c.Get(k); !ok {
						_ = c.Set(item(k, rng.IntN(200)))
					}
				case r < 9:
					_ = c.Set(item(k, rng.IntN(200)))
				default:
					c.Delete(k)
				}
			}
		}()
	}
	for i := range 60 {
		s.smu.Lock()
		s.ch.live = i % numEngines
		s.smu.Unlock()
		s.switchTo()
		if i%10 == 0 {
			c.Resize(int64(20_000+1000*(i%3)), 200+i%50)
		}
		if b, n := c.Bytes(), c.Len(); b > 30_000 || n > 300 {
			t.Fatalf("over the limits: %d bytes, %d entries", b, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	c.Clear()
	settle(c)
	mu.Lock()
	defer mu.Unlock()
	for e, n := range seen {
		if n != 1 {
			t.Fatalf("%s reported %d times", e.Key, n)
		}
	}
}

// TestAdaptiveDutyCycle: a settled shared cache stops hashing Gets for a
// rest, then samples again with fresh miniatures.
func TestAdaptiveDutyCycle(t *testing.T) {
	c, err := New(Adaptativo, Config{MaxBytes: 1 << 20, MaxItems: 200})
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*switcher)
	s.rest = 500 * time.Millisecond
	for i := 0; i < 200; i++ {
		_ = c.Set(&Entry{Key: fmt.Sprint("k", i), Value: []byte("v")})
	}
	// Feed the sampled path directly (a Get samples 1 in 64 keys): the
	// workload is steady, so the chooser settles.
	for i := 0; s.thr.Load() != 0; i++ {
		if i > 10_000_000 {
			t.Fatalf("never settled: %d windows, live %s", s.ch.windows, s.Engine())
		}
		s.sample(maphash.String(sampleSeed, fmt.Sprint("k", i%200)))
	}
	s.smu.Lock()
	stable := s.ch.stable()
	s.smu.Unlock()
	if !stable {
		t.Fatal("resting without being stable")
	}
	time.Sleep(800 * time.Millisecond) // past the rest: the timer resumes sampling
	if s.thr.Load() == 0 {
		t.Fatal("still resting after the rest period")
	}
	s.smu.Lock()
	windows := s.ch.windows
	s.smu.Unlock()
	if windows != 0 {
		t.Errorf("resumed with old miniatures: %d windows", windows)
	}
}
