package tsdb

import (
	"math"
	"math/bits"
)

// Tuning of the adaptive integer code; see doc.go. Changing any of these
// changes the format and needs a new version byte.
const (
	unaryLimit = 16      // a unary quotient this long is the escape
	statsHalve = 16      // halve the magnitude statistics at this count
	zeroHalve  = 32      // halve the zero statistics at this count
	maxK       = 56      // largest Rice parameter
	magCap     = 1 << 48 // largest magnitude fed to the statistics
	sumCap     = 1 << 56 // largest magnitude sum after a rescale
	shiftRun   = 8       // nonzero deltas needed to raise the shift
	lenBits    = 7       // width of the length field of an escaped integer
	floatBits  = 64      // width of an escaped float64
)

func zigzag(d int64) uint64   { return uint64(d<<1) ^ uint64(d>>63) }
func unzigzag(z uint64) int64 { return int64(z>>1) ^ -int64(z&1) }

// intCoder is the backward-adaptive code for one stream of int64 deltas
// (timestamp delta-of-deltas, or differences of quantised values). Its
// state depends only on the deltas coded so far, so the encoder and the
// decoder evolve it identically and no side information is written.
type intCoder struct {
	sum, cnt    uint64 // recent magnitudes (LOCO-I style Rice estimate)
	zeros, seen uint64 // recent zero deltas among recent deltas
	shift       uint   // trailing zero bits shared by recent deltas
	run         uint   // nonzero deltas in a row with more trailing zeros than shift
	runMin      uint   // fewest trailing zeros in that run
	shifting    bool   // whether the shift adapts (values only)
}

func newIntCoder(shifting bool) intCoder {
	return intCoder{cnt: 1, shifting: shifting}
}

// param returns the Rice parameter k and whether a 1-bit zero flag
// precedes the code. The flag pays when zeros are common enough:
// without it a zero costs 1+k bits, with it every nonzero costs one more.
func (c *intCoder) param() (k uint, flag bool) {
	// The smallest k with cnt<<k >= sum, i.e. bits.Len64((sum-1)/cnt),
	// found from the bit lengths without a division.
	if c.sum > c.cnt {
		k = uint(bits.Len64(c.sum) - bits.Len64(c.cnt))
		if c.cnt<<k < c.sum {
			k++
		}
		k = min(k, maxK)
	}
	return k, c.zeros*uint64(k+1) > c.seen
}

// update folds one coded delta into the statistics.
func (c *intCoder) update(d int64) {
	c.seen++
	if d == 0 {
		c.zeros++
	}
	if c.seen >= zeroHalve {
		c.seen >>= 1
		c.zeros >>= 1
	}
	var mag uint64
	if d != 0 {
		if c.shifting {
			c.updateShift(uint(bits.TrailingZeros64(uint64(d))))
		}
		mag = min(zigzag(d>>c.shift), magCap)
	}
	c.sum += mag
	c.cnt++
	if c.cnt >= statsHalve {
		c.sum >>= 1
		c.cnt >>= 1
	}
}

// updateShift tracks how many low bits all recent nonzero deltas share
// as zeros (values counted in pages or kilobytes), and keeps the
// magnitude sum on the scale of the new shift.
func (c *intCoder) updateShift(tz uint) {
	old := c.shift
	switch {
	case tz < c.shift:
		c.shift, c.run = tz, 0
	case tz == c.shift:
		c.run = 0
	default:
		if c.run == 0 || tz < c.runMin {
			c.runMin = tz
		}
		c.run++
		if c.run >= shiftRun {
			c.shift, c.run = c.runMin, 0
		}
	}
	switch {
	case c.shift > old:
		c.sum >>= c.shift - old
	case c.shift < old:
		up := old - c.shift
		if up >= 56 || c.sum > sumCap>>up {
			c.sum = sumCap
		} else {
			c.sum <<= up
		}
	}
}

// put writes the integer delta d.
func (c *intCoder) put(w *bitWriter, d int64) {
	k, flag := c.param()
	if flag {
		if d == 0 {
			w.writeBit(0)
			c.update(0)
			return
		}
		w.writeBit(1)
	}
	if d == 0 || uint(bits.TrailingZeros64(uint64(d))) >= c.shift {
		m := zigzag(d >> c.shift)
		if flag {
			m-- // zero was taken by the flag
		}
		if q := m >> k; q < unaryLimit {
			w.writeBits(1<<(q+1)-2, uint(q)+1) // q ones, then a zero
			w.writeBits(m, k)
			c.update(d)
			return
		}
	}
	// Escape: the unary limit, type bit 0, length, the zig-zagged delta.
	z := zigzag(d)
	n := uint(bits.Len64(z))
	w.writeBits(1<<unaryLimit-1, unaryLimit)
	w.writeBit(0)
	w.writeBits(uint64(n), lenBits)
	w.writeBits(z, n)
	c.update(d)
}

// putFloat writes a raw float64 through the escape (type bit 1). It does
// not touch the statistics.
func (c *intCoder) putFloat(w *bitWriter, f float64) {
	_, flag := c.param()
	if flag {
		w.writeBit(1)
	}
	w.writeBits(1<<unaryLimit-1, unaryLimit)
	w.writeBit(1)
	w.writeBits(math.Float64bits(f), floatBits)
}

// get reads what put or putFloat wrote. For an integer it returns the
// delta; for an escaped float it returns isFloat and its bits.
func (c *intCoder) get(r *bitReader) (d int64, fbits uint64, isFloat bool, err error) {
	k, flag := c.param()
	if flag {
		b, ok := r.readBit()
		if !ok {
			return 0, 0, false, errTruncated
		}
		if b == 0 {
			c.update(0)
			return 0, 0, false, nil
		}
	}
	q, ok := r.readUnary(unaryLimit)
	if !ok {
		return 0, 0, false, errTruncated
	}
	if q < unaryLimit {
		low, ok := r.readBits(k)
		if !ok {
			return 0, 0, false, errTruncated
		}
		m := q<<k | low
		if flag {
			m++
		}
		d = unzigzag(m) << c.shift
		c.update(d)
		return d, 0, false, nil
	}
	typ, ok := r.readBit()
	if !ok {
		return 0, 0, false, errTruncated
	}
	if typ == 1 {
		fb, ok := r.readBits(floatBits)
		if !ok {
			return 0, 0, false, errTruncated
		}
		return 0, fb, true, nil
	}
	n, ok := r.readBits(lenBits)
	if !ok {
		return 0, 0, false, errTruncated
	}
	if n > 64 {
		return 0, 0, false, corrupt("escaped integer of %d bits", n)
	}
	z, ok := r.readBits(uint(n))
	if !ok {
		return 0, 0, false, errTruncated
	}
	d = unzigzag(z)
	c.update(d)
	return d, 0, false, nil
}
