package sim

import (
	"fmt"
	"strings"
)

// Simulator is a cache policy on integer keys with unit weights: Access looks key up, admits it
// on a miss (evicting as the policy says) and reports whether it was a hit.
type Simulator interface {
	Access(key uint64) (hit bool)
	Name() string
}

// Policy names understood by [NewSimulator] and [NewMini].
const (
	PolicyLRU      = "lru"
	PolicyLFU      = "lfu"
	PolicyLFUAging = "lfu-aging"
	PolicyFIFO     = "fifo"
	PolicyARC      = "arc"
)

// Policies lists the policy names [NewSimulator] accepts.
func Policies() []string {
	return []string{PolicyLRU, PolicyLFU, PolicyLFUAging, PolicyFIFO, PolicyARC}
}

// NewSimulator returns a simulator of the named policy holding up to capacity entries. The
// lfu-aging policy halves every count each 10×capacity accesses.
func NewSimulator(policy string, capacity int) (Simulator, error) {
	switch strings.ToLower(policy) {
	case PolicyLRU:
		return NewLRU(capacity), nil
	case PolicyLFU:
		return NewLFU(capacity), nil
	case PolicyLFUAging:
		return NewAgingLFU(capacity, 0), nil
	case PolicyFIFO:
		return NewFIFO(capacity), nil
	case PolicyARC:
		return NewARC(capacity), nil
	}
	return nil, fmt.Errorf("unknown cache policy %q (want one of %s)", policy, strings.Join(Policies(), ", "))
}

// Result is the outcome of replaying a trace.
type Result struct {
	Requests int
	Hits     int
	HitRatio float64
}

// Run replays t through s and counts the hits.
func Run(t Trace, s Simulator) Result {
	var r Result
	if t.counts == nil {
		for _, k := range t.starts {
			if s.Access(k) {
				r.Hits++
			}
		}
	} else {
		for i, st := range t.starts {
			for k, end := st, st+uint64(t.counts[i]); k != end; k++ {
				if s.Access(k) {
					r.Hits++
				}
			}
		}
	}
	r.Requests = t.n
	if r.Requests > 0 {
		r.HitRatio = float64(r.Hits) / float64(r.Requests)
	}
	return r
}

// initialSlots bounds what a simulator allocates up front; it grows to its capacity as keys arrive.
const initialSlots = 1 << 12

// node is an entry of a slice-backed doubly linked list. Lists have sentinel nodes, so prev and
// next are always valid indexes.
type node struct {
	key  uint64
	prev int32
	next int32
	list int32 // which list the node is on (ARC)
}

type nodes []node

func (ns nodes) initSentinel(i int32) {
	ns[i].prev, ns[i].next = i, i
}

func (ns nodes) unlink(i int32) {
	p, n := ns[i].prev, ns[i].next
	ns[p].next = n
	ns[n].prev = p
}

// pushFront inserts i right after the sentinel head (the most recent end).
func (ns nodes) pushFront(head, i int32) {
	n := ns[head].next
	ns[i].prev = head
	ns[i].next = n
	ns[n].prev = i
	ns[head].next = i
}

// LRU is an exact least-recently-used cache.
type LRU struct {
	capacity int
	idx      table
	ns       nodes // ns[0] is the sentinel: ns[0].next is the most recent, ns[0].prev the least
}

// NewLRU returns an LRU cache of capacity entries (capacity <= 0 caches nothing).
func NewLRU(capacity int) *LRU {
	capacity = max(capacity, 0)
	hint := min(capacity, initialSlots)
	c := &LRU{capacity: capacity, idx: newTable(hint), ns: make(nodes, 1, hint+1)}
	c.ns.initSentinel(0)
	return c
}

// Name implements Simulator.
func (c *LRU) Name() string { return PolicyLRU }

// Len is the number of cached keys.
func (c *LRU) Len() int { return len(c.ns) - 1 }

// Access implements Simulator.
func (c *LRU) Access(key uint64) bool {
	if i, ok := c.idx.get(key); ok {
		if c.ns[0].next != i {
			c.ns.unlink(i)
			c.ns.pushFront(0, i)
		}
		return true
	}
	if c.capacity == 0 {
		return false
	}
	var i int32
	if len(c.ns)-1 < c.capacity {
		i = int32(len(c.ns))
		c.ns = append(c.ns, node{})
	} else {
		i = c.ns[0].prev
		c.idx.del(c.ns[i].key)
		c.ns.unlink(i)
	}
	c.ns[i].key = key
	c.ns.pushFront(0, i)
	c.idx.put(key, i)
	return false
}

// keys returns the cached keys from most to least recent (for tests).
func (c *LRU) keys() []uint64 {
	var out []uint64
	for i := c.ns[0].next; i != 0; i = c.ns[i].next {
		out = append(out, c.ns[i].key)
	}
	return out
}

func (c *LRU) memoryBytes() int { return c.idx.bytes() + cap(c.ns)*24 }

// FIFO is a first-in first-out cache: hits do not change the eviction order.
type FIFO struct {
	capacity int
	idx      table
	ring     []uint64
	head     int // oldest entry once the ring is full
}

// NewFIFO returns a FIFO cache of capacity entries (capacity <= 0 caches nothing).
func NewFIFO(capacity int) *FIFO {
	capacity = max(capacity, 0)
	hint := min(capacity, initialSlots)
	return &FIFO{capacity: capacity, idx: newTable(hint), ring: make([]uint64, 0, hint)}
}

// Name implements Simulator.
func (c *FIFO) Name() string { return PolicyFIFO }

// Len is the number of cached keys.
func (c *FIFO) Len() int { return len(c.ring) }

// Access implements Simulator.
func (c *FIFO) Access(key uint64) bool {
	if _, ok := c.idx.get(key); ok {
		return true
	}
	if c.capacity == 0 {
		return false
	}
	if len(c.ring) < c.capacity {
		c.idx.put(key, int32(len(c.ring)))
		c.ring = append(c.ring, key)
		return false
	}
	c.idx.del(c.ring[c.head])
	c.ring[c.head] = key
	c.idx.put(key, int32(c.head))
	c.head++
	if c.head == c.capacity {
		c.head = 0
	}
	return false
}

// keys returns the cached keys from newest to oldest (for tests).
func (c *FIFO) keys() []uint64 {
	out := make([]uint64, 0, len(c.ring))
	for j := range c.ring {
		i := (c.head - 1 - j + 2*len(c.ring)) % len(c.ring)
		out = append(out, c.ring[i])
	}
	return out
}

func (c *FIFO) memoryBytes() int { return c.idx.bytes() + cap(c.ring)*8 }
