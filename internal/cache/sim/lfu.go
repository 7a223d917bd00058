package sim

// LFU is an O(1) least-frequently-used cache (Shah, Mitra and Matani's frequency-bucket layout):
// entries hang off a list of buckets with strictly increasing counts, a hit moves an entry to the
// bucket for count+1, and the victim is the least recently used entry of the lowest bucket. A new
// entry starts at count 1; counts exist only for cached keys.
//
// With aging (NewAgingLFU) every count is halved (rounding down, minimum 1) once per period of
// accesses, merging buckets that meet while keeping recency order, so old popularity fades. The
// halving costs O(capacity) once per period, O(1) amortised when the period is a multiple of the
// capacity.
type LFU struct {
	capacity int
	period   int // accesses between halvings; 0 = no aging
	untilAge int
	clock    uint64
	idx      table
	items    []lfuItem   // items[0] unused (index 0 means "none")
	buckets  []lfuBucket // buckets[0] is the sentinel of the bucket list
	freeB    []int32
}

type lfuItem struct {
	key    uint64
	stamp  uint64 // last access, for merging buckets in recency order when aging
	prev   int32  // towards more recent within the bucket; 0 = none
	next   int32  // towards less recent; 0 = none
	bucket int32
}

type lfuBucket struct {
	count      uint64
	head, tail int32 // most and least recent item; 0 = none
	prev, next int32 // bucket list in increasing count, sentinel 0
}

// NewLFU returns an LFU cache of capacity entries without aging (capacity <= 0 caches nothing).
func NewLFU(capacity int) *LFU { return NewAgingLFU(capacity, -1) }

// NewAgingLFU returns an LFU cache of capacity entries whose counts are halved every period
// accesses; period 0 means 10×capacity, a negative period disables aging.
func NewAgingLFU(capacity, period int) *LFU {
	capacity = max(capacity, 0)
	switch {
	case period == 0:
		period = 10 * max(capacity, 1)
	case period < 0:
		period = 0
	}
	hint := min(capacity, initialSlots)
	c := &LFU{
		capacity: capacity,
		period:   period,
		untilAge: period,
		idx:      newTable(hint),
		items:    make([]lfuItem, 1, hint+1),
		buckets:  make([]lfuBucket, 1, 64),
	}
	return c
}

// Name implements Simulator.
func (c *LFU) Name() string {
	if c.period > 0 {
		return PolicyLFUAging
	}
	return PolicyLFU
}

// Len is the number of cached keys.
func (c *LFU) Len() int { return len(c.items) - 1 }

// Access implements Simulator.
func (c *LFU) Access(key uint64) bool {
	c.clock++
	if c.period > 0 {
		c.untilAge--
		if c.untilAge == 0 {
			c.untilAge = c.period
			c.age()
		}
	}
	if i, ok := c.idx.get(key); ok {
		c.items[i].stamp = c.clock
		c.bump(i)
		return true
	}
	if c.capacity == 0 {
		return false
	}
	var i int32
	if len(c.items)-1 < c.capacity {
		i = int32(len(c.items))
		c.items = append(c.items, lfuItem{})
	} else {
		b := c.buckets[0].next
		i = c.buckets[b].tail
		c.idx.del(c.items[i].key)
		c.detach(i)
	}
	c.items[i].key = key
	c.items[i].stamp = c.clock
	b := c.buckets[0].next
	if b == 0 || c.buckets[b].count != 1 {
		b = c.newBucket(1, 0)
	}
	c.attach(i, b)
	c.idx.put(key, i)
	return false
}

// bump moves item i to the bucket for its count plus one.
func (c *LFU) bump(i int32) {
	b := c.items[i].bucket
	want := c.buckets[b].count + 1
	nb := c.buckets[b].next
	if nb == 0 || c.buckets[nb].count != want {
		if c.buckets[b].head == i && c.buckets[b].tail == i {
			// Alone in its bucket: just raise the bucket's count.
			c.buckets[b].count = want
			return
		}
		nb = c.newBucket(want, b)
	}
	c.detach(i)
	c.attach(i, nb)
}

// attach puts item i at the most recent end of bucket b.
func (c *LFU) attach(i, b int32) {
	it := &c.items[i]
	it.bucket = b
	it.prev = 0
	it.next = c.buckets[b].head
	if it.next != 0 {
		c.items[it.next].prev = i
	} else {
		c.buckets[b].tail = i
	}
	c.buckets[b].head = i
}

// detach removes item i from its bucket, freeing the bucket when it empties.
func (c *LFU) detach(i int32) {
	it := &c.items[i]
	b := it.bucket
	if it.prev != 0 {
		c.items[it.prev].next = it.next
	} else {
		c.buckets[b].head = it.next
	}
	if it.next != 0 {
		c.items[it.next].prev = it.prev
	} else {
		c.buckets[b].tail = it.prev
	}
	if c.buckets[b].head == 0 {
		c.freeBucket(b)
	}
}

// newBucket inserts an empty bucket with the given count after bucket after.
func (c *LFU) newBucket(count uint64, after int32) int32 {
	var b int32
	if n := len(c.freeB); n > 0 {
		b = c.freeB[n-1]
		c.freeB = c.freeB[:n-1]
	} else {
		b = int32(len(c.buckets))
		c.buckets = append(c.buckets, lfuBucket{})
	}
	next := c.buckets[after].next
	c.buckets[b] = lfuBucket{count: count, prev: after, next: next}
	c.buckets[after].next = b
	c.buckets[next].prev = b
	return b
}

func (c *LFU) freeBucket(b int32) {
	p, n := c.buckets[b].prev, c.buckets[b].next
	c.buckets[p].next = n
	c.buckets[n].prev = p
	c.freeB = append(c.freeB, b)
}

// age halves every count, merging buckets whose new counts coincide by recency.
func (c *LFU) age() {
	var last int32 // last surviving bucket, 0 before the first
	for b := c.buckets[0].next; b != 0; {
		next := c.buckets[b].next
		nc := max(c.buckets[b].count/2, 1)
		if last != 0 && c.buckets[last].count == nc {
			c.merge(last, b)
		} else {
			c.buckets[b].count = nc
			last = b
		}
		b = next
	}
}

// merge moves every item of bucket src into dst, keeping most-recent-first order, and frees src.
func (c *LFU) merge(dst, src int32) {
	a, b := c.buckets[dst].head, c.buckets[src].head
	var head, tail int32
	for a != 0 || b != 0 {
		var i int32
		if b == 0 || (a != 0 && c.items[a].stamp > c.items[b].stamp) {
			i, a = a, c.items[a].next
		} else {
			i, b = b, c.items[b].next
		}
		c.items[i].bucket = dst
		c.items[i].prev = tail
		c.items[i].next = 0
		if tail != 0 {
			c.items[tail].next = i
		} else {
			head = i
		}
		tail = i
	}
	c.buckets[dst].head, c.buckets[dst].tail = head, tail
	c.buckets[src].head = 0
	c.freeBucket(src)
}

// counts returns (key, count) pairs in eviction order: lowest count first, least recent first
// within a count (for tests).
func (c *LFU) counts() [][2]uint64 {
	var out [][2]uint64
	for b := c.buckets[0].next; b != 0; b = c.buckets[b].next {
		for i := c.buckets[b].tail; i != 0; i = c.items[i].prev {
			out = append(out, [2]uint64{c.items[i].key, c.buckets[b].count})
		}
	}
	return out
}

func (c *LFU) memoryBytes() int {
	return c.idx.bytes() + cap(c.items)*32 + cap(c.buckets)*32 + cap(c.freeB)*4
}
