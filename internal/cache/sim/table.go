package sim

// table is an open-addressing hash table from uint64 keys to non-negative int32 values (indexes
// into the simulators' node slices). It uses linear probing with Fibonacci hashing and
// backward-shift deletion, so there are no tombstones and its size in bytes is exactly known:
// 12 bytes per slot, at most 3/4 of the slots in use.
type table struct {
	keys  []uint64
	vals  []int32 // -1 marks an empty slot
	mask  uint64
	shift uint
	n     int
	limit int // grow when n would exceed limit
}

const fibMul = 0x9E3779B97F4A7C15

// newTable returns a table that holds hint entries without growing.
func newTable(hint int) table {
	var t table
	t.init(slotsFor(hint))
	return t
}

// slotsFor is the power-of-two slot count that holds n entries at a load of at most 3/4.
func slotsFor(n int) int {
	slots := 8
	for slots*3/4 < n {
		slots <<= 1
	}
	return slots
}

func (t *table) init(slots int) {
	t.keys = make([]uint64, slots)
	t.vals = make([]int32, slots)
	for i := range t.vals {
		t.vals[i] = -1
	}
	t.mask = uint64(slots - 1)
	t.shift = 64
	for s := slots; s > 1; s >>= 1 {
		t.shift--
	}
	t.n = 0
	t.limit = slots * 3 / 4
}

func (t *table) home(k uint64) uint64 { return (k * fibMul) >> t.shift }

func (t *table) get(k uint64) (int32, bool) {
	i := t.home(k)
	for {
		v := t.vals[i]
		if v < 0 {
			return 0, false
		}
		if t.keys[i] == k {
			return v, true
		}
		i = (i + 1) & t.mask
	}
}

// put inserts k or updates its value. v must be >= 0.
func (t *table) put(k uint64, v int32) {
	i := t.home(k)
	for {
		cur := t.vals[i]
		if cur < 0 {
			break
		}
		if t.keys[i] == k {
			t.vals[i] = v
			return
		}
		i = (i + 1) & t.mask
	}
	if t.n >= t.limit {
		t.grow()
		t.put(k, v)
		return
	}
	t.keys[i] = k
	t.vals[i] = v
	t.n++
}

// del removes k and reports whether it was present.
func (t *table) del(k uint64) bool {
	i := t.home(k)
	for {
		v := t.vals[i]
		if v < 0 {
			return false
		}
		if t.keys[i] == k {
			break
		}
		i = (i + 1) & t.mask
	}
	// Backward-shift: pull later entries of the probe run into the hole when their home slot is
	// not cyclically between the hole and their own position.
	j := i
	for {
		j = (j + 1) & t.mask
		if t.vals[j] < 0 {
			break
		}
		h := t.home(t.keys[j])
		if (j-h)&t.mask >= (j-i)&t.mask {
			t.keys[i] = t.keys[j]
			t.vals[i] = t.vals[j]
			i = j
		}
	}
	t.vals[i] = -1
	t.n--
	return true
}

func (t *table) grow() {
	oldK, oldV := t.keys, t.vals
	t.init(len(oldK) * 2)
	for i, v := range oldV {
		if v >= 0 {
			t.put(oldK[i], v)
		}
	}
}

func (t *table) len() int { return t.n }

// bytes is the memory held by the table's slots.
func (t *table) bytes() int { return len(t.keys)*8 + len(t.vals)*4 }
