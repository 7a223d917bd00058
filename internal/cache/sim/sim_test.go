package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Reference implementations: direct transcriptions of each policy's definition on plain slices
// and maps, O(capacity) per access, used to check the fast simulators access by access.

type refLRU struct {
	c    int
	keys []uint64 // most recent first
}

func (r *refLRU) access(k uint64) bool {
	if i := slices.Index(r.keys, k); i >= 0 {
		r.keys = slices.Delete(r.keys, i, i+1)
		r.keys = slices.Insert(r.keys, 0, k)
		return true
	}
	if r.c == 0 {
		return false
	}
	r.keys = slices.Insert(r.keys, 0, k)
	if len(r.keys) > r.c {
		r.keys = r.keys[:r.c]
	}
	return false
}

type refFIFO struct {
	c    int
	keys []uint64 // oldest first
}

func (r *refFIFO) access(k uint64) bool {
	if slices.Contains(r.keys, k) {
		return true
	}
	if r.c == 0 {
		return false
	}
	r.keys = append(r.keys, k)
	if len(r.keys) > r.c {
		r.keys = r.keys[1:]
	}
	return false
}

type refLFU struct {
	c, period, clock int
	count, stamp     map[uint64]int
}

func newRefLFU(c, period int) *refLFU {
	return &refLFU{c: c, period: period, count: map[uint64]int{}, stamp: map[uint64]int{}}
}

func (r *refLFU) access(k uint64) bool {
	r.clock++
	if r.period > 0 && r.clock%r.period == 0 {
		for key, n := range r.count {
			r.count[key] = max(n/2, 1)
		}
	}
	if _, ok := r.count[k]; ok {
		r.count[k]++
		r.stamp[k] = r.clock
		return true
	}
	if r.c == 0 {
		return false
	}
	if len(r.count) == r.c {
		var victim uint64
		first := true
		for key, n := range r.count {
			if first || n < r.count[victim] || (n == r.count[victim] && r.stamp[key] < r.stamp[victim]) {
				victim, first = key, false
			}
		}
		delete(r.count, victim)
		delete(r.stamp, victim)
	}
	r.count[k] = 1
	r.stamp[k] = r.clock
	return false
}

type refARC struct {
	c, p           int
	t1, b1, t2, b2 []uint64 // most recent first
}

func remove(s []uint64, k uint64) ([]uint64, bool) {
	if i := slices.Index(s, k); i >= 0 {
		return slices.Delete(s, i, i+1), true
	}
	return s, false
}

func (r *refARC) replace(xInB2 bool) {
	if len(r.t1) > 0 && ((xInB2 && len(r.t1) == r.p) || len(r.t1) > r.p) {
		last := r.t1[len(r.t1)-1]
		r.t1 = r.t1[:len(r.t1)-1]
		r.b1 = slices.Insert(r.b1, 0, last)
	} else {
		last := r.t2[len(r.t2)-1]
		r.t2 = r.t2[:len(r.t2)-1]
		r.b2 = slices.Insert(r.b2, 0, last)
	}
}

func (r *refARC) access(x uint64) bool {
	if r.c == 0 {
		return false
	}
	var ok bool
	if r.t1, ok = remove(r.t1, x); !ok {
		r.t2, ok = remove(r.t2, x)
	}
	if ok {
		r.t2 = slices.Insert(r.t2, 0, x)
		return true
	}
	if slices.Contains(r.b1, x) {
		d := 1
		if len(r.b2) > len(r.b1) {
			d = len(r.b2) / len(r.b1)
		}
		r.p = min(r.p+d, r.c)
		r.replace(false)
		r.b1, _ = remove(r.b1, x)
		r.t2 = slices.Insert(r.t2, 0, x)
		return false
	}
	if slices.Contains(r.b2, x) {
		d := 1
		if len(r.b1) > len(r.b2) {
			d = len(r.b1) / len(r.b2)
		}
		r.p = max(r.p-d, 0)
		r.replace(true)
		r.b2, _ = remove(r.b2, x)
		r.t2 = slices.Insert(r.t2, 0, x)
		return false
	}
	if len(r.t1)+len(r.b1) == r.c {
		if len(r.t1) < r.c {
			r.b1 = r.b1[:len(r.b1)-1]
			r.replace(false)
		} else {
			r.t1 = r.t1[:len(r.t1)-1]
		}
	} else if tot := len(r.t1) + len(r.b1) + len(r.t2) + len(r.b2); tot >= r.c {
		if tot == 2*r.c {
			r.b2 = r.b2[:len(r.b2)-1]
		}
		r.replace(false)
	}
	r.t1 = slices.Insert(r.t1, 0, x)
	return false
}

func testTraces() map[string][]uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	uniform := make([]uint64, 20000)
	for i := range uniform {
		uniform[i] = r.Uint64N(60)
	}
	return map[string][]uint64{
		"uniform": uniform,
		"zipf":    zipfKeys(3, 20000, 1.2, 300),
		"mixed":   mixedKeys(4, 20000, 200),
	}
}

func TestSimulatorsMatchReference(t *testing.T) {
	for name, keys := range testTraces() {
		for _, c := range []int{0, 1, 2, 3, 7, 16, 50, 120} {
			refs := map[string]func(uint64) bool{
				"lru":     (&refLRU{c: c}).access,
				"fifo":    (&refFIFO{c: c}).access,
				"lfu":     newRefLFU(c, 0).access,
				"lfu-age": newRefLFU(c, 37).access,
				"arc":     (&refARC{c: c}).access,
			}
			sims := map[string]Simulator{
				"lru":     NewLRU(c),
				"fifo":    NewFIFO(c),
				"lfu":     NewLFU(c),
				"lfu-age": NewAgingLFU(c, 37),
				"arc":     NewARC(c),
			}
			for policy, ref := range refs {
				s := sims[policy]
				hits := 0
				for i, k := range keys {
					want := ref(k)
					if got := s.Access(k); got != want {
						t.Fatalf("%s %s c=%d: access %d (key %d): hit=%v, reference %v", name, policy, c, i, k, got, want)
					}
					if want {
						hits++
					}
				}
				if c == 16 {
					t.Logf("%-7s %-7s c=%d hit ratio %.3f", name, policy, c, float64(hits)/float64(len(keys)))
				}
			}
		}
	}
}

func TestLRUOrder(t *testing.T) {
	c := NewLRU(3)
	for _, k := range []uint64{1, 2, 3, 1, 4} {
		c.Access(k)
	}
	if got := c.keys(); !slices.Equal(got, []uint64{4, 1, 3}) {
		t.Fatalf("LRU order %v, want [4 1 3] (2 evicted)", got)
	}
	if c.Access(2) || !c.Access(1) || c.Len() != 3 {
		t.Fatal("LRU hits wrong")
	}
}

func TestFIFOOrder(t *testing.T) {
	c := NewFIFO(3)
	for _, k := range []uint64{1, 2, 3, 1, 4} {
		c.Access(k)
	}
	if got := c.keys(); !slices.Equal(got, []uint64{4, 3, 2}) {
		t.Fatalf("FIFO order %v, want [4 3 2] (1 evicted despite its hit)", got)
	}
	if c.Access(1) || c.Len() != 3 || !slices.Equal(c.keys(), []uint64{1, 4, 3}) {
		t.Fatalf("FIFO after re-adding 1: %v", c.keys())
	}
}

func TestLFUOrder(t *testing.T) {
	c := NewLFU(3)
	for _, k := range []uint64{1, 1, 2, 3, 2, 4} { // 4 evicts 3: count 1, older than nothing else
		c.Access(k)
	}
	want := [][2]uint64{{4, 1}, {1, 2}, {2, 2}}
	if got := c.counts(); !slices.Equal(got, want) {
		t.Fatalf("LFU order %v, want %v", got, want)
	}
	c.Access(5) // evicts 4, the only count-1 entry
	c.Access(1) // 1 reaches 3
	c.Access(6) // evicts 5
	want = [][2]uint64{{6, 1}, {2, 2}, {1, 3}}
	if got := c.counts(); !slices.Equal(got, want) {
		t.Fatalf("LFU order %v, want %v", got, want)
	}
	// Tie-break among equal counts is least recently used first.
	c = NewLFU(2)
	c.Access(1)
	c.Access(2)
	c.Access(2)
	c.Access(1) // both count 2; 2 is the less recent
	c.Access(3)
	if got := c.counts(); !slices.Equal(got, [][2]uint64{{3, 1}, {1, 2}}) {
		t.Fatalf("LFU tie-break: %v", got)
	}
}

func TestLFUAging(t *testing.T) {
	c := NewAgingLFU(3, 10)
	for range 7 {
		c.Access(1) // count 7
	}
	c.Access(2)
	c.Access(2) // count 2
	c.Access(3) // 10th access: counts halve first (1:3, 2:1), then 3 enters at 1
	want := [][2]uint64{{2, 1}, {3, 1}, {1, 3}}
	if got := c.counts(); !slices.Equal(got, want) {
		t.Fatalf("after aging %v, want %v", got, want)
	}
	if c.Name() != PolicyLFUAging || NewLFU(1).Name() != PolicyLFU {
		t.Fatal("names")
	}
	// Old popularity fades: a key hot long ago is evicted once newer keys outscore it.
	c = NewAgingLFU(2, 8)
	for range 20 {
		c.Access(100)
	}
	for range 40 {
		c.Access(1)
		c.Access(2)
	}
	if _, ok := c.idx.get(100); ok {
		t.Fatalf("aged-out key still cached: %v", c.counts())
	}
	noAge := NewLFU(2)
	for range 20 {
		noAge.Access(100)
	}
	for range 40 {
		noAge.Access(1)
		noAge.Access(2)
	}
	if _, ok := noAge.idx.get(100); !ok {
		t.Fatal("without aging the old hot key should stay")
	}
}

func TestARCScanResistance(t *testing.T) {
	a, l := NewARC(100), NewLRU(100)
	var aHits, lHits int
	for round := range 50 {
		for k := range uint64(60) { // hot set, seen twice per round
			for range 2 {
				if a.Access(k) {
					aHits++
				}
				if l.Access(k) {
					lHits++
				}
			}
		}
		for k := range uint64(200) { // a scan of new keys each round
			key := 1_000_000 + uint64(round)*1000 + k
			a.Access(key)
			l.Access(key)
		}
	}
	if aHits <= lHits {
		t.Fatalf("ARC hits %d <= LRU hits %d under scans", aHits, lHits)
	}
	lists := a.lists()
	if len(lists[arcT1])+len(lists[arcT2]) != 100 || len(lists[arcB1])+len(lists[arcB2]) > 100 || a.Len() != 100 {
		t.Fatalf("ARC list sizes %d %d %d %d", len(lists[arcT1]), len(lists[arcB1]), len(lists[arcT2]), len(lists[arcB2]))
	}
	t.Logf("hot-set hits under scans: ARC %d, LRU %d (of %d); p=%d", aHits, lHits, 50*120, a.Target())
}

func TestNewSimulator(t *testing.T) {
	for _, p := range Policies() {
		s, err := NewSimulator(p, 10)
		if err != nil || s.Name() != p {
			t.Fatalf("%s: %v %v", p, s, err)
		}
	}
	if _, err := NewSimulator("clock", 10); err == nil {
		t.Fatal("unknown policy accepted")
	}
}

func TestRunAndNoAllocs(t *testing.T) {
	keys := zipfKeys(5, 200000, 1.05, 50000)
	tr := NewTrace(keys)
	for _, p := range Policies() {
		s, _ := NewSimulator(p, 5000)
		res := Run(tr, s)
		if res.Requests != len(keys) || res.HitRatio != float64(res.Hits)/float64(len(keys)) || res.Hits == 0 {
			t.Fatalf("%s: %+v", p, res)
		}
		i := 0
		allocs := testing.AllocsPerRun(10, func() {
			for range 1000 {
				s.Access(keys[i%len(keys)])
				i++
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per 1000 accesses once warm", p, allocs)
		}
	}
	if r := Run(Trace{}, NewLRU(1)); r != (Result{}) {
		t.Fatalf("empty run %+v", r)
	}
}

func TestRunMatchesExpandedARCTrace(t *testing.T) {
	tr := Trace{starts: []uint64{10, 5, 11}, counts: []uint32{3, 1, 4}, n: 8}
	want := Run(NewTrace(tr.Keys()), NewLRU(3))
	if got := Run(tr, NewLRU(3)); got != want || got.Requests != 8 {
		t.Fatalf("run on runs %+v, on keys %+v", got, want)
	}
}

func ExampleRun() {
	tr := NewTrace([]uint64{1, 2, 1, 3, 1, 2})
	for _, p := range []string{PolicyLRU, PolicyFIFO} {
		s, _ := NewSimulator(p, 2)
		fmt.Printf("%s %+v\n", p, Run(tr, s))
	}
	// Output:
	// lru {Requests:6 Hits:2 HitRatio:0.3333333333333333}
	// fifo {Requests:6 Hits:1 HitRatio:0.16666666666666666}
}
