package policy

// arcOrder is a weighted ARC (Megiddo and Modha, FAST'03) as an [order] of the mutex-based
// cache: resident lists T1 (seen once recently) and T2 (seen at least twice), ghost lists B1 and
// B2 of keys recently evicted from T1 and T2, and an adaptive target p for the size of T1.
// Sizes are measured in cost units: an entry's weight in bytes, or 1 per entry when the cache
// is built with unit weights (the item limit then binds); capacity is MaxBytes or MaxItems
// accordingly. p grows on a B1 ghost hit by the entry's cost × max(1, |B2|/|B1|) and shrinks on
// a B2 ghost hit by cost × max(1, |B1|/|B2|), as in the paper with sizes in cost units.
//
// The cache calls prepare with the incoming key before it makes room for a new entry (ARC's
// cases II-IV), then victim/remove to evict (REPLACE: the LRU end of T1 when T1 is over p, or
// exactly at p and the key was a B2 ghost, or T2 is empty; otherwise the LRU end of T2), then
// insert (into T2 after a ghost hit, else T1). Evicted entries become ghosts; entries removed
// for any other reason (Delete, expiry, Clear) do not. Ghosts are bounded: |T1|+|B1| <= c and
// |T1|+|T2|+|B1|+|B2| <= 2c in cost units (and, with an item limit, in entries).
type arcOrder struct {
	c    *local
	unit bool
	t1   list // LRU at the front, MRU at the back
	t2   list
	b1   ghostList
	b2   ghostList
	t1c  int64 // cost of T1
	t2c  int64 // cost of T2
	p    int64
	// set by prepare for the next insert
	ghostHit bool
	inB2     bool
	// evicting is the node victim returned last: its remove makes it a ghost
	evicting *node
	ghosts   map[string]*ghost
}

type ghost struct {
	key        string
	cost       int64
	inB2       bool
	prev, next *ghost
}

type ghostList struct {
	root ghost
	n    int
	cost int64
}

func (l *ghostList) init() {
	l.root.next, l.root.prev = &l.root, &l.root
	l.n, l.cost = 0, 0
}

func (l *ghostList) pushBack(g *ghost) {
	at := l.root.prev
	g.prev, g.next = at, &l.root
	at.next = g
	l.root.prev = g
	l.n++
	l.cost += g.cost
}

func (l *ghostList) remove(g *ghost) {
	g.prev.next = g.next
	g.next.prev = g.prev
	g.prev, g.next = nil, nil
	l.n--
	l.cost -= g.cost
}

func (l *ghostList) front() *ghost {
	if l.root.next == &l.root {
		return nil
	}
	return l.root.next
}

func (o *arcOrder) init(c *local) {
	o.c = c
	o.reset()
}

func (o *arcOrder) reset() {
	o.t1.init()
	o.t2.init()
	o.b1.init()
	o.b2.init()
	o.t1c, o.t2c, o.p = 0, 0, 0
	o.ghostHit, o.inB2, o.evicting = false, false, nil
	o.ghosts = make(map[string]*ghost)
}

func (o *arcOrder) cost(n *node) int64 {
	if o.unit {
		return 1
	}
	return n.e.weight
}

// capacity is c in cost units.
func (o *arcOrder) capacity() int64 {
	if o.unit {
		return int64(max(o.c.maxItems, 1))
	}
	return o.c.maxBytes
}

// prepare runs ARC's ghost-hit adaptation for a key about to be inserted.
func (o *arcOrder) prepare(key string, weight int64) {
	o.ghostHit, o.inB2 = false, false
	g := o.ghosts[key]
	if g == nil {
		return
	}
	cost := weight
	if o.unit {
		cost = 1
	}
	c := o.capacity()
	if g.inB2 {
		d := cost
		if o.b2.cost > 0 && o.b1.cost > o.b2.cost {
			d = cost * max(1, o.b1.cost/o.b2.cost)
		}
		o.p = max(o.p-d, 0)
		o.b2.remove(g)
		o.inB2 = true
	} else {
		d := cost
		if o.b1.cost > 0 && o.b2.cost > o.b1.cost {
			d = cost * max(1, o.b2.cost/o.b1.cost)
		}
		o.p = min(o.p+d, c)
		o.b1.remove(g)
	}
	delete(o.ghosts, key)
	o.ghostHit = true
}

func (o *arcOrder) insert(n *node) {
	if o.ghostHit {
		o.t2.pushBack(n)
		o.t2c += o.cost(n)
	} else {
		o.t1.pushBack(n)
		o.t1c += o.cost(n)
	}
	n.arcT2 = o.ghostHit
	o.ghostHit, o.inB2 = false, false
	o.trimGhosts()
}

func (o *arcOrder) toT2(n *node) {
	if n.arcT2 {
		o.t2.moveToBack(n)
		return
	}
	o.t1.remove(n)
	o.t1c -= o.cost(n)
	o.t2.pushBack(n)
	o.t2c += o.cost(n)
	n.arcT2 = true
}

func (o *arcOrder) access(n *node) { o.toT2(n) }

func (o *arcOrder) update(n *node, _ int64) {
	// the weight may have changed: recount the node's cost
	if n.arcT2 {
		o.t2.remove(n)
		o.t2c = o.listCost(&o.t2)
		o.t2.pushBack(n)
		o.t2c += o.cost(n)
		return
	}
	o.t1.remove(n)
	o.t1c = o.listCost(&o.t1)
	o.t2.pushBack(n)
	o.t2c += o.cost(n)
	n.arcT2 = true
}

// listCost sums a resident list's cost; used only when an overwrite changed a weight.
func (o *arcOrder) listCost(l *list) int64 {
	if o.unit {
		return int64(l.len)
	}
	var s int64
	for v := l.front(); v != nil; v = l.after(v) {
		s += v.e.weight
	}
	return s
}

func (o *arcOrder) remove(n *node) {
	cost := o.cost(n)
	inB2 := n.arcT2
	if inB2 {
		o.t2.remove(n)
		o.t2c -= cost
	} else {
		o.t1.remove(n)
		o.t1c -= cost
	}
	n.arcT2 = false
	if n != o.evicting {
		return
	}
	o.evicting = nil
	key := n.e.Key
	if old := o.ghosts[key]; old != nil {
		o.dropGhost(old)
	}
	g := &ghost{key: key, cost: cost, inB2: inB2}
	o.ghosts[key] = g
	if inB2 {
		o.b2.pushBack(g)
	} else {
		o.b1.pushBack(g)
	}
	o.trimGhosts()
}

func (o *arcOrder) dropGhost(g *ghost) {
	if g.inB2 {
		o.b2.remove(g)
	} else {
		o.b1.remove(g)
	}
	delete(o.ghosts, g.key)
}

// trimGhosts keeps |T1|+|B1| <= c and the total <= 2c.
func (o *arcOrder) trimGhosts() {
	c := o.capacity()
	items := o.c.maxItems
	for o.b1.n > 0 && (o.t1c+o.b1.cost > c || (items > 0 && o.t1.len+o.b1.n > items)) {
		o.dropGhost(o.b1.front())
	}
	for {
		total := o.t1c + o.t2c + o.b1.cost + o.b2.cost
		n := o.t1.len + o.t2.len + o.b1.n + o.b2.n
		if !(total > 2*c || (items > 0 && n > 2*items)) {
			break
		}
		switch {
		case o.b2.n > 0:
			o.dropGhost(o.b2.front())
		case o.b1.n > 0:
			o.dropGhost(o.b1.front())
		default:
			return
		}
	}
}

// victim is ARC's REPLACE.
func (o *arcOrder) victim(skip *node) *node {
	t1 := o.t1.firstExcept(skip)
	t2 := o.t2.firstExcept(skip)
	var v *node
	switch {
	case t1 != nil && (t2 == nil || o.t1c > o.p || (o.inB2 && o.t1c >= o.p)):
		v = t1
	case t2 != nil:
		v = t2
	default:
		v = t1
	}
	o.evicting = v
	return v
}

func (o *arcOrder) resized() { o.p = min(o.p, o.capacity()); o.trimGhosts() }

// coldest calls f for the resident nodes, T1 then T2, each from LRU to MRU.
func (o *arcOrder) coldest(f func(*node)) {
	for v := o.t1.front(); v != nil; v = o.t1.after(v) {
		f(v)
	}
	for v := o.t2.front(); v != nil; v = o.t2.after(v) {
		f(v)
	}
}
