package sim

// stackDist computes LRU stack (reuse) distances: the distance of an access is the number of
// distinct keys touched since the previous access to the same key, counting the key itself, so an
// access hits in an LRU cache of size C exactly when its distance is at most C.
//
// Every tracked key has a marker at the position of its last access in a window of positions; a
// Fenwick tree over the window counts the markers, so the distance of a re-access at old position
// p is the number of markers after p, plus one. When the window is used up, the live markers are
// renumbered 0..L-1 in order (compaction) into a window of 2L+2 positions, so memory stays O(L)
// for L tracked keys and the amortised cost per access is O(log L).
type stackDist struct {
	idx   table    // key -> position of its marker
	fen   []int32  // Fenwick tree over positions, 1-based (fen[0] unused)
	keyAt []uint64 // key whose access used each position (stale once the key moved on)
	next  int      // next unused position
	live  int      // number of markers (tracked keys)
	// Exact markers (hybrid SHARDS): fenH counts the markers of keys tracked exactly, hotAt
	// flags their positions; both stay empty until the first exact access.
	fenH    []int32
	hotAt   []uint64 // bitset over positions
	liveHot int
}

const minWindow = 64

func newStackDist(hint int) *stackDist {
	w := max(minWindow, 2*hint+2)
	return &stackDist{idx: newTable(hint), fen: make([]int32, w+1), keyAt: make([]uint64, w)}
}

// access records an access to key and returns its stack distance, or seen=false on the key's
// first access (an infinite distance).
func (s *stackDist) access(key uint64) (dist int, seen bool) {
	dist, _, seen = s.accessHot(key, false)
	return dist, seen
}

// accessHot is access that also places the key's new marker as exact (hot) or not, and returns
// how many of the other keys touched since its previous access have exact markers.
func (s *stackDist) accessHot(key uint64, hot bool) (dist, distHot int, seen bool) {
	if s.next == len(s.keyAt) {
		s.compact()
	}
	if pos, ok := s.idx.get(key); ok {
		dist = s.live - prefix(s.fen, int(pos)) + 1
		seen = true
		s.unmark(int(pos))
		if s.liveHot > 0 {
			distHot = s.liveHot - prefix(s.fenH, int(pos))
		}
	}
	p := s.next
	s.next++
	add(s.fen, p, 1)
	s.live++
	if hot {
		if s.fenH == nil {
			s.fenH = make([]int32, len(s.fen))
			s.hotAt = make([]uint64, (len(s.keyAt)+63)/64)
		}
		add(s.fenH, p, 1)
		s.hotAt[p/64] |= 1 << (p % 64)
		s.liveHot++
	}
	s.keyAt[p] = key
	s.idx.put(key, int32(p))
	return dist, distHot, seen
}

// unmark removes the marker at pos.
func (s *stackDist) unmark(pos int) {
	add(s.fen, pos, -1)
	s.live--
	if s.hotAt != nil && s.hotAt[pos/64]&(1<<(pos%64)) != 0 {
		s.hotAt[pos/64] &^= 1 << (pos % 64)
		add(s.fenH, pos, -1)
		s.liveHot--
	}
}

// remove stops tracking key.
func (s *stackDist) remove(key uint64) {
	if pos, ok := s.idx.get(key); ok {
		s.unmark(int(pos))
		s.idx.del(key)
	}
}

// prefix counts the markers of fen at positions 0..p.
func prefix(fen []int32, p int) int {
	n := int32(0)
	for i := p + 1; i > 0; i &= i - 1 {
		n += fen[i]
	}
	return int(n)
}

func add(fen []int32, p int, d int32) {
	for i := p + 1; i < len(fen); i += i & -i {
		fen[i] += d
	}
}

// compact renumbers the live markers 0..live-1 in access order, resizing the window to 2·live+2.
func (s *stackDist) compact() {
	w := max(minWindow, 2*s.live+2)
	keys := s.keyAt
	if w != len(s.keyAt) {
		keys = make([]uint64, w)
	}
	var hot []uint64
	if s.hotAt != nil {
		hot = make([]uint64, (w+63)/64)
	}
	j := 0
	for p := 0; p < s.next; p++ {
		k := s.keyAt[p]
		if v, ok := s.idx.get(k); ok && int(v) == p {
			keys[j] = k
			s.idx.put(k, int32(j))
			if hot != nil && s.hotAt[p/64]&(1<<(p%64)) != 0 {
				hot[j/64] |= 1 << (j % 64)
			}
			j++
		}
	}
	s.keyAt = keys
	s.next = j
	s.fen = buildFenwick(s.fen, w, func(i int) bool { return i < j })
	if hot != nil {
		s.hotAt = hot
		s.fenH = buildFenwick(s.fenH, w, func(i int) bool { return hot[i/64]&(1<<(i%64)) != 0 })
	}
}

// buildFenwick rebuilds fen (reused when it has the size) as the tree over w positions where
// set(p) marks position p, in O(w).
func buildFenwick(fen []int32, w int, set func(int) bool) []int32 {
	if len(fen) != w+1 {
		fen = make([]int32, w+1)
	} else {
		clear(fen)
	}
	for i := 1; i <= w; i++ {
		if set(i - 1) {
			fen[i]++
		}
		if parent := i + i&-i; parent <= w {
			fen[parent] += fen[i]
		}
	}
	return fen
}

func (s *stackDist) bytes() int {
	return s.idx.bytes() + len(s.fen)*4 + len(s.keyAt)*8 + len(s.fenH)*4 + len(s.hotAt)*8
}

// ExactLRUCurve returns the exact LRU miss ratio of t at each size (in entries) by Mattson's stack
// algorithm with a Fenwick tree: O(N log M) time and O(M) memory for N accesses to M distinct
// keys. Sizes <= 0 have miss ratio 1; an empty trace gives 1 at every size.
func ExactLRUCurve(t Trace, sizes []int) []float64 {
	sd := newStackDist(1024)
	var hist []int64 // hist[d]: accesses with stack distance d
	t.Each(func(k uint64) bool {
		if d, ok := sd.access(k); ok {
			if d >= len(hist) {
				hist = append(hist, make([]int64, d+1-len(hist))...)
			}
			hist[d]++
		}
		return true
	})
	// cum[d]: accesses with distance <= d, i.e. hits in an LRU cache of size d.
	for d := 1; d < len(hist); d++ {
		hist[d] += hist[d-1]
	}
	out := make([]float64, len(sizes))
	for i, c := range sizes {
		out[i] = 1
		if c <= 0 || t.n == 0 || len(hist) == 0 {
			continue
		}
		out[i] = 1 - float64(hist[min(c, len(hist)-1)])/float64(t.n)
	}
	return out
}
