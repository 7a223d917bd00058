package sim

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// hllP is the precision of the distinct-key counter: 2^14 registers, a standard error of
// 1.04/√16384 ≈ 0.8%.
const hllP = 14

// hll counts distinct keys (HyperLogLog, Flajolet et al. 2007, with linear counting for small
// counts). Add is lock-free (an atomic max per register), so callers can count every access
// without their lock.
type hll struct {
	reg [1 << hllP]atomic.Uint32
}

// add counts the key whose well-mixed 64-bit hash is h.
func (x *hll) add(h uint64) {
	h = sampleHash(h ^ 0xB7E151628AED2A6B) // independent of the sampling decision's bits
	r := &x.reg[h>>(64-hllP)]
	rank := uint32(bits.LeadingZeros64(h<<hllP|1<<(hllP-1))) + 1
	for {
		old := r.Load()
		if old >= rank || r.CompareAndSwap(old, rank) {
			return
		}
	}
}

// count estimates the number of distinct keys added.
func (x *hll) count() float64 {
	const m = 1 << hllP
	sum, zeros := 0.0, 0
	for i := range x.reg {
		v := x.reg[i].Load()
		sum += math.Ldexp(1, -int(v))
		if v == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(float64(m)/float64(zeros))
	}
	return e
}

func (x *hll) bytes() int { return len(x.reg) * 4 }
