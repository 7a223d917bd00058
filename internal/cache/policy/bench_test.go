package policy

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"
)

const (
	benchKeys   = 10_000
	benchValue  = 128
	benchSample = 1 << 16 // key indexes drawn ahead of the benchmark
)

func benchEntries() []*Entry {
	es := make([]*Entry, benchKeys)
	for i := range es {
		es[i] = &Entry{Key: fmt.Sprintf("chave:%06d", i), Value: make([]byte, benchValue), ContentType: "application/json"}
	}
	return es
}

// benchKeySeq returns benchSample keys drawn from dist: "zipf" (s = 1.01, the hot head of a
// skewed workload) or "uniform".
func benchKeySeq(es []*Entry, dist string) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	z := rand.NewZipf(rng, 1.01, 1, benchKeys-1)
	seq := make([]string, benchSample)
	for i := range seq {
		if dist == "zipf" {
			seq[i] = es[z.Uint64()].Key
		} else {
			seq[i] = es[rng.IntN(benchKeys)].Key
		}
	}
	return seq
}

// benchMaxBytes is the byte limit of the hot area: the 10k entries fill 80% of it, so the
// caches run as they do when in use (otter, for one, starts its frequency sketch and read
// buffers only past half of its maximum).
func benchMaxBytes(es []*Entry) int64 {
	var total int64
	for _, e := range es {
		total += e.Weight()
	}
	return total * 5 / 4
}

var benchStart atomic.Uint64

// runParallelGet runs get on the key sequence from a different offset in every goroutine.
// It also reports cpu-ns/op: the process's CPU time (user + system, getrusage) over the timed
// part, per Get. On a machine shared with other work this is steadier than the wall ns/op,
// which grows whenever another process takes one of the cores.
func runParallelGet(b *testing.B, seq []string, get func(string) bool) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		i := int(benchStart.Add(7919))
		for pb.Next() {
			if !get(seq[i&(benchSample-1)]) {
				panic("miss")
			}
			i++
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time the process has used, user and system, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkParallelGet: Get on a hot area of 10k preloaded entries that all fit, from all Ps,
// for every policy. Compare adaptativo with BenchmarkParallelGetRawOtter of the same run.
func BenchmarkParallelGet(b *testing.B) {
	es := benchEntries()
	for _, dist := range []string{"zipf", "uniform"} {
		seq := benchKeySeq(es, dist)
		for _, p := range Policies() {
			b.Run(dist+"/"+p, func(b *testing.B) {
				c := mustNew(b, p, Config{MaxBytes: benchMaxBytes(es)})
				for _, e := range es {
					mustSet(b, c, e)
				}
				if c.Len() != benchKeys {
					b.Fatalf("%d entries", c.Len())
				}
				runParallelGet(b, seq, func(k string) bool {
					_, ok := c.Get(k)
					return ok
				})
			})
		}
	}
}

// BenchmarkParallelGetSettled: BenchmarkParallelGet for adaptativo once its choice has settled.
// A fresh adaptive cache hashes every Get and feeds 1 in 64 to its miniature simulations until
// restAfter windows pass without a switch (about 9M Gets here, 0.5 s at this benchmark's rate);
// then it rests for restFor (30 s) before sampling again. So a hot area spends about 98% of its
// time settled; BenchmarkParallelGet/*/adaptativo measures the sampling phase, this the rest.
func BenchmarkParallelGetSettled(b *testing.B) {
	es := benchEntries()
	for _, dist := range []string{"zipf", "uniform"} {
		seq := benchKeySeq(es, dist)
		b.Run(dist+"/"+Adaptativo, func(b *testing.B) {
			c := mustNew(b, Adaptativo, Config{MaxBytes: benchMaxBytes(es)})
			for _, e := range es {
				mustSet(b, c, e)
			}
			sw := c.(*switcher)
			for i := 0; sw.thr.Load() != 0; i++ {
				if i == 100_000_000 {
					b.Fatal("the adaptive choice did not settle in 100M Gets")
				}
				c.Get(seq[i&(benchSample-1)])
			}
			runParallelGet(b, seq, func(k string) bool {
				_, ok := c.Get(k)
				return ok
			})
		})
	}
}

// BenchmarkParallelGetRawOtter: the same as BenchmarkParallelGet on otter v2 used directly, with
// the same MaximumWeight and weigher: "weighted" has no expiry; "expiry" adds the wrapper's
// ExpiryCalculator (and otter's default clock); "expiry-coarse" is exactly the otter that the
// adaptive wrapper runs (same calculator, same coarse clock), so it measures the wrapper's own
// overhead.
func BenchmarkParallelGetRawOtter(b *testing.B) {
	es := benchEntries()
	for _, dist := range []string{"zipf", "uniform"} {
		seq := benchKeySeq(es, dist)
		for _, variant := range []string{"weighted", "expiry", "expiry-coarse"} {
			b.Run(dist+"/"+variant, func(b *testing.B) {
				o := &otter.Options[string, *Entry]{
					MaximumWeight: uint64(benchMaxBytes(es)),
					Weigher:       func(_ string, e *Entry) uint32 { return uint32(e.weight) },
				}
				if variant != "weighted" {
					o.ExpiryCalculator = otter.ExpiryWritingFunc(expiryWriting)
				}
				if variant == "expiry-coarse" {
					o.Clock = sharedCoarseClock()
				}
				c := otter.Must(o)
				for _, e := range es {
					c.Set(e.Key, stored(e))
				}
				c.CleanUp()
				if c.EstimatedSize() != benchKeys {
					b.Fatalf("%d entries", c.EstimatedSize())
				}
				runParallelGet(b, seq, func(k string) bool {
					_, ok := c.GetIfPresent(k)
					return ok
				})
			})
		}
	}
}

// BenchmarkSet: Set of new keys into a full cache (every Set evicts), one goroutine; for
// adaptativo this includes the maintenance run on the writer that keeps the limits exact
// ("-items": 1000 items bind, not the bytes; raw-otter: otter's own Set, whose evictions
// happen later on other goroutines).
func BenchmarkSet(b *testing.B) {
	es := benchEntries()
	w := es[0].Weight()
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			c := mustNew(b, p, Config{MaxBytes: 1000 * w})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.Set(es[i%benchKeys]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// the item limit binds instead of the byte limit
	for _, p := range []string{LRU, Adaptativo} {
		b.Run(p+"-items", func(b *testing.B) {
			c := mustNew(b, p, Config{MaxBytes: 1 << 30, MaxItems: 1000})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.Set(es[i%benchKeys]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("raw-otter", func(b *testing.B) {
		c := otter.Must(&otter.Options[string, *Entry]{
			MaximumWeight:    uint64(1000 * w),
			Weigher:          func(_ string, e *Entry) uint32 { return uint32(e.weight) },
			ExpiryCalculator: otter.ExpiryWritingFunc(expiryWriting),
		})
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c.Set(es[i%benchKeys].Key, stored(es[i%benchKeys]))
		}
	})
}

// BenchmarkParallelMixed: 90% Get, 10% Set with a 1 h TTL over 10k keys in a cache that holds
// half of them, from all Ps.
func BenchmarkParallelMixed(b *testing.B) {
	es := benchEntries()
	seq := benchKeySeq(es, "zipf")
	byKey := make(map[string]*Entry, len(es))
	for _, e := range es {
		byKey[e.Key] = e
	}
	w := es[0].Weight()
	for _, p := range Policies() {
		b.Run(p, func(b *testing.B) {
			c := mustNew(b, p, Config{MaxBytes: benchKeys / 2 * w})
			exp := time.Now().Add(time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(benchStart.Add(7919))
				for pb.Next() {
					k := seq[i&(benchSample-1)]
					if i%10 == 0 {
						e := *byKey[k]
						e.ExpiresAt = exp
						_ = c.Set(&e)
					} else {
						c.Get(k)
					}
					i++
				}
			})
		})
	}
}
