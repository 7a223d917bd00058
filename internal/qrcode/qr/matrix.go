package qr

import (
	"math/bits"
	"sync"
)

// The symbol is handled as bitsets: one bitset of w 64-bit words per row
// (bit x of row y is the module at column x) and, transposed, one per
// column, so that the mask penalty rules run on whole words.

// verTemplate is everything about a version that does not depend on the
// data: computed once per version, on first use.
type verTemplate struct {
	size, w int
	fn      []bool   // function module map, row-major
	fnRows  []uint64 // dark function modules (format information left light)
	fnCols  []uint64
	dataPos []uint16 // y<<8 | x of each data module, in placement order
	// maskRows[m]/maskCols[m] hold the modules that mask m inverts
	// (data modules only).
	maskRows, maskCols [8][]uint64
	fmtPos             [2][15][2]uint8 // x, y of each format information bit, both copies
	validE             line            // bits 0 .. size-2
}

var (
	templates    [41]*verTemplate
	templateOnce [41]sync.Once
)

// versionInfo returns the template of version v (1..40).
func versionInfo(v int) *verTemplate {
	templateOnce[v].Do(func() { templates[v] = buildTemplate(v) })
	return templates[v]
}

// formatBits returns the 15-bit format information of level l and mask m:
// 2 level bits and 3 mask bits, BCH(15,5) protected with generator 0x537
// and XORed with 0x5412.
func formatBits(l Level, m int) uint32 {
	d := uint32([4]uint8{L: 0b01, M: 0b00, Q: 0b11, H: 0b10}[l])<<3 | uint32(m)
	r := d << 10
	for b := 14; b >= 10; b-- {
		if r&(1<<b) != 0 {
			r ^= 0x537 << (b - 10)
		}
	}
	return (d<<10 | r) ^ 0x5412
}

// versionBits returns the 18-bit version information of version v (>= 7):
// 6 version bits, BCH(18,6) protected with generator 0x1F25.
func versionBits(v int) uint32 {
	d := uint32(v)
	r := d << 12
	for b := 17; b >= 12; b-- {
		if r&(1<<b) != 0 {
			r ^= 0x1F25 << (b - 12)
		}
	}
	return d<<12 | r
}

// maskBit reports whether mask pattern m inverts the module at column x,
// row y (ISO/IEC 18004 Table 10, i = row, j = column).
func maskBit(m, x, y int) bool {
	switch m {
	case 0:
		return (y+x)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (y+x)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return (y*x)%2+(y*x)%3 == 0
	case 6:
		return ((y*x)%2+(y*x)%3)%2 == 0
	case 7:
		return ((y+x)%2+(y*x)%3)%2 == 0
	}
	panic("qr: bad mask")
}

func buildTemplate(v int) *verTemplate {
	size := 17 + 4*v
	t := &verTemplate{size: size, w: (size + 63) / 64}
	fn := make([]bool, size*size)
	dark := make([]bool, size*size)
	set := func(x, y int, d bool) {
		fn[y*size+x] = true
		dark[y*size+x] = d
	}

	// Timing patterns along row 6 and column 6; the finders and their
	// separators overwrite the ends.
	for i := 0; i < size; i++ {
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	// Finder patterns (7x7) with their light separators.
	for _, c := range [3][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				d := max(abs(dx), abs(dy))
				set(x, y, d != 2 && d != 4)
			}
		}
	}
	// Alignment patterns (5x5), except where the finders are.
	ap := alignPos[v]
	for i, cy := range ap {
		for j, cx := range ap {
			last := len(ap) - 1
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(int(cx)+dx, int(cy)+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	// Format information, reserved light here; bit i is the i-th least
	// significant bit of formatBits.
	for i := 0; i < 15; i++ {
		var a, b [2]int
		switch {
		case i < 6:
			a = [2]int{8, i}
		case i < 8:
			a = [2]int{8, i + 1}
		case i == 8:
			a = [2]int{7, 8}
		default:
			a = [2]int{14 - i, 8}
		}
		if i < 8 {
			b = [2]int{size - 1 - i, 8}
		} else {
			b = [2]int{8, size - 15 + i}
		}
		t.fmtPos[0][i] = [2]uint8{uint8(a[0]), uint8(a[1])}
		t.fmtPos[1][i] = [2]uint8{uint8(b[0]), uint8(b[1])}
		set(a[0], a[1], false)
		set(b[0], b[1], false)
	}
	set(8, size-8, true) // the dark module
	// Version information: two 6x3 blocks, bit i at (size-11+i%3, i/3)
	// and its transpose.
	if v >= 7 {
		vb := versionBits(v)
		for i := 0; i < 18; i++ {
			d := vb>>i&1 != 0
			a, b := size-11+i%3, i/3
			set(a, b, d)
			set(b, a, d)
		}
	}

	// Data modules in placement order: two-module wide columns from the
	// right, alternately upwards and downwards, skipping the vertical
	// timing pattern.
	t.dataPos = make([]uint16, 0, rawDataModules(v))
	upward := true
	for right := size - 1; right >= 1; right, upward = right-2, !upward {
		if right == 6 {
			right = 5
		}
		for k := 0; k < size; k++ {
			y := k
			if upward {
				y = size - 1 - k
			}
			for dx := 0; dx < 2; dx++ {
				x := right - dx
				if !fn[y*size+x] {
					t.dataPos = append(t.dataPos, uint16(y)<<8|uint16(x))
				}
			}
		}
	}
	if len(t.dataPos) != rawDataModules(v) {
		panic("qr: data module count mismatch")
	}

	w := t.w
	t.fn = fn
	t.fnRows = make([]uint64, size*w)
	t.fnCols = make([]uint64, size*w)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if dark[y*size+x] {
				t.fnRows[y*w+x>>6] |= 1 << (x & 63)
				t.fnCols[x*w+y>>6] |= 1 << (y & 63)
			}
		}
	}
	for m := 0; m < 8; m++ {
		rows := make([]uint64, size*w)
		cols := make([]uint64, size*w)
		for _, p := range t.dataPos {
			x, y := int(p&0xFF), int(p>>8)
			if maskBit(m, x, y) {
				rows[y*w+x>>6] |= 1 << (x & 63)
				cols[x*w+y>>6] |= 1 << (y & 63)
			}
		}
		t.maskRows[m], t.maskCols[m] = rows, cols
	}
	for i := 0; i < size-1; i++ {
		t.validE[i>>6] |= 1 << (i & 63)
	}
	return t
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// place draws sc.final into the symbol, applies mask (or, when mask < 0,
// the mask with the lowest penalty) and leaves the result in sc.bestRows.
// It returns the mask used.
func (sc *scratch) place(t *verTemplate, l Level, mask int) int {
	n := t.size * t.w
	w := t.w
	sc.rows = grow(sc.rows, n)
	sc.cols = grow(sc.cols, n)
	copy(sc.rows, t.fnRows)
	copy(sc.cols, t.fnCols)
	rows, cols := sc.rows, sc.cols
	pos := t.dataPos
	for k, cw := range sc.final {
		if cw == 0 {
			continue
		}
		p := pos[k*8 : k*8+8]
		for b := 0; b < 8; b++ {
			if cw&(0x80>>b) != 0 {
				x, y := int(p[b]&0xFF), int(p[b]>>8)
				rows[y*w+x>>6] |= 1 << (x & 63)
				cols[x*w+y>>6] |= 1 << (y & 63)
			}
		}
	}

	sc.bestRows = grow(sc.bestRows, n)
	if mask >= 0 {
		sc.applyMask(t, l, mask, sc.bestRows, nil)
		return mask
	}
	sc.mrows = grow(sc.mrows, n)
	sc.mcols = grow(sc.mcols, n)
	best, bestScore := 0, int(^uint(0)>>1)
	for m := 0; m < 8; m++ {
		sc.applyMask(t, l, m, sc.mrows, sc.mcols)
		if s := penalty(t, sc.mrows, sc.mcols); s < bestScore {
			best, bestScore = m, s
			sc.mrows, sc.bestRows = sc.bestRows, sc.mrows
		}
	}
	return best
}

// applyMask writes the symbol with mask m and its format information into
// rows (and cols when not nil).
func (sc *scratch) applyMask(t *verTemplate, l Level, m int, rows, cols []uint64) {
	mr := t.maskRows[m][:len(rows)]
	for i, r := range sc.rows[:len(rows)] {
		rows[i] = r ^ mr[i]
	}
	if cols != nil {
		mc := t.maskCols[m][:len(cols)]
		for i, c := range sc.cols[:len(cols)] {
			cols[i] = c ^ mc[i]
		}
	}
	fb := formatBits(l, m)
	w := t.w
	for i := 0; i < 15; i++ {
		if fb>>i&1 == 0 {
			continue
		}
		for c := 0; c < 2; c++ {
			x, y := int(t.fmtPos[c][i][0]), int(t.fmtPos[c][i][1])
			rows[y*w+x>>6] |= 1 << (x & 63)
			if cols != nil {
				cols[x*w+y>>6] |= 1 << (y & 63)
			}
		}
	}
}

// exportModules copies sc.bestRows into a row-major []bool.
func (sc *scratch) exportModules(t *verTemplate, out []bool) {
	size, w := t.size, t.w
	for y := 0; y < size; y++ {
		row := sc.bestRows[y*w : y*w+w]
		o := out[y*size : y*size+size]
		for x := range o {
			o[x] = row[x>>6]>>(x&63)&1 != 0
		}
	}
}

// Penalty weights (ISO/IEC 18004 7.8.3.1).
const (
	penN1 = 3
	penN2 = 3
	penN3 = 40
	penN4 = 10
)

// penalty scores a masked symbol with the four rules: runs of five or more
// modules of one colour in a row or column (3 + run-5), 2x2 blocks of one
// colour (3 each), the finder-like pattern 1:1:3:1:1 with four light
// modules (or the symbol edge) on either side (40 each) and the deviation
// of the dark proportion from 50% (10 per full 5%).
func penalty(t *verTemplate, rows, cols []uint64) int {
	size := t.size
	total := 0
	dark := 0
	if t.w == 1 {
		ve := t.validE[0]
		for y := 0; y < size; y++ {
			r := rows[y]
			total += linePenalty64(r, ve) + linePenalty64(cols[y], ve)
			dark += bits.OnesCount64(r)
			if y > 0 {
				total += penN2 * blocks64(rows[y-1], r, ve)
			}
		}
	} else {
		w := t.w
		var prev line
		for y := 0; y < size; y++ {
			r := loadLine(rows[y*w : y*w+w])
			total += linePenalty(r, t.validE) + linePenalty(loadLine(cols[y*w:y*w+w]), t.validE)
			dark += r.count()
			if y > 0 {
				total += penN2 * blocks(prev, r, t.validE)
			}
			prev = r
		}
	}
	cells := size * size
	dev := 2*dark - cells
	if dev < 0 {
		dev = -dev
	}
	total += penN4 * (dev * 10 / cells)
	return total
}

// linePenalty64 returns the rule 1 and rule 3 penalties of one row or
// column of at most 64 modules; ve has the bits 0..n-2 set.
func linePenalty64(x, ve uint64) int {
	// e: module i equals module i+1; f: modules i..i+4 are equal.
	e := ^(x ^ x>>1) & ve
	f := e & (e >> 1) & (e >> 2) & (e >> 3)
	// A run of n >= 5 modules has n-4 bits in f, one of them starting a
	// run of bits, and scores 3 + (n-5) = (n-4) + (3-1).
	p := bits.OnesCount64(f) + (penN1-1)*bits.OnesCount64(f&^(f<<1))
	// Finder-like pattern dark-light-dark-dark-dark-light-dark starting
	// at bit i.
	m := x &^ (x >> 1) & (x >> 2) & (x >> 3) & (x >> 4) &^ (x >> 5) & (x >> 6)
	if m != 0 {
		before := ^(x<<1 | x<<2 | x<<3 | x<<4)
		after := ^(x>>7 | x>>8 | x>>9 | x>>10)
		p += penN3 * bits.OnesCount64(m&(before|after))
	}
	return p
}

// blocks64 counts the 2x2 blocks of one colour between two adjacent rows.
func blocks64(a, b, ve uint64) int {
	v := ^(a ^ b)
	h := ^(a ^ a>>1)
	return bits.OnesCount64(v & (v >> 1) & h & ve)
}

// line is a row or column of up to 192 modules.
type line [3]uint64

func loadLine(s []uint64) (l line) {
	copy(l[:], s)
	return l
}

func (a line) shr(k uint) line {
	return line{a[0]>>k | a[1]<<(64-k), a[1]>>k | a[2]<<(64-k), a[2] >> k}
}

func (a line) shl(k uint) line {
	return line{a[0] << k, a[1]<<k | a[0]>>(64-k), a[2]<<k | a[1]>>(64-k)}
}

func (a line) and(b line) line    { return line{a[0] & b[0], a[1] & b[1], a[2] & b[2]} }
func (a line) andNot(b line) line { return line{a[0] &^ b[0], a[1] &^ b[1], a[2] &^ b[2]} }
func (a line) or(b line) line     { return line{a[0] | b[0], a[1] | b[1], a[2] | b[2]} }
func (a line) xnor(b line) line   { return line{^(a[0] ^ b[0]), ^(a[1] ^ b[1]), ^(a[2] ^ b[2])} }
func (a line) zero() bool         { return a[0]|a[1]|a[2] == 0 }
func (a line) count() int {
	return bits.OnesCount64(a[0]) + bits.OnesCount64(a[1]) + bits.OnesCount64(a[2])
}

// linePenalty is linePenalty64 for lines longer than 64 modules.
func linePenalty(x, ve line) int {
	e := x.xnor(x.shr(1)).and(ve)
	f := e.and(e.shr(1)).and(e.shr(2)).and(e.shr(3))
	p := f.count() + (penN1-1)*f.andNot(f.shl(1)).count()
	m := x.andNot(x.shr(1)).and(x.shr(2)).and(x.shr(3)).and(x.shr(4)).andNot(x.shr(5)).and(x.shr(6))
	if !m.zero() {
		darkBefore := x.shl(1).or(x.shl(2)).or(x.shl(3)).or(x.shl(4))
		darkAfter := x.shr(7).or(x.shr(8)).or(x.shr(9)).or(x.shr(10))
		// m & (before | after) = m &^ (darkBefore & darkAfter)
		p += penN3 * m.andNot(darkBefore.and(darkAfter)).count()
	}
	return p
}

// blocks is blocks64 for lines longer than 64 modules.
func blocks(a, b, ve line) int {
	v := a.xnor(b)
	h := a.xnor(a.shr(1))
	return v.and(v.shr(1)).and(h).and(ve).count()
}
