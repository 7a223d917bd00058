package sim

import (
	"cmp"
	"slices"
)

// Counted is a monitored key with its estimated count. The true count lies in
// [Count-Error, Count]; Error never exceeds N/m for N offers to a summary of m counters.
type Counted struct {
	Key   string
	Count uint64
	Error uint64
}

// SpaceSaving finds the most frequent keys of a stream with m counters (Metwally, Agrawal and El
// Abbadi, "Efficient computation of frequent and top-k elements in data streams", ICDT'05).
//
// A monitored key's counter is incremented; an unmonitored key takes over the counter with the
// smallest count c, inheriting c as its possible overestimation (Error) and counting c+1. Since
// the counts always sum to N, the smallest is at most N/m, which bounds every Error, and any key
// whose true count exceeds N/m is monitored.
//
// Counters live in the stream-summary structure: a doubly linked list of buckets in increasing
// count order, each holding the counters with that count; an increment moves a counter to the
// neighbouring bucket (creating it if needed), so Offer is O(1) (plus one map operation).
type SpaceSaving struct {
	m     int
	n     uint64
	idx   map[string]int32
	ctrs  []ssCounter
	bkts  []ssBucket // bkts[0] is the sentinel: bkts[0].next is the smallest count
	freeB []int32
}

type ssCounter struct {
	key        string
	err        uint64
	bucket     int32
	prev, next int32 // within the bucket; -1 = none
}

type ssBucket struct {
	count      uint64
	head       int32 // first counter; -1 = none
	prev, next int32
}

// NewSpaceSaving returns a summary with m counters (m < 1 means 1).
func NewSpaceSaving(m int) *SpaceSaving {
	m = max(m, 1)
	return &SpaceSaving{
		m:    m,
		idx:  make(map[string]int32, m),
		ctrs: make([]ssCounter, 0, m),
		bkts: make([]ssBucket, 1, 64),
	}
}

// Total is the number of offers so far (N).
func (s *SpaceSaving) Total() uint64 { return s.n }

// Bound is the largest possible overestimation of any count now: the smallest counter once all m
// are in use, else 0. An unmonitored key occurred at most Bound times. Bound <= N/m.
func (s *SpaceSaving) Bound() uint64 {
	if len(s.ctrs) < s.m {
		return 0
	}
	return s.bkts[s.bkts[0].next].count
}

// Offer counts one occurrence of key.
func (s *SpaceSaving) Offer(key string) {
	s.n++
	if i, ok := s.idx[key]; ok {
		s.increment(i)
		return
	}
	if len(s.ctrs) < s.m {
		i := int32(len(s.ctrs))
		s.ctrs = append(s.ctrs, ssCounter{key: key})
		s.idx[key] = i
		b := s.bkts[0].next
		if b == 0 || s.bkts[b].count != 1 {
			b = s.newBucket(1, 0)
		}
		s.attach(i, b)
		return
	}
	// Replace a counter with the smallest count.
	b := s.bkts[0].next
	i := s.bkts[b].head
	c := &s.ctrs[i]
	delete(s.idx, c.key)
	c.key = key
	c.err = s.bkts[b].count
	s.idx[key] = i
	s.increment(i)
}

// increment moves counter i to the bucket for its count plus one.
func (s *SpaceSaving) increment(i int32) {
	b := s.ctrs[i].bucket
	want := s.bkts[b].count + 1
	nb := s.bkts[b].next
	if nb == 0 || s.bkts[nb].count != want {
		if s.bkts[b].head == i && s.ctrs[i].next < 0 {
			s.bkts[b].count = want // alone in its bucket
			return
		}
		nb = s.newBucket(want, b)
	}
	s.detach(i)
	s.attach(i, nb)
}

func (s *SpaceSaving) attach(i, b int32) {
	c := &s.ctrs[i]
	c.bucket = b
	c.prev = -1
	c.next = s.bkts[b].head
	if c.next >= 0 {
		s.ctrs[c.next].prev = i
	}
	s.bkts[b].head = i
}

func (s *SpaceSaving) detach(i int32) {
	c := &s.ctrs[i]
	b := c.bucket
	if c.prev >= 0 {
		s.ctrs[c.prev].next = c.next
	} else {
		s.bkts[b].head = c.next
	}
	if c.next >= 0 {
		s.ctrs[c.next].prev = c.prev
	}
	if s.bkts[b].head < 0 {
		p, n := s.bkts[b].prev, s.bkts[b].next
		s.bkts[p].next = n
		s.bkts[n].prev = p
		s.freeB = append(s.freeB, b)
	}
}

func (s *SpaceSaving) newBucket(count uint64, after int32) int32 {
	var b int32
	if n := len(s.freeB); n > 0 {
		b = s.freeB[n-1]
		s.freeB = s.freeB[:n-1]
	} else {
		b = int32(len(s.bkts))
		s.bkts = append(s.bkts, ssBucket{})
	}
	next := s.bkts[after].next
	s.bkts[b] = ssBucket{count: count, head: -1, prev: after, next: next}
	s.bkts[after].next = b
	s.bkts[next].prev = b
	return b
}

// Lookup returns key's counter if it is monitored.
func (s *SpaceSaving) Lookup(key string) (Counted, bool) {
	i, ok := s.idx[key]
	if !ok {
		return Counted{}, false
	}
	c := &s.ctrs[i]
	return Counted{Key: c.key, Count: s.bkts[c.bucket].count, Error: c.err}, true
}

// Top returns up to k monitored keys with the highest counts, highest first (ties: smaller Error,
// then key). k <= 0 returns every monitored key. It walks the buckets from the largest count down,
// so it costs O(k log k) plus the size of the last bucket it reads.
func (s *SpaceSaving) Top(k int) []Counted {
	if k <= 0 || k > len(s.ctrs) {
		k = len(s.ctrs)
	}
	out := make([]Counted, 0, k)
	for b := s.bkts[0].prev; b != 0 && len(out) < k; b = s.bkts[b].prev {
		start := len(out)
		for i := s.bkts[b].head; i >= 0; i = s.ctrs[i].next {
			c := &s.ctrs[i]
			out = append(out, Counted{Key: c.key, Count: s.bkts[b].count, Error: c.err})
		}
		slices.SortFunc(out[start:], func(a, b Counted) int {
			if c := cmp.Compare(a.Error, b.Error); c != 0 {
				return c
			}
			return cmp.Compare(a.Key, b.Key)
		})
	}
	if len(out) > k {
		out = out[:k]
	}
	return out
}
