package sim

import (
	"math"
	"testing"
)

func TestMiniRateOneIsExact(t *testing.T) {
	keys := mixedKeys(21, 50000, 2000)
	tr := NewTrace(keys)
	sizes := []int{10, 100, 1000}
	m, err := NewMini(1, Policies(), sizes)
	if err != nil {
		t.Fatal(err)
	}
	tr.Each(func(k uint64) bool { m.Access(k); return true })
	est := m.Estimates()
	if len(est) != len(Policies())*len(sizes) {
		t.Fatalf("%d estimates", len(est))
	}
	for i, e := range est {
		if e.Policy != Policies()[i/len(sizes)] || e.Size != sizes[i%len(sizes)] || e.MiniSize != e.Size || e.Samples != len(keys) {
			t.Fatalf("estimate %d: %+v", i, e)
		}
		s, _ := NewSimulator(e.Policy, e.Size)
		if want := Run(tr, s).HitRatio; e.HitRatio != want || e.Unadjusted != want {
			t.Errorf("%s %d: %v / %v, want %v", e.Policy, e.Size, e.HitRatio, e.Unadjusted, want)
		}
	}
	if _, err := NewMini(0.1, []string{"lru", "nope"}, sizes); err == nil {
		t.Error("unknown policy accepted")
	}
	if _, err := NewMini(0, []string{"lru"}, sizes); err == nil {
		t.Error("rate 0 accepted")
	}
	if _, err := NewMini(0.5, []string{"lru"}, []int{0}); err == nil {
		t.Error("size 0 accepted")
	}
}

// TestMiniAccuracy compares miniature simulations at R=0.01 with full simulations of LRU and ARC
// at three sizes on the OLTP and P3 traces.
func TestMiniAccuracy(t *testing.T) {
	cases := []struct {
		trace string
		sizes []int
	}{
		{"arc_oltp.gz", []int{5000, 20000, 80000}},
		{"arc_p3.gz", []int{10000, 100000, 400000}},
	}
	for _, c := range cases {
		tr := sharedTrace(t, c.trace)
		m, err := NewMini(0.01, []string{PolicyLRU, PolicyARC}, c.sizes)
		if err != nil {
			t.Fatal(err)
		}
		tr.Each(func(k uint64) bool { m.Access(k); return true })
		var sum float64
		for _, e := range m.Estimates() {
			s, _ := NewSimulator(e.Policy, e.Size)
			full := Run(tr, s).HitRatio
			d := e.HitRatio - full
			sum += math.Abs(d)
			t.Logf("%s %-3s size %6d (mini %4d): full %.4f, mini %.4f (%+.2f pp), unadjusted %.4f (%+.2f pp)",
				c.trace, e.Policy, e.Size, e.MiniSize, full, e.HitRatio, 100*d, e.Unadjusted, 100*(e.Unadjusted-full))
			if math.Abs(d) > 0.03 {
				t.Errorf("%s %s %d: estimate %.4f vs full %.4f", c.trace, e.Policy, e.Size, e.HitRatio, full)
			}
		}
		t.Logf("%s: mean absolute error %.2f pp, %d bytes", c.trace, 100*sum/6, m.MemoryBytes())
	}
}
