package tsdb

import "fmt"

// Encoder appends (timestamp ms, value) points of one series to a
// compressed block. It is not safe for concurrent use.
type Encoder struct {
	st state
	w  bitWriter
}

// NewEncoder returns an empty block whose values are stored as
// round(v/precision) integers, so 0.01 keeps two decimals and 1 keeps
// whole bytes. NaN, ±Inf and values the integers cannot carry within
// precision/2 are stored exactly as raw float64 bits. It panics unless
// precision is finite and greater than zero.
func NewEncoder(precision float64) *Encoder {
	if !validPrecision(precision) {
		panic(fmt.Sprintf("tsdb: precision must be finite and > 0, got %v", precision))
	}
	return &Encoder{st: newState(precision)}
}

// Append adds one point. Timestamps must not decrease (ErrOutOfOrder);
// equal timestamps are allowed. A decoded value differs from v by at most
// precision/2; NaN and ±Inf decode exactly.
func (e *Encoder) Append(tms int64, v float64) error {
	s := &e.st
	if s.count > 0 {
		if tms < s.last {
			return fmt.Errorf("%w: %d < %d", ErrOutOfOrder, tms, s.last)
		}
		delta := tms - s.last
		s.ts.put(&e.w, delta-s.prevDelta)
		s.prevDelta = delta
	} else {
		s.first = tms
	}
	s.last = tms
	s.count++
	if i, ok := s.q.toInt(v); ok {
		s.val.put(&e.w, i-s.prevQ)
		s.prevQ = i
	} else {
		s.val.putFloat(&e.w, v)
	}
	return nil
}

// Len returns the number of points appended.
func (e *Encoder) Len() int { return e.st.count }

// First returns the first timestamp, or 0 if the block is empty.
func (e *Encoder) First() int64 { return e.st.first }

// Last returns the last timestamp, or 0 if the block is empty.
func (e *Encoder) Last() int64 { return e.st.last }

// Precision returns the quantum the values are stored in.
func (e *Encoder) Precision() float64 { return e.st.q.prec }

// Bytes returns the complete block so far (header and bit stream) in a
// new slice. The encoder stays appendable.
func (e *Encoder) Bytes() []byte {
	dst := make([]byte, 0, 32+len(e.w.buf))
	dst = appendHeader(dst, e.st.count, e.st.q.prec, e.st.first)
	return e.w.appendTo(dst)
}

// Resume re-opens a block written by an Encoder so that more points can
// be appended, for example after a restart. It decodes the whole block
// to rebuild the encoder's state and keeps no reference to block.
func Resume(block []byte) (*Encoder, error) {
	d, err := NewDecoder(block)
	if err != nil {
		return nil, err
	}
	for d.Next() {
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return &Encoder{st: d.st, w: resumeWriter(d.r.b, d.r.pos)}, nil
}
