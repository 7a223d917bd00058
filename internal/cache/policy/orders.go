package policy

// lruOrder: least recently used first; Get and overwrites move an entry to the back.
type lruOrder struct{ l list }

func (o *lruOrder) init(*local)             { o.l.init() }
func (o *lruOrder) insert(n *node)          { o.l.pushBack(n) }
func (o *lruOrder) update(n *node, _ int64) { o.l.moveToBack(n) }
func (o *lruOrder) access(n *node)          { o.l.moveToBack(n) }
func (o *lruOrder) remove(n *node)          { o.l.remove(n) }
func (o *lruOrder) victim(skip *node) *node { return o.l.firstExcept(skip) }
func (o *lruOrder) reset()                  { o.l.init() }
func (o *lruOrder) resized()                {}

// fifoOrder: insertion order; neither Get nor an overwrite moves an entry.
type fifoOrder struct{ l list }

func (o *fifoOrder) init(*local)             { o.l.init() }
func (o *fifoOrder) insert(n *node)          { o.l.pushBack(n) }
func (o *fifoOrder) update(*node, int64)     {}
func (o *fifoOrder) access(*node)            {}
func (o *fifoOrder) remove(n *node)          { o.l.remove(n) }
func (o *fifoOrder) victim(skip *node) *node { return o.l.firstExcept(skip) }
func (o *fifoOrder) reset()                  { o.l.init() }
func (o *fifoOrder) resized()                {}

// ttlOrder: the entry expiring soonest first (the cache's expiry heap), then the entries
// without expiry in FIFO order (the list holds exactly those).
type ttlOrder struct {
	l    list
	heap *expHeap
}

func (o *ttlOrder) init(c *local) {
	o.l.init()
	o.heap = &c.heap
}

func (o *ttlOrder) insert(n *node) {
	if n.exp == 0 {
		o.l.pushBack(n)
	}
}

func (o *ttlOrder) update(n *node, oldExp int64) {
	switch {
	case n.exp == 0 && oldExp != 0:
		o.l.pushBack(n)
	case n.exp != 0 && oldExp == 0:
		o.l.remove(n)
	}
}

func (o *ttlOrder) access(*node) {}

func (o *ttlOrder) remove(n *node) {
	if n.next != nil {
		o.l.remove(n)
	}
}

func (o *ttlOrder) victim(skip *node) *node {
	if v := o.heap.minExcept(skip); v != nil {
		return v
	}
	return o.l.firstExcept(skip)
}

func (o *ttlOrder) reset()   { o.l.init() }
func (o *ttlOrder) resized() {}
