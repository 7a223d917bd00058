package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// checkSummary verifies Space-Saving's guarantees against exact counts.
func checkSummary(t *testing.T, s *SpaceSaving, exact map[string]uint64, m int) {
	t.Helper()
	n := s.Total()
	all := s.Top(0)
	var sum uint64
	for _, c := range all {
		sum += c.Count
		truth := exact[c.Key]
		if c.Error > n/uint64(m) {
			t.Fatalf("%s: error %d > N/m = %d", c.Key, c.Error, n/uint64(m))
		}
		if truth > c.Count || c.Count-c.Error > truth {
			t.Fatalf("%s: true count %d outside [%d, %d]", c.Key, truth, c.Count-c.Error, c.Count)
		}
		if got, ok := s.Lookup(c.Key); !ok || got != c {
			t.Fatalf("Lookup(%s) = %+v %v, want %+v", c.Key, got, ok, c)
		}
	}
	if sum != n && len(all) == m {
		t.Fatalf("counts sum to %d, want N=%d", sum, n)
	}
	if s.Bound() > n/uint64(m) {
		t.Fatalf("bound %d > N/m", s.Bound())
	}
	// Every key occurring more than the bound is monitored.
	for k, c := range exact {
		if _, ok := s.Lookup(k); !ok && c > s.Bound() {
			t.Fatalf("%s occurs %d times (> bound %d) but is not monitored", k, c, s.Bound())
		}
	}
	if !slices.IsSortedFunc(all, func(a, b Counted) int { return int(b.Count) - int(a.Count) }) {
		t.Fatal("Top not sorted by count")
	}
}

func TestSpaceSavingZipf(t *testing.T) {
	const m = 200
	keys := zipfKeys(31, 500000, 1.1, 100000)
	s := NewSpaceSaving(m)
	exact := map[string]uint64{}
	names := make([]string, 100000)
	for i := range names {
		names[i] = "key-" + strconv.Itoa(i)
	}
	for i, k := range keys {
		s.Offer(names[k])
		exact[names[k]]++
		if i == 1000 || i == 77777 {
			checkSummary(t, s, exact, m)
		}
	}
	checkSummary(t, s, exact, m)

	type kc struct {
		k string
		c uint64
	}
	var truth []kc
	for k, c := range exact {
		truth = append(truth, kc{k, c})
	}
	slices.SortFunc(truth, func(a, b kc) int { return int(b.c) - int(a.c) })
	top := s.Top(20)
	found := map[string]bool{}
	for _, c := range top {
		found[c.Key] = true
	}
	for i, x := range truth[:20] {
		if !found[x.k] {
			t.Errorf("true top-20 key #%d %s (%d) missing from Top(20)", i, x.k, x.c)
		}
	}
	t.Logf("N=%d m=%d bound=%d (N/m=%d); top: %+v", s.Total(), m, s.Bound(), s.Total()/m, top[:3])
}

func TestSpaceSavingAdversarial(t *testing.T) {
	// A stream of mostly distinct keys with a few heavy ones interleaved, plus exact small cases.
	r := rand.New(rand.NewPCG(1, 1))
	const m = 10
	s := NewSpaceSaving(m)
	exact := map[string]uint64{}
	for i := range 20000 {
		var k string
		switch {
		case i%5 == 0:
			k = "heavy-a"
		case i%7 == 0:
			k = "heavy-b"
		default:
			k = strconv.FormatUint(r.Uint64N(1<<40), 36)
		}
		s.Offer(k)
		exact[k]++
	}
	checkSummary(t, s, exact, m)
	top := s.Top(2)
	if len(top) != 2 || top[0].Key != "heavy-a" || top[1].Key != "heavy-b" {
		t.Fatalf("top %+v", top)
	}

	// With m at least the number of distinct keys, counts are exact.
	s = NewSpaceSaving(3)
	for _, k := range []string{"a", "b", "a", "c", "a", "b"} {
		s.Offer(k)
	}
	want := []Counted{{"a", 3, 0}, {"b", 2, 0}, {"c", 1, 0}}
	if got := s.Top(10); !slices.Equal(got, want) {
		t.Fatalf("exact top %+v, want %+v", got, want)
	}
	// A fourth key replaces a smallest counter (c, count 1) and inherits its count as error.
	s.Offer("d")
	if got, _ := s.Lookup("d"); got != (Counted{"d", 2, 1}) {
		t.Fatalf("replacement %+v", got)
	}
	if _, ok := s.Lookup("c"); ok {
		t.Fatal("c still monitored")
	}
	if s.Bound() != 2 || s.Total() != 7 {
		t.Fatalf("bound %d total %d", s.Bound(), s.Total())
	}
	if got := s.Top(1); len(got) != 1 || got[0].Key != "a" {
		t.Fatalf("Top(1) %+v", got)
	}
	if got := NewSpaceSaving(0).Top(5); len(got) != 0 {
		t.Fatalf("empty %+v", got)
	}
}

func TestSpaceSavingNoAllocs(t *testing.T) {
	s := NewSpaceSaving(100)
	names := make([]string, 1000)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	for _, n := range names {
		s.Offer(n)
	}
	i := 0
	if a := testing.AllocsPerRun(100, func() { s.Offer(names[i%len(names)]); i += 7 }); a > 0 {
		t.Fatalf("%v allocations per offer", a)
	}
}
