package sim

// ARC lists; their sentinel nodes are the first four entries of ARC.ns.
const (
	arcT1 = iota // cached, seen once recently
	arcB1        // ghosts evicted from T1
	arcT2        // cached, seen at least twice
	arcB2        // ghosts evicted from T2
	arcLists
)

// ARC is the Adaptive Replacement Cache of Megiddo and Modha (FAST'03) with capacity c: resident
// lists T1 (recency) and T2 (frequency), ghost lists B1 and B2 of recently evicted keys, and a
// target size p for T1 that grows on B1 ghost hits and shrinks on B2 ghost hits. It follows the
// paper's pseudocode (cases I-IV and REPLACE) with integer adaptation steps.
type ARC struct {
	capacity int
	p        int
	lens     [arcLists]int
	idx      table
	ns       nodes // ns[0..3] are sentinels; ns[l].next is the MRU end of list l
}

// NewARC returns an ARC cache of capacity entries (capacity <= 0 caches nothing). It also keeps
// up to capacity ghost keys.
func NewARC(capacity int) *ARC {
	capacity = max(capacity, 0)
	hint := min(2*capacity, initialSlots)
	c := &ARC{capacity: capacity, idx: newTable(hint), ns: make(nodes, arcLists, hint+arcLists)}
	for l := int32(0); l < arcLists; l++ {
		c.ns.initSentinel(l)
	}
	return c
}

// Name implements Simulator.
func (c *ARC) Name() string { return PolicyARC }

// Len is the number of cached (resident) keys.
func (c *ARC) Len() int { return c.lens[arcT1] + c.lens[arcT2] }

// Target is ARC's current target size for T1.
func (c *ARC) Target() int { return c.p }

// Access implements Simulator.
func (c *ARC) Access(key uint64) bool {
	if c.capacity == 0 {
		return false
	}
	if i, ok := c.idx.get(key); ok {
		switch c.ns[i].list {
		case arcT1, arcT2: // case I
			c.move(i, arcT2)
			return true
		case arcB1: // case II
			delta := 1
			if c.lens[arcB2] > c.lens[arcB1] {
				delta = c.lens[arcB2] / c.lens[arcB1]
			}
			c.p = min(c.p+delta, c.capacity)
			c.replace(false)
			c.move(i, arcT2)
			return false
		default: // case III: B2
			delta := 1
			if c.lens[arcB1] > c.lens[arcB2] {
				delta = c.lens[arcB1] / c.lens[arcB2]
			}
			c.p = max(c.p-delta, 0)
			c.replace(true)
			c.move(i, arcT2)
			return false
		}
	}
	// Case IV: a key in none of the lists.
	free := int32(-1)
	l1 := c.lens[arcT1] + c.lens[arcB1]
	if l1 == c.capacity {
		if c.lens[arcT1] < c.capacity {
			free = c.drop(arcB1)
			c.replace(false)
		} else {
			free = c.drop(arcT1)
		}
	} else if total := l1 + c.lens[arcT2] + c.lens[arcB2]; total >= c.capacity {
		if total == 2*c.capacity {
			free = c.drop(arcB2)
		}
		c.replace(false)
	}
	if free < 0 {
		free = int32(len(c.ns))
		c.ns = append(c.ns, node{})
	}
	c.ns[free].key = key
	c.ns[free].list = arcT1
	c.ns.pushFront(arcT1, free)
	c.lens[arcT1]++
	c.idx.put(key, free)
	return false
}

// replace demotes the LRU entry of T1 or T2 to the MRU end of its ghost list.
func (c *ARC) replace(inB2 bool) {
	t1 := c.lens[arcT1]
	if t1 > 0 && ((inB2 && t1 == c.p) || t1 > c.p || c.lens[arcT2] == 0) {
		c.move(c.ns[arcT1].prev, arcB1)
	} else if c.lens[arcT2] > 0 {
		c.move(c.ns[arcT2].prev, arcB2)
	}
}

// move puts node i at the MRU end of list l.
func (c *ARC) move(i int32, l int32) {
	c.ns.unlink(i)
	c.lens[c.ns[i].list]--
	c.ns[i].list = l
	c.ns.pushFront(l, i)
	c.lens[l]++
}

// drop forgets the LRU key of list l and returns its node for reuse.
func (c *ARC) drop(l int32) int32 {
	i := c.ns[l].prev
	c.ns.unlink(i)
	c.lens[l]--
	c.idx.del(c.ns[i].key)
	return i
}

// lists returns each list's keys from MRU to LRU (for tests).
func (c *ARC) lists() [arcLists][]uint64 {
	var out [arcLists][]uint64
	for l := int32(0); l < arcLists; l++ {
		for i := c.ns[l].next; i != l; i = c.ns[i].next {
			out[l] = append(out[l], c.ns[i].key)
		}
	}
	return out
}

func (c *ARC) memoryBytes() int { return c.idx.bytes() + cap(c.ns)*24 }
