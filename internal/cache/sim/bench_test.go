package sim

import (
	"strconv"
	"sync"
	"testing"
)

var benchKeys = sync.OnceValue(func() []uint64 { return zipfKeys(77, 1<<20, 1.05, 1<<20) })

// BenchmarkAccess is the cost of one access (ns/op) on a Zipf(1.05) stream over 1M keys with a
// 64k-entry cache, after a warm-up pass.
func BenchmarkAccess(b *testing.B) {
	keys := benchKeys()
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			s, _ := NewSimulator(p, 1<<16)
			for _, k := range keys {
				s.Access(k)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Access(keys[i&(len(keys)-1)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accesses/s")
		})
	}
}

// BenchmarkReplay replays the OLTP and P3 traces through each policy (one op = one whole
// replay), reporting accesses per second.
func BenchmarkReplay(b *testing.B) {
	for _, c := range []struct {
		trace    string
		capacity int
	}{{"arc_oltp.gz", 20000}, {"arc_p3.gz", 100000}} {
		tr := sharedTrace(b, c.trace)
		for _, p := range Policies() {
			b.Run(c.trace+"/"+p, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					s, _ := NewSimulator(p, c.capacity)
					Run(tr, s)
				}
				b.ReportMetric(float64(b.N)*float64(tr.Len())/b.Elapsed().Seconds(), "accesses/s")
			})
		}
	}
}

func BenchmarkShardsAccess(b *testing.B) {
	keys := benchKeys()
	for _, c := range []struct {
		name       string
		rate       float64
		maxTracked int
	}{{"R=0.01", 0.01, 0}, {"R=0.1", 0.1, 0}, {"fixed-size-16000", 1, 0}} {
		b.Run(c.name, func(b *testing.B) {
			s := NewShards(c.rate, c.maxTracked)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Access(keys[i&(len(keys)-1)])
			}
			b.ReportMetric(float64(s.MemoryBytes()), "bytes")
		})
	}
}

func BenchmarkMiniAccess(b *testing.B) {
	keys := benchKeys()
	m, _ := NewMini(0.01, []string{PolicyLRU, PolicyARC, PolicyLFUAging, PolicyFIFO}, []int{1 << 12, 1 << 15, 1 << 18})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Access(keys[i&(len(keys)-1)])
	}
	b.ReportMetric(float64(m.MemoryBytes()), "bytes")
}

func BenchmarkSpaceSavingOffer(b *testing.B) {
	keys := benchKeys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "k" + strconv.FormatUint(k, 10)
	}
	for _, m := range []int{100, 1000} {
		b.Run("m="+strconv.Itoa(m), func(b *testing.B) {
			s := NewSpaceSaving(m)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Offer(names[i&(len(names)-1)])
			}
		})
	}
}

func BenchmarkExactLRUCurveOLTP(b *testing.B) {
	tr := sharedTrace(b, "arc_oltp.gz")
	sizes := oltpSizes()
	for i := 0; i < b.N; i++ {
		ExactLRUCurve(tr, sizes)
	}
	b.ReportMetric(float64(b.N)*float64(tr.Len())/b.Elapsed().Seconds(), "accesses/s")
}
