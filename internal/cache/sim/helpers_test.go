package sim

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// tracesDir locates shared/data/cache-traces beside the repository root (the directory holding
// go.mod): /work/shared for /work/main, and the copy CI lays beside its clone.
func tracesDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data", "cache-traces")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var traceCache sync.Map // file name -> Trace

// sharedTrace loads a shared trace, skipping the test when the file is absent (failing instead
// when PAINEL_REQUIRE_SERVICES=1, as CI sets: there shared/ is always beside the clone).
func sharedTrace(tb testing.TB, name string) Trace {
	tb.Helper()
	if t, ok := traceCache.Load(name); ok {
		return t.(Trace)
	}
	path := filepath.Join(tracesDir(), name)
	if _, err := os.Stat(path); err != nil {
		msg := "trace " + name + " not found at " + path + " (shared/data/cache-traces beside the repository root)"
		if os.Getenv("PAINEL_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	t, err := ReadTraceFile(path, FormatAuto)
	if err != nil {
		tb.Fatal(err)
	}
	traceCache.Store(name, t)
	return t
}

// zipfKeys returns n keys drawn from a Zipf(s) distribution over universe keys, shuffled so that
// popularity does not follow key order.
func zipfKeys(seed uint64, n int, s float64, universe uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, seed^0x5555))
	z := rand.NewZipf(r, s, 1, universe-1)
	perm := make([]uint64, universe)
	for i := range perm {
		perm[i] = uint64(i)
	}
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	out := make([]uint64, n)
	for i := range out {
		out[i] = perm[z.Uint64()]
	}
	return out
}

// mixedKeys interleaves Zipf accesses with sequential scans and loops, which separate LRU, LFU,
// FIFO and ARC.
func mixedKeys(seed uint64, n int, universe uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 7))
	z := zipfKeys(seed, n, 1.1, universe)
	out := make([]uint64, 0, n)
	for i := 0; len(out) < n; i++ {
		switch r.IntN(10) {
		case 0: // scan of new keys
			base := universe + r.Uint64N(universe*4)
			for j := uint64(0); j < r.Uint64N(universe/4+1) && len(out) < n; j++ {
				out = append(out, base+j)
			}
		case 1: // loop over a small range
			base := r.Uint64N(universe)
			l := r.Uint64N(universe/8 + 1)
			for rep := 0; rep < 3; rep++ {
				for j := uint64(0); j < l && len(out) < n; j++ {
					out = append(out, base+j)
				}
			}
		default:
			for j := 0; j < 50 && len(out) < n; j++ {
				out = append(out, z[(i*50+j)%len(z)])
			}
		}
	}
	return out
}

// logSizes returns n sizes spaced logarithmically from lo to hi.
func logSizes(lo, hi, n int) []int {
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		f := float64(i) / float64(n-1)
		v := int(float64(lo) * math.Pow(float64(hi)/float64(lo), f))
		if len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

func strconvU(k uint64) string { return strconv.FormatUint(k, 10) }
