package policy

// lfuBucket holds the nodes of one access count, least recently used first.
type lfuBucket struct {
	count      uint64
	nodes      list
	prev, next *lfuBucket
}

// maxFreeBuckets bounds the pool of emptied buckets kept for reuse.
const maxFreeBuckets = 64

// lfuOrder is O(1) LFU: a list of buckets in ascending count, each a list of nodes in LRU
// order; the victim is the least recently used node of the lowest count. Every period
// accesses, all counts are halved (see halve), so popularity fades.
type lfuOrder struct {
	c      *local
	root   lfuBucket // sentinel of the bucket list
	size   int       // nodes
	ops    int       // accesses since the last halving
	period int       // accesses between halvings
	free   []*lfuBucket
	// halvings counts the halvings done (for tests).
	halvings int
}

// agingFactor × the capacity in items is the number of accesses between halvings.
const agingFactor = 10

// minAgingItems is the capacity assumed for aging when there is no item limit and fewer
// entries.
const minAgingItems = 64

func (o *lfuOrder) init(c *local) {
	o.c = c
	o.reset()
}

func (o *lfuOrder) reset() {
	o.root.next, o.root.prev = &o.root, &o.root
	o.size, o.ops = 0, 0
	o.period = o.computePeriod()
}

func (o *lfuOrder) computePeriod() int {
	items := o.c.maxItems
	if items <= 0 {
		items = max(o.size, minAgingItems)
	}
	return agingFactor * items
}

func (o *lfuOrder) resized() { o.period = o.computePeriod() }

func (o *lfuOrder) tick() {
	o.ops++
	if o.ops >= o.period {
		o.halve()
		o.ops = 0
		o.period = o.computePeriod()
	}
}

// newBucket links an empty bucket of the given count after at.
func (o *lfuOrder) newBucket(count uint64, at *lfuBucket) *lfuBucket {
	var b *lfuBucket
	if k := len(o.free); k > 0 {
		b = o.free[k-1]
		o.free[k-1] = nil
		o.free = o.free[:k-1]
	} else {
		b = &lfuBucket{}
	}
	b.count = count
	b.nodes.init()
	b.prev, b.next = at, at.next
	at.next.prev = b
	at.next = b
	return b
}

func (o *lfuOrder) removeBucket(b *lfuBucket) {
	b.prev.next = b.next
	b.next.prev = b.prev
	b.prev, b.next = nil, nil
	if len(o.free) < maxFreeBuckets {
		o.free = append(o.free, b)
	}
}

func (o *lfuOrder) insert(n *node) {
	b := o.root.next
	if b == &o.root || b.count != 1 {
		b = o.newBucket(1, &o.root)
	}
	b.nodes.pushBack(n)
	n.bkt = b
	o.size++
	o.tick()
}

// increment moves n to the most recent end of the next count's bucket.
func (o *lfuOrder) increment(n *node) {
	b := n.bkt
	nb := b.next
	if nb == &o.root || nb.count != b.count+1 {
		nb = o.newBucket(b.count+1, b)
	}
	b.nodes.remove(n)
	nb.nodes.pushBack(n)
	n.bkt = nb
	if b.nodes.len == 0 {
		o.removeBucket(b)
	}
}

func (o *lfuOrder) access(n *node) {
	o.increment(n)
	o.tick()
}

func (o *lfuOrder) update(n *node, _ int64) {
	o.increment(n)
	o.tick()
}

func (o *lfuOrder) remove(n *node) {
	b := n.bkt
	b.nodes.remove(n)
	n.bkt = nil
	if b.nodes.len == 0 {
		o.removeBucket(b)
	}
	o.size--
}

func (o *lfuOrder) victim(skip *node) *node {
	for b := o.root.next; b != &o.root; b = b.next {
		if v := b.nodes.firstExcept(skip); v != nil {
			return v
		}
	}
	return nil
}

// halve replaces every count c by ceil(c/2). Counts stay in ascending order, so only adjacent
// buckets can become equal; they are merged with the nodes of the formerly lower count on the
// eviction side. It walks the buckets and moves the nodes of the smaller bucket of each merge,
// which is at most the number of entries and is paid for by the period (10 × capacity)
// accesses since the last halving.
func (o *lfuOrder) halve() {
	o.halvings++
	for b := o.root.next; b != &o.root; {
		next := b.next
		b.count = (b.count + 1) / 2
		if p := b.prev; p != &o.root && p.count == b.count {
			o.merge(p, b)
		}
		b = next
	}
}

// merge joins two adjacent buckets of equal count into one holding lo's nodes then hi's.
func (o *lfuOrder) merge(lo, hi *lfuBucket) {
	if lo.nodes.len >= hi.nodes.len {
		for n := hi.nodes.front(); n != nil; n = hi.nodes.front() {
			hi.nodes.remove(n)
			lo.nodes.pushBack(n)
			n.bkt = lo
		}
		o.removeBucket(hi)
		return
	}
	for n := lo.nodes.back(); n != nil; n = lo.nodes.back() {
		lo.nodes.remove(n)
		hi.nodes.pushFront(n)
		n.bkt = hi
	}
	o.removeBucket(lo)
}
