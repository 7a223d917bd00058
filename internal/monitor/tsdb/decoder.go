package tsdb

import "math"

// Decode returns all points of a block.
func Decode(block []byte) (ts []int64, vs []float64, err error) {
	d, err := NewDecoder(block)
	if err != nil {
		return nil, nil, err
	}
	n := min(d.Len(), 1<<16) // the rest grows as it decodes
	ts = make([]int64, 0, n)
	vs = make([]float64, 0, n)
	for d.Next() {
		t, v := d.At()
		ts = append(ts, t)
		vs = append(vs, v)
	}
	if err := d.Err(); err != nil {
		return nil, nil, err
	}
	return ts, vs, nil
}

// Decoder iterates over the points of a block. The block must not be
// modified while the decoder is in use.
type Decoder struct {
	st    state
	r     bitReader
	total int
	t     int64
	v     float64
	err   error
}

// NewDecoder validates the block header and returns a decoder positioned
// before the first point.
func NewDecoder(block []byte) (*Decoder, error) {
	h, err := parseHeader(block)
	if err != nil {
		return nil, err
	}
	d := &Decoder{st: newState(h.precision), r: bitReader{b: h.stream}, total: int(h.count)}
	d.st.first = h.first
	if d.total == 0 {
		if h.first != 0 {
			return nil, corrupt("empty block with a first timestamp")
		}
		d.checkEnd()
		if d.err != nil {
			return nil, d.err
		}
	}
	return d, nil
}

// Len returns the number of points the header announces.
func (d *Decoder) Len() int { return d.total }

// Precision returns the quantum the values are stored in.
func (d *Decoder) Precision() float64 { return d.st.q.prec }

// Next decodes the next point and reports whether there was one. It
// returns false at the end of the block or on an error (see Err).
func (d *Decoder) Next() bool {
	s := &d.st
	if d.err != nil || s.count >= d.total {
		return false
	}
	t := s.first
	if s.count > 0 {
		dod, _, isFloat, err := s.ts.get(&d.r)
		if err == nil && isFloat {
			err = corrupt("float escape in the timestamps")
		}
		if err != nil {
			d.err = err
			return false
		}
		delta := s.prevDelta + dod
		t = s.last + delta
		if t < s.last {
			d.err = corrupt("timestamp %d before %d", t, s.last)
			return false
		}
		s.prevDelta = delta
	}
	diff, fb, isFloat, err := s.val.get(&d.r)
	if err != nil {
		d.err = err
		return false
	}
	if isFloat {
		d.v = math.Float64frombits(fb)
	} else {
		s.prevQ += diff
		d.v = s.q.toFloat(s.prevQ)
	}
	d.t = t
	s.last = t
	s.count++
	if s.count == d.total {
		d.checkEnd()
		if d.err != nil {
			return false
		}
	}
	return true
}

// checkEnd rejects anything after the last point but zero padding.
func (d *Decoder) checkEnd() {
	left := d.r.left()
	if left >= 8 {
		d.err = corrupt("%d bytes after the last point", left/8)
		return
	}
	if pad, _ := d.r.readBits(uint(left)); pad != 0 {
		d.err = corrupt("nonzero padding")
		return
	}
	d.r.pos -= left // leave the position at the end of the last point
}

// At returns the point decoded by the last successful call to Next.
func (d *Decoder) At() (tms int64, v float64) { return d.t, d.v }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }
