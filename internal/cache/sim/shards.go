package sim

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
)

// ShardsModulus is P in SHARDS' sampling test hash(key) mod P < T.
const ShardsModulus = 1 << 24

// ShardsMaxTracked is the most keys one Shards instance tracks: at this bound its worst-case
// footprint (see [Shards.MemoryBytes]) is just under 1 MiB.
const ShardsMaxTracked = 16000

const shardsMinTracked = 64

// Histogram of scaled distances: exact below 512, then 256 log-linear sub-buckets per power of
// two (relative bucket width at most 1/256).
const (
	subBits = 8
	subN    = 1 << subBits
)

// Shards estimates an LRU miss-ratio curve from a spatially hashed sample of the key stream
// (SHARDS, Waldspurger et al., FAST'15).
//
// A key is sampled when sampleHash(key) mod P < T, so the rate is R = T/P and every access to a
// sampled key is seen. Reuse distances are computed exactly on the sampled stream (a Fenwick tree
// over access times, as in [ExactLRUCurve]) and scaled to the full stream: a sampled distance d_s
// (counting the key itself) estimates 1 + (d_s-1)/R. At most maxTracked keys are tracked: when a
// new sampled key would exceed it, the keys with the largest hash are dropped and T is lowered to
// that hash (fixed-size SHARDS), and the histogram is rescaled by R_new/R_old so it reads as if
// sampled at the new rate throughout. With a large enough bound the rate never moves (fixed-rate
// SHARDS). [Shards.Curve] applies SHARDS_adj: the difference between the expected number of
// samples, N·R, and the histogram's total is added to the first bucket.
//
// Accuracy is limited by how many keys are sampled. On the OLTP trace (186,880 keys), over sizes
// of 1k-200k entries, the mean absolute error against the exact curve is 0.015 at R=0.01 (about
// 1,800 keys tracked), 0.0017 with 8,192 keys and 0.0024 with ShardsMaxTracked keys (R about
// 0.085). Over 20 different sampling hashes it averaged 0.016 (0.005-0.033) at R=0.01 and 0.0039
// (0.0018-0.011) at ShardsMaxTracked: within the 1 MiB budget, fixed-size SHARDS at
// ShardsMaxTracked is the most accurate setting.
//
// Memory: per tracked key 16-32 bytes of hash table (12-byte slots at a load of 3/8 to 3/4),
// 8 bytes of Fenwick tree and 16 bytes of position-to-key map (a window of two positions per key)
// and 8 bytes of max-heap, 48-64 bytes in all, plus a histogram of at most 64 KiB: below 1 MiB at
// [ShardsMaxTracked].
type Shards struct {
	threshold  uint64 // T
	maxTracked int
	sd         *stackDist
	heap       []uint64      // tracked keys, max-heap on their sampling hash
	bins       []float64     // histogram of scaled distances, in units of weight
	cold       float64       // first accesses (infinite distance), in units of weight
	weight     float64       // what one sample adds now; grows as T is lowered
	n          uint64        // accesses offered
	samples    uint64        // accesses sampled
	thrA       atomic.Uint64 // threshold, for Wants

	// Hybrid (NewHybridShards): keys tracked exactly, their promoter, and their accounting.
	exact     *exactSet
	prom      *promoter
	promoteAt int     // estimated count at which a key becomes exact
	nExact    uint64  // accesses to exact keys since they became exact
	skipped   uint64  // of which the first after a promotion of an untracked key: distance unknown
	hotW      float64 // histogram weight of the exact accesses
	distinct  *hll    // distinct keys of the whole stream (hybrid)
}

// NewShards returns a SHARDS estimator sampling at rate (0 < rate <= 1, rounded to a multiple of
// 1/P) that tracks at most maxTracked keys (maxTracked <= 0 or above [ShardsMaxTracked] means
// ShardsMaxTracked; below 64 means 64). Pick the rate for fixed-rate SHARDS, e.g.
// NewShards(0.01, 0); pick the bound for fixed-size SHARDS, e.g. NewShards(1, 8192). It panics if
// rate is not in (0, 1].
func NewShards(rate float64, maxTracked int) *Shards {
	if !(rate > 0 && rate <= 1) {
		panic(fmt.Sprintf("sim.NewShards: rate %v not in (0, 1]", rate))
	}
	if maxTracked <= 0 || maxTracked > ShardsMaxTracked {
		maxTracked = ShardsMaxTracked
	}
	maxTracked = max(maxTracked, shardsMinTracked)
	s := &Shards{
		threshold:  rateThreshold(rate),
		maxTracked: maxTracked,
		sd:         newStackDist(256),
		weight:     1,
	}
	s.thrA.Store(s.threshold)
	return s
}

// Hybrid SHARDS defaults: see NewHybridShards.
const (
	// HybridMaxExact is the most keys a hybrid Shards tracks exactly, and HybridMaxSampled the
	// most sampled keys it tracks besides: at these bounds its worst-case footprint (see
	// hybridWorstCaseBytes) is just under 1 MiB.
	HybridMaxExact   = 8192
	HybridMaxSampled = 4000
	hybridPromoteAt  = 16
	promoterWidth    = 8192
)

// NewHybridShards returns SHARDS at rate, tracking at most maxTracked sampled keys, that also
// tracks the hottest keys exactly, whether sampled or not (at most maxExact of them; <= 0 means
// HybridMaxExact): the approach of Carra and Neglia (ATC'20), who showed that a sampled MRC's
// error comes mostly from the few very popular keys that the spatial sample happens to include
// or miss. Every access is counted in a count-min sketch (4×8192 16-bit counters, conservative
// update, halved every 524,288 accesses); a key whose estimated count reaches 16 becomes exact,
// for good, until maxExact keys are. Reuse distances then add the exact keys touched since the
// key's previous access (counted one for one) to the sampled others scaled by 1/R, and an exact
// key's access weighs one access where a sampled one weighs 1/R. The first access of a key after
// its promotion has an unknown distance (its previous accesses were not tracked unless it was
// sampled) and is left out.
//
// The curve is then a ratio estimate: the sample gives the distribution of the re-accesses'
// distances, and a HyperLogLog counter of the whole stream (2^14 registers, 0.8% standard
// error) how many accesses are first accesses (misses at every size), where plain SHARDS infers
// that from the sample too.
//
// maxTracked (<= 0 or above HybridMaxSampled: HybridMaxSampled) bounds the sampled keys, as in
// fixed-size SHARDS; maxExact (<= 0 or above HybridMaxExact: HybridMaxExact) the exact ones.
//
// On the OLTP trace at R=0.01 over 12 sampling hashes the mean absolute error was 0.0064 (worst
// 0.0155), where plain SHARDS had 0.026 (worst 0.042) on the same hashes.
func NewHybridShards(rate float64, maxTracked, maxExact int) *Shards {
	if maxTracked <= 0 || maxTracked > HybridMaxSampled {
		maxTracked = HybridMaxSampled
	}
	s := NewShards(rate, maxTracked)
	if maxExact <= 0 || maxExact > HybridMaxExact {
		maxExact = HybridMaxExact
	}
	s.exact = newExactSet(maxExact)
	s.distinct = new(hll)
	s.prom = newPromoter(promoterWidth)
	s.promoteAt = hybridPromoteAt
	return s
}

// NewFixedSizeShards returns fixed-size SHARDS: it starts sampling everything and lowers the rate
// so that at most maxTracked keys are tracked.
func NewFixedSizeShards(maxTracked int) *Shards { return NewShards(1, maxTracked) }

func rateThreshold(rate float64) uint64 {
	return uint64(min(max(math.Round(rate*ShardsModulus), 1), ShardsModulus))
}

// sampleHash mixes a key into 64 well-distributed bits (the splitmix64 finalizer); the sampling
// decision uses the low 24.
func sampleHash(k uint64) uint64 {
	k += 0x9E3779B97F4A7C15
	k = (k ^ (k >> 30)) * 0xBF58476D1CE4E5B9
	k = (k ^ (k >> 27)) * 0x94D049BB133111EB
	return k ^ (k >> 31)
}

func samplePriority(k uint64) uint64 { return sampleHash(k) & (ShardsModulus - 1) }

// Rate is the current sampling rate R = T/P.
func (s *Shards) Rate() float64 { return float64(s.threshold) / ShardsModulus }

// Requests is the number of accesses offered.
func (s *Shards) Requests() uint64 { return s.n }

// Samples is the number of accesses that were sampled.
func (s *Shards) Samples() uint64 { return s.samples }

// Tracked is the number of distinct sampled keys currently tracked.
func (s *Shards) Tracked() int { return s.sd.live }

// Sampled reports whether key is in the spatial sample at rate: a lock-free
// pre-filter for callers that feed only sampled accesses (with
// AccessSampled) and count the rest with SetRequests. A Shards whose rate
// has since been lowered still rejects the keys it no longer samples.
func Sampled(key uint64, rate float64) bool { return samplePriority(key) < rateThreshold(rate) }

// Wants reports whether an access to key concerns s: the key is in its spatial sample at the
// current rate, or (hybrid) tracked exactly. It is safe to call without the caller's lock, to
// decide whether to take it and call AccessSampled.
func (s *Shards) Wants(key uint64) bool {
	return samplePriority(key) < s.thrA.Load() || (s.exact != nil && s.exact.has(key))
}

// SetRequests sets the number of accesses in the whole stream, for callers
// that pass only sampled ones to AccessSampled.
func (s *Shards) SetRequests(n uint64) { s.n = max(n, s.samples+s.nExact) }

// AccessSampled offers an access that passed Sampled or Wants, without counting it as a request
// of the whole stream (see SetRequests) or offering it to the promoter (see Observe).
func (s *Shards) AccessSampled(key uint64) { s.track(key) }

// Observe offers a hybrid estimator's promoter one access of a temporal sample of the stream in
// which each access stands for every accesses (e.g. 8 for a 1-in-8 sample), for callers that do
// not pass the whole stream to Access. Without hybrid tracking it does nothing.
func (s *Shards) Observe(key uint64, every int) {
	if s.exact != nil {
		s.promote(key, max(every, 1))
	}
}

// Seen counts an access to key in a hybrid estimator's distinct-key counter, for callers that do
// not pass every access to Access: it must see every access. It takes no lock of the caller's
// (the counter's registers are atomic). Without hybrid tracking it does nothing.
func (s *Shards) Seen(key uint64) {
	if s.distinct != nil {
		s.distinct.add(key)
	}
}

// Exact is the number of keys tracked exactly (hybrid).
func (s *Shards) Exact() int {
	if s.exact == nil {
		return 0
	}
	return s.exact.n
}

// Access offers one access of the stream.
func (s *Shards) Access(key uint64) {
	s.n++
	if s.distinct != nil {
		s.distinct.add(key)
	}
	if s.exact != nil {
		s.promote(key, 1)
	}
	s.track(key)
}

func (s *Shards) promote(key uint64, inc int) {
	if s.exact.n < s.exact.max && s.prom.observe(key, inc) >= s.promoteAt && !s.exact.has(key) {
		s.exact.add(key)
	}
}

// track records an access to a key that is sampled or exact, and ignores the others.
func (s *Shards) track(key uint64) {
	hot := s.exact != nil && s.exact.has(key)
	if !hot && samplePriority(key) >= s.threshold {
		return
	}
	if hot {
		s.nExact++
	} else {
		s.samples++
	}
	d, dh, seen := s.sd.accessHot(key, hot)
	if !seen {
		if hot {
			s.skipped++
			return
		}
		s.cold += s.weight
		s.heapPush(key)
		if s.sd.live-s.sd.liveHot > s.maxTracked {
			s.lower()
		}
		return
	}
	r := s.Rate()
	scaled := 1 + float64(dh) + float64(d-1-dh)/r
	w := s.weight
	if hot {
		w *= r // one access, where a sample stands for 1/R
		s.hotW += w
	}
	b := binOf(uint64(scaled))
	if b >= len(s.bins) {
		grown := make([]float64, (b/subN+1)*subN)
		copy(grown, s.bins)
		s.bins = grown
	}
	s.bins[b] += w
}

// lower drops the tracked keys with the largest hash and lowers T to that hash.
func (s *Shards) lower() {
	for s.sd.live-s.sd.liveHot > s.maxTracked && len(s.heap) > 0 {
		top := samplePriority(s.heap[0])
		for len(s.heap) > 0 && samplePriority(s.heap[0]) == top {
			if k := s.heapPop(); s.exact == nil || !s.exact.has(k) {
				s.sd.remove(k)
			}
		}
		if top == 0 {
			continue // degenerate: more than maxTracked keys hash to 0; keep T >= 1
		}
		// Rescale the histogram by R_new/R_old: future samples weigh R_old/R_new more instead.
		s.weight *= float64(s.threshold) / float64(top)
		s.threshold = top
		s.thrA.Store(top)
	}
}

func (s *Shards) heapPush(k uint64) {
	if len(s.heap) == cap(s.heap) {
		grown := make([]uint64, len(s.heap), min(max(2*cap(s.heap), 64), s.maxTracked+1))
		copy(grown, s.heap)
		s.heap = grown
	}
	s.heap = append(s.heap, k)
	h := s.heap
	i := len(h) - 1
	pk := samplePriority(k)
	for i > 0 {
		parent := (i - 1) / 2
		if samplePriority(h[parent]) >= pk {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = k
}

func (s *Shards) heapPop() uint64 {
	h := s.heap
	top := h[0]
	last := h[len(h)-1]
	h = h[:len(h)-1]
	s.heap = h
	if len(h) == 0 {
		return top
	}
	pl := samplePriority(last)
	i := 0
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		pc := samplePriority(h[c])
		if c+1 < len(h) {
			if p2 := samplePriority(h[c+1]); p2 > pc {
				c, pc = c+1, p2
			}
		}
		if pc <= pl {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = last
	return top
}

// Curve returns the estimated LRU miss ratio at each size (in entries of the full stream), with
// the SHARDS_adj correction. Sizes <= 0, and every size before any access, give 1.
func (s *Shards) Curve(sizes []int) []float64 {
	out := make([]float64, len(sizes))
	r := s.Rate()
	// In units of samples at the current rate: every access not to an exact key is sampled
	// with probability R, an exact key's access counts R.
	expected := float64(s.n-min(s.nExact, s.n)) * r
	denom := float64(s.n-min(s.skipped, s.n)) * r
	cum := make([]float64, len(s.bins))
	total := s.cold
	for i, v := range s.bins {
		total += v
		cum[i] = v
		if i > 0 {
			cum[i] += cum[i-1]
		}
	}
	adj := expected - (total-s.hotW)/s.weight
	if s.distinct != nil && total > s.cold {
		// Ratio estimator: the sample gives the distribution of the re-accesses' distances,
		// the distinct counter how many accesses are first accesses.
		reuse := max(float64(s.n)-s.distinct.count(), 0) * r
		scale := reuse / (total - s.cold)
		for i, c := range sizes {
			out[i] = 1
			if c <= 0 || s.n == 0 {
				continue
			}
			out[i] = min(max(1-s.cumAt(cum, c)*scale/(float64(s.n)*r), 0), 1)
		}
		return out
	}
	for i, c := range sizes {
		out[i] = 1
		if c <= 0 || denom <= 0 {
			continue
		}
		hits := adj
		if b := binOf(uint64(c)); b >= len(cum) {
			if len(cum) > 0 {
				hits += cum[len(cum)-1] / s.weight
			}
		} else {
			lo, width := binRange(b)
			part := s.bins[b] * float64(uint64(c)-lo+1) / float64(width)
			if b > 0 {
				part += cum[b-1]
			}
			hits += part / s.weight
		}
		out[i] = min(max(1-hits/denom, 0), 1)
	}
	return out
}

// cumAt is the histogram weight at distances up to c.
func (s *Shards) cumAt(cum []float64, c int) float64 {
	b := binOf(uint64(c))
	if b >= len(cum) {
		if len(cum) == 0 {
			return 0
		}
		return cum[len(cum)-1]
	}
	lo, width := binRange(b)
	part := s.bins[b] * float64(uint64(c)-lo+1) / float64(width)
	if b > 0 {
		part += cum[b-1]
	}
	return part
}

// MemoryBytes is the memory the estimator holds: its hash table, Fenwick tree, position map,
// heap and histogram (slice capacities), plus the fixed-size fields. It stays below 1 MiB.
func (s *Shards) MemoryBytes() int {
	n := s.sd.bytes() + cap(s.heap)*8 + cap(s.bins)*8 + 160
	if s.exact != nil {
		n += s.exact.bytes() + s.prom.bytes() + s.distinct.bytes()
	}
	return n
}

// shardsWorstCaseBytes bounds MemoryBytes for an instance tracking at most maxTracked keys: the
// table holds maxTracked+1 keys for a moment, the window has at most 2·maxTracked+2 positions,
// the heap maxTracked+1 keys, and distances stay below 2^39 (d_s <= maxTracked+1, R >= 1/P).
func shardsWorstCaseBytes(maxTracked int) int {
	w := 2*maxTracked + 2
	return slotsFor(maxTracked+1)*12 + (w+1)*4 + w*8 + (maxTracked+1)*8 + (binOf(1<<39-1)/subN+1)*subN*8 + 128
}

// hybridWorstCaseBytes bounds MemoryBytes for a hybrid instance: shardsWorstCaseBytes for all
// its keys, plus the exact markers' tree and flags, the exact set, the promoter and the counter.
func hybridWorstCaseBytes(maxTracked, maxExact int) int {
	w := 2*(maxTracked+maxExact) + 2
	return shardsWorstCaseBytes(maxTracked+maxExact) + 32 + (w+1)*4 + (w+63)/64*8 +
		newExactSet(maxExact).bytes() + 4*promoterWidth*2 + (1<<hllP)*4
}

// binOf is the histogram bucket of distance v.
func binOf(v uint64) int {
	if v < 2*subN {
		return int(v)
	}
	e := bits.Len64(v) - 1
	return (e-subBits+1)*subN + int((v>>(e-subBits))&(subN-1))
}

// binRange is the first distance of bucket i and how many distances it holds.
func binRange(i int) (lo, width uint64) {
	if i < 2*subN {
		return uint64(i), 1
	}
	e := i/subN + subBits - 1
	sub := uint64(i % subN)
	return (subN + sub) << (e - subBits), 1 << (e - subBits)
}
