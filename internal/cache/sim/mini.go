package sim

import (
	"fmt"
	"math"
)

// Estimate is a miniature simulation's estimate for one policy at one cache size.
type Estimate struct {
	Policy   string
	Size     int     // capacity of the full-size cache, in entries
	MiniSize int     // capacity of the miniature cache: max(1, round(Size·R))
	HitRatio float64 // estimated hit ratio of the full-size cache (with the SHARDS_adj correction)
	// Unadjusted is the miniature cache's own hit ratio, hits/Samples. It tends to be the better
	// estimate when hit ratios are low and every key misses about equally often; HitRatio when a
	// few hot keys carry the hits. A large gap between the two flags a sample too small to trust.
	Unadjusted float64
	Samples    int // sampled accesses the miniature cache saw
}

// Mini runs miniature simulations (Waldspurger, Saemundsson, Ahmad and Park, USENIX ATC'17): the
// key stream is sampled spatially at rate R exactly as in [Shards] (same hash, so a Mini and a
// Shards fed the same keys see the same sample), and for each (policy, size) a simulator of
// capacity round(size·R) replays the sample; its hit ratio estimates the full cache's. Any
// policy of [NewSimulator] can be modelled. As in SHARDS_adj, the difference between the expected
// (N·R) and actual number of samples is counted as hits in the estimate: a sample larger than
// expected usually means a hot key happened to be sampled, and a smaller one that it was missed.
//
// Memory is that of the miniature simulators, about 40-70 bytes per miniature entry (see
// [Mini.MemoryBytes]).
type Mini struct {
	threshold uint64
	sims      []Simulator
	policies  []string
	sizes     []int
	mini      []int
	hits      []int
	n         uint64
	samples   int
}

// NewMini returns miniature simulations at rate (0 < rate <= 1) for every combination of
// policies and sizes (sizes in entries of the full cache; they must be positive).
func NewMini(rate float64, policies []string, sizes []int) (*Mini, error) {
	if !(rate > 0 && rate <= 1) {
		return nil, fmt.Errorf("miniature simulation rate %v not in (0, 1]", rate)
	}
	m := &Mini{threshold: rateThreshold(rate)}
	r := m.Rate()
	for _, p := range policies {
		for _, size := range sizes {
			if size <= 0 {
				return nil, fmt.Errorf("miniature simulation size %d: must be positive", size)
			}
			ms := max(1, int(math.Round(float64(size)*r)))
			s, err := NewSimulator(p, ms)
			if err != nil {
				return nil, err
			}
			m.sims = append(m.sims, s)
			m.policies = append(m.policies, s.Name())
			m.sizes = append(m.sizes, size)
			m.mini = append(m.mini, ms)
		}
	}
	m.hits = make([]int, len(m.sims))
	return m, nil
}

// Rate is the sampling rate R = T/P.
func (m *Mini) Rate() float64 { return float64(m.threshold) / ShardsModulus }

// SetRequests sets the number of accesses in the whole stream, for callers
// that pass only sampled ones to AccessSampled.
func (m *Mini) SetRequests(n uint64) { m.n = max(n, uint64(m.samples)) }

// AccessSampled offers an access that passed Sampled without counting it
// as a request of the whole stream (see SetRequests).
func (m *Mini) AccessSampled(key uint64) {
	m.n--
	m.Access(key)
}

// Access offers one access of the stream.
func (m *Mini) Access(key uint64) {
	m.n++
	if samplePriority(key) >= m.threshold {
		return
	}
	m.samples++
	for i, s := range m.sims {
		if s.Access(key) {
			m.hits[i]++
		}
	}
}

// Estimates returns one estimate per (policy, size), policies in the order given and sizes in
// the order given within each policy. Before any access every hit ratio is 0.
func (m *Mini) Estimates() []Estimate {
	out := make([]Estimate, len(m.sims))
	expected := float64(m.n) * m.Rate()
	adj := expected - float64(m.samples)
	for i := range m.sims {
		e := Estimate{Policy: m.policies[i], Size: m.sizes[i], MiniSize: m.mini[i], Samples: m.samples}
		if m.samples > 0 {
			e.Unadjusted = float64(m.hits[i]) / float64(m.samples)
		}
		if expected > 0 {
			e.HitRatio = min(max((float64(m.hits[i])+adj)/expected, 0), 1)
		}
		out[i] = e
	}
	return out
}

// MemoryBytes is the memory held by the miniature simulators.
func (m *Mini) MemoryBytes() int {
	n := 128 + len(m.sims)*64
	for _, s := range m.sims {
		if mb, ok := s.(interface{ memoryBytes() int }); ok {
			n += mb.memoryBytes()
		}
	}
	return n
}
