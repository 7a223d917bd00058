package sim

import (
	"math"
	"testing"
)

func TestExactLRUCurveMatchesSimulation(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 10, 50, 100, 199, 400, 5000}
	for name, keys := range testTraces() {
		tr := NewTrace(keys)
		curve := ExactLRUCurve(tr, sizes)
		for i, c := range sizes {
			want := 1 - Run(tr, NewLRU(c)).HitRatio
			if math.Abs(curve[i]-want) > 1e-12 {
				t.Errorf("%s size %d: curve %.6f, simulation %.6f", name, c, curve[i], want)
			}
		}
	}
	// Many distinct keys force repeated window compactions.
	keys := mixedKeys(9, 300000, 20000)
	tr := NewTrace(keys)
	sizes = []int{1, 100, 1000, 5000, 20000, 60000}
	curve := ExactLRUCurve(tr, sizes)
	for i, c := range sizes {
		if want := 1 - Run(tr, NewLRU(c)).HitRatio; math.Abs(curve[i]-want) > 1e-12 {
			t.Errorf("mixed size %d: curve %.6f, simulation %.6f", c, curve[i], want)
		}
	}
	if got := ExactLRUCurve(Trace{}, []int{1, 2}); got[0] != 1 || got[1] != 1 {
		t.Errorf("empty trace: %v", got)
	}
}

func TestStackDistRemove(t *testing.T) {
	sd := newStackDist(0)
	for k := range uint64(10) {
		sd.access(k)
	}
	sd.remove(5)
	sd.remove(42) // untracked: no-op
	if d, ok := sd.access(0); !ok || d != 9 {
		t.Fatalf("distance %d %v, want 9 (10 keys, one removed)", d, ok)
	}
	if _, ok := sd.access(5); ok {
		t.Fatal("removed key still tracked")
	}
	for i := range 1000 { // compactions with removals
		sd.access(uint64(i % 7))
		if i%3 == 0 {
			sd.remove(uint64(i % 5))
		}
	}
	if sd.live != sd.idx.len() {
		t.Fatalf("live %d, table %d", sd.live, sd.idx.len())
	}
}

func TestExactLRUCurveOLTP(t *testing.T) {
	tr := sharedTrace(t, "arc_oltp.gz")
	sizes := []int{1000, 10000, 100000}
	curve := ExactLRUCurve(tr, sizes)
	for i, c := range sizes {
		if want := 1 - Run(tr, NewLRU(c)).HitRatio; math.Abs(curve[i]-want) > 1e-12 {
			t.Errorf("OLTP size %d: curve %.6f, simulation %.6f", c, curve[i], want)
		}
		t.Logf("OLTP LRU miss ratio at %d: %.4f", c, curve[i])
	}
}
