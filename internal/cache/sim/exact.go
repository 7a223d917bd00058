package sim

import "sync/atomic"

// exactSet is the set of keys a hybrid [Shards] tracks exactly: insert-only, at most max keys,
// and readable without a lock (open addressing over atomic slots, linear probing), so that a
// caller can decide whether an access concerns the estimator before taking its lock.
type exactSet struct {
	slots []atomic.Uint64 // key+1 (0: empty); the key MaxUint64 is kept in hasMax
	mask  uint64
	shift uint // home slot: the top bits of k·fibMul
	n     int  // guarded by the owner's lock
	max   int
	// hasMax: MaxUint64 is in the set (its key+1 would wrap to the empty mark)
	hasMax atomic.Bool
}

func newExactSet(max int) *exactSet {
	bits := uint(1)
	for 1<<bits < 2*max {
		bits++
	}
	return &exactSet{slots: make([]atomic.Uint64, 1<<bits), mask: 1<<bits - 1, shift: 64 - bits, max: max}
}

// has reports whether k is in the set; safe concurrently with add.
func (x *exactSet) has(k uint64) bool {
	if k == ^uint64(0) {
		return x.hasMax.Load()
	}
	for i := (k * fibMul) >> x.shift; ; i = (i + 1) & x.mask {
		switch x.slots[i].Load() {
		case k + 1:
			return true
		case 0:
			return false
		}
	}
}

// add inserts k unless the set is full; one writer at a time.
func (x *exactSet) add(k uint64) bool {
	if x.n >= x.max {
		return false
	}
	x.n++
	if k == ^uint64(0) {
		x.hasMax.Store(true)
		return true
	}
	i := (k * fibMul) >> x.shift
	for x.slots[i].Load() != 0 {
		i = (i + 1) & x.mask
	}
	x.slots[i].Store(k + 1)
	return true
}

func (x *exactSet) bytes() int { return len(x.slots) * 8 }

// promoter counts accesses per key in a count-min sketch (4 rows, conservative update, 16-bit
// counters halved every 64·width observations so that old popularity fades) and reports when a
// key's estimated count reaches the promotion threshold.
type promoter struct {
	rows   [4][]uint16
	mask   uint64
	seen   int
	period int
}

func newPromoter(width int) *promoter {
	w := 1
	for w < width {
		w <<= 1
	}
	p := &promoter{mask: uint64(w - 1), period: 64 * w}
	for i := range p.rows {
		p.rows[i] = make([]uint16, w)
	}
	return p
}

// observe counts one access to k (inc accesses, for a caller that observes a temporal sample)
// and returns the key's estimated count.
func (p *promoter) observe(k uint64, inc int) int {
	var idx [4]uint64
	est := uint16(0xFFFF)
	h := sampleHash(k ^ 0x6A09E667F3BCC908)
	for i := range p.rows {
		idx[i] = (h >> (16 * i)) & p.mask
		est = min(est, p.rows[i][idx[i]])
	}
	next := uint16(min(int(est)+inc, 0xFFFF))
	for i := range p.rows { // conservative update: raise only the counters below the new estimate
		if p.rows[i][idx[i]] < next {
			p.rows[i][idx[i]] = next
		}
	}
	if p.seen += inc; p.seen >= p.period {
		p.seen = 0
		for _, r := range p.rows {
			for j := range r {
				r[j] >>= 1
			}
		}
	}
	return int(next)
}

func (p *promoter) bytes() int { return len(p.rows) * len(p.rows[0]) * 2 }
