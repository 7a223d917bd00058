package policy

import (
	"sync"
	"time"
)

// node is an entry of the mutex-based policies.
type node struct {
	e    *Entry
	exp  int64 // e.ExpiresAt in Unix nanoseconds, 0 = never
	hidx int   // index in the expiry heap, -1 when not in it
	// links in the policy's list (lru, fifo, ttl) or in its LFU bucket
	prev, next *node
	bkt        *lfuBucket
	arcT2      bool // on ARC's T2 (arcOrder)
}

// list is a circular doubly linked list with a sentinel; a node is linked iff next != nil.
type list struct {
	root node
	len  int
}

func (l *list) init() {
	l.root.next, l.root.prev = &l.root, &l.root
	l.len = 0
}

func (l *list) pushBack(n *node) {
	at := l.root.prev
	n.prev, n.next = at, &l.root
	at.next = n
	l.root.prev = n
	l.len++
}

func (l *list) pushFront(n *node) {
	at := l.root.next
	n.prev, n.next = &l.root, at
	at.prev = n
	l.root.next = n
	l.len++
}

func (l *list) remove(n *node) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
	l.len--
}

func (l *list) moveToBack(n *node) {
	if l.root.prev == n {
		return
	}
	l.remove(n)
	l.pushBack(n)
}

// front returns the first node, or nil.
func (l *list) front() *node {
	if l.root.next == &l.root {
		return nil
	}
	return l.root.next
}

// back returns the last node, or nil.
func (l *list) back() *node {
	if l.root.prev == &l.root {
		return nil
	}
	return l.root.prev
}

// after returns the node after n, or nil.
func (l *list) after(n *node) *node {
	if n.next == &l.root {
		return nil
	}
	return n.next
}

// firstExcept returns the first node that is not skip, or nil.
func (l *list) firstExcept(skip *node) *node {
	v := l.front()
	if v != nil && v == skip {
		v = l.after(v)
	}
	return v
}

// order is the eviction order of a mutex-based policy. Its methods run under the cache's mutex.
type order interface {
	init(c *local)
	// insert links a new node.
	insert(n *node)
	// update is called after the node's entry was overwritten; oldExp is its former expiry.
	update(n *node, oldExp int64)
	// access records a Get hit.
	access(n *node)
	// remove unlinks a node.
	remove(n *node)
	// victim returns the node to evict next, other than skip, or nil if there is none.
	victim(skip *node) *node
	// reset empties the order.
	reset()
	// resized is called after the limits changed.
	resized()
}

// preparer is an order that must see the key of a new entry before room is made for it (ARC).
type preparer interface {
	prepare(key string, weight int64)
}

// local is the mutex-based cache shared by lru, lfu, fifo and ttl.
type local struct {
	mu       sync.Mutex
	name     string
	items    map[string]*node
	ord      order
	heap     expHeap
	bytes    int64
	maxBytes int64
	maxItems int
	onEvict  func(*Entry, Reason)
	now      func() time.Time
}

func newLocal(name string, cfg Config, ord order) *local {
	c := &local{
		name:     name,
		items:    make(map[string]*node),
		ord:      ord,
		maxBytes: cfg.MaxBytes,
		maxItems: cfg.MaxItems,
		onEvict:  cfg.OnEvict,
		now:      cfg.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	ord.init(c)
	return c
}

func (c *local) Policy() string { return c.name }

func (c *local) nowNano() int64 { return c.now().UnixNano() }

// report calls OnEvict for evs; the caller must not hold the mutex.
func (c *local) report(evs []evicted) {
	for _, ev := range evs {
		c.onEvict(ev.e, ev.r)
	}
}

// drop removes n and records the removal in evs if there is a listener.
func (c *local) drop(n *node, r Reason, evs []evicted) []evicted {
	delete(c.items, n.e.Key)
	c.ord.remove(n)
	if n.hidx >= 0 {
		c.heap.remove(n)
	}
	c.bytes -= n.e.weight
	if c.onEvict != nil {
		evs = append(evs, evicted{n.e, r})
	}
	return evs
}

// expireDue removes every entry expired at now.
func (c *local) expireDue(now int64, evs []evicted) []evicted {
	for len(c.heap.h) > 0 && c.heap.h[0].exp <= now {
		evs = c.drop(c.heap.h[0], Expired, evs)
	}
	return evs
}

// clock returns the current time if any entry has an expiry (0 otherwise: nothing can
// expire, and the clock is not read).
func (c *local) clock() int64 {
	if len(c.heap.h) == 0 {
		return 0
	}
	return c.nowNano()
}

// makeRoom evicts until extraBytes more bytes and extraItems more items fit, never choosing skip.
func (c *local) makeRoom(extraBytes int64, extraItems int, skip *node, now int64, evs []evicted) []evicted {
	for c.bytes+extraBytes > c.maxBytes || (c.maxItems > 0 && len(c.items)+extraItems > c.maxItems) {
		v := c.ord.victim(skip)
		if v == nil {
			break
		}
		r := Size
		if v.exp != 0 && v.exp <= now {
			r = Expired
		}
		evs = c.drop(v, r, evs)
	}
	return evs
}

func (c *local) Set(e *Entry) error {
	if e == nil {
		return ErrNilEntry
	}
	cp := stored(e)
	exp := cp.exp
	var buf [8]evicted
	evs := buf[:0]

	c.mu.Lock()
	if cp.weight > c.maxBytes {
		c.mu.Unlock()
		return ErrTooLarge
	}
	now := c.clock()
	if exp != 0 && now == 0 {
		now = c.nowNano()
	}
	evs = c.expireDue(now, evs)
	n := c.items[cp.Key]
	switch {
	case exp != 0 && exp <= now:
		// expired on arrival: not stored, reported at once
		if n != nil {
			evs = c.drop(n, Replaced, evs)
		}
		if c.onEvict != nil {
			evs = append(evs, evicted{cp, Expired})
		}
	case n != nil:
		old, oldExp := n.e, n.exp
		c.bytes += cp.weight - old.weight
		n.e, n.exp = cp, exp
		c.heap.update(n, oldExp)
		c.ord.update(n, oldExp)
		if c.onEvict != nil {
			evs = append(evs, evicted{old, Replaced})
		}
		evs = c.makeRoom(0, 0, n, now, evs)
	default:
		if p, ok := c.ord.(preparer); ok {
			p.prepare(cp.Key, cp.weight)
		}
		evs = c.makeRoom(cp.weight, 1, nil, now, evs)
		n = &node{e: cp, exp: exp, hidx: -1}
		c.items[cp.Key] = n
		c.bytes += cp.weight
		if exp != 0 {
			c.heap.push(n)
		}
		c.ord.insert(n)
	}
	c.mu.Unlock()

	c.report(evs)
	return nil
}

func (c *local) Get(key string) (*Entry, bool) {
	c.mu.Lock()
	n := c.items[key]
	if n == nil {
		c.mu.Unlock()
		return nil, false
	}
	if n.exp != 0 && n.exp <= c.nowNano() {
		var buf [1]evicted
		evs := c.drop(n, Expired, buf[:0])
		c.mu.Unlock()
		c.report(evs)
		return nil, false
	}
	c.ord.access(n)
	e := n.e
	c.mu.Unlock()
	return e, true
}

func (c *local) Peek(key string) (*Entry, bool) {
	c.mu.Lock()
	n := c.items[key]
	if n == nil || (n.exp != 0 && n.exp <= c.nowNano()) {
		c.mu.Unlock()
		return nil, false
	}
	e := n.e
	c.mu.Unlock()
	return e, true
}

func (c *local) Delete(key string) bool {
	var buf [8]evicted
	evs := buf[:0]
	c.mu.Lock()
	now := c.clock()
	n := c.items[key]
	live := false
	if n != nil {
		r := Expired
		if live = n.exp == 0 || n.exp > now; live {
			r = Deleted
		}
		evs = c.drop(n, r, evs)
	}
	evs = c.expireDue(now, evs)
	c.mu.Unlock()
	c.report(evs)
	return live
}

func (c *local) Clear() {
	var evs []evicted
	c.mu.Lock()
	if c.onEvict != nil && len(c.items) > 0 {
		now := c.clock()
		evs = make([]evicted, 0, len(c.items))
		for _, n := range c.items {
			r := Cleared
			if n.exp != 0 && n.exp <= now {
				r = Expired
			}
			evs = append(evs, evicted{n.e, r})
		}
	}
	c.items = make(map[string]*node)
	c.heap.h = nil
	c.bytes = 0
	c.ord.reset()
	c.mu.Unlock()
	c.report(evs)
}

func (c *local) Len() int {
	c.mu.Lock()
	n := len(c.items)
	c.mu.Unlock()
	return n
}

func (c *local) Bytes() int64 {
	c.mu.Lock()
	b := c.bytes
	c.mu.Unlock()
	return b
}

func (c *local) Resize(maxBytes int64, maxItems int) {
	var buf [8]evicted
	evs := buf[:0]
	c.mu.Lock()
	if maxBytes > 0 {
		c.maxBytes = maxBytes
	}
	if maxItems >= 0 {
		c.maxItems = maxItems
	}
	c.ord.resized()
	now := c.clock()
	evs = c.expireDue(now, evs)
	evs = c.makeRoom(0, 0, nil, now, evs)
	c.mu.Unlock()
	c.report(evs)
}

func (c *local) Keys() []string {
	c.mu.Lock()
	now := c.clock()
	keys := make([]string, 0, len(c.items))
	for k, n := range c.items {
		if n.exp == 0 || n.exp > now {
			keys = append(keys, k)
		}
	}
	c.mu.Unlock()
	return keys
}

func (c *local) RemoveExpired() int {
	var buf [8]evicted
	evs := buf[:0]
	c.mu.Lock()
	before := len(c.items)
	evs = c.expireDue(c.clock(), evs)
	removed := before - len(c.items)
	c.mu.Unlock()
	c.report(evs)
	return removed
}

// expHeap is a binary min-heap of nodes on exp; node.hidx is the node's index.
type expHeap struct {
	h []*node
}

func (h *expHeap) push(n *node) {
	n.hidx = len(h.h)
	h.h = append(h.h, n)
	h.up(n.hidx)
}

func (h *expHeap) remove(n *node) {
	i := n.hidx
	last := len(h.h) - 1
	if i != last {
		h.swap(i, last)
	}
	h.h[last] = nil
	h.h = h.h[:last]
	n.hidx = -1
	if i != last {
		h.fix(i)
	}
}

// update re-places n after its exp changed from oldExp (0 = not in the heap).
func (h *expHeap) update(n *node, oldExp int64) {
	switch {
	case oldExp == 0 && n.exp != 0:
		h.push(n)
	case oldExp != 0 && n.exp == 0:
		h.remove(n)
	case n.exp != oldExp:
		h.fix(n.hidx)
	}
}

// minExcept returns the node with the smallest exp other than skip, or nil.
func (h *expHeap) minExcept(skip *node) *node {
	switch {
	case len(h.h) == 0:
		return nil
	case h.h[0] != skip:
		return h.h[0]
	case len(h.h) == 1:
		return nil
	case len(h.h) == 2 || h.h[1].exp <= h.h[2].exp:
		return h.h[1]
	default:
		return h.h[2]
	}
}

func (h *expHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h *expHeap) swap(i, j int) {
	h.h[i], h.h[j] = h.h[j], h.h[i]
	h.h[i].hidx = i
	h.h[j].hidx = j
}

func (h *expHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if h.h[i].exp <= h.h[j].exp {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h *expHeap) down(i0 int) bool {
	i, n := i0, len(h.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.h[r].exp < h.h[l].exp {
			j = r
		}
		if h.h[j].exp >= h.h[i].exp {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// drain removes every entry without reporting the live ones, which it returns from coldest to
// hottest where the order has one (lru, arc; any order otherwise). Expired entries are reported
// as Expired. The adaptive policy uses it to migrate the entries to another engine.
func (c *local) drain() []*Entry {
	var evs []evicted
	c.mu.Lock()
	now := c.nowNano()
	out := make([]*Entry, 0, len(c.items))
	add := func(n *node) {
		if n.exp != 0 && n.exp <= now {
			if c.onEvict != nil {
				evs = append(evs, evicted{n.e, Expired})
			}
			return
		}
		out = append(out, n.e)
	}
	switch o := c.ord.(type) {
	case *lruOrder:
		for v := o.l.front(); v != nil; v = o.l.after(v) {
			add(v)
		}
	case *arcOrder:
		o.coldest(add)
	default:
		for _, n := range c.items {
			add(n)
		}
	}
	c.items = make(map[string]*node)
	c.heap.h = nil
	c.bytes = 0
	c.ord.reset()
	c.mu.Unlock()
	c.report(evs)
	return out
}
