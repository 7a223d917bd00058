package tsdb

import (
	"encoding/binary"
	"math/bits"
)

// bitWriter appends bits most-significant first.
type bitWriter struct {
	buf []byte // complete bytes
	acc uint64 // the pending bits, right-aligned
	n   uint   // number of pending bits in acc, always < 8 between calls
}

// writeBits appends the low nb bits of v (nb <= 64).
func (w *bitWriter) writeBits(v uint64, nb uint) {
	if nb > 56 {
		w.writeBits(v>>32, nb-32)
		v &= 1<<32 - 1
		nb = 32
	}
	v &= 1<<nb - 1
	w.acc = w.acc<<nb | v
	w.n += nb
	for w.n >= 8 {
		w.n -= 8
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
	w.acc &= 1<<w.n - 1
}

// writeBit appends one bit.
func (w *bitWriter) writeBit(b uint64) {
	w.acc = w.acc<<1 | b&1
	w.n++
	if w.n == 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.n = 0, 0
	}
}

// appendTo appends the stream, padded with zero bits to a whole byte.
func (w *bitWriter) appendTo(dst []byte) []byte {
	dst = append(dst, w.buf...)
	if w.n > 0 {
		dst = append(dst, byte(w.acc<<(8-w.n)))
	}
	return dst
}

// bitLen is the number of bits written.
func (w *bitWriter) bitLen() uint64 { return uint64(len(w.buf))*8 + uint64(w.n) }

// resumeWriter returns a writer holding the first nbits bits of stream
// (a copy, so the writer never aliases the caller's memory).
func resumeWriter(stream []byte, nbits uint64) bitWriter {
	full := nbits / 8
	w := bitWriter{buf: append(make([]byte, 0, len(stream)+64), stream[:full]...)}
	if rem := uint(nbits % 8); rem > 0 {
		w.acc = uint64(stream[full] >> (8 - rem))
		w.n = rem
	}
	return w
}

// bitReader reads bits most-significant first.
type bitReader struct {
	b   []byte
	pos uint64 // next bit
}

// left is the number of unread bits.
func (r *bitReader) left() uint64 { return uint64(len(r.b))*8 - r.pos }

// readBit reads one bit; ok is false at the end of the stream.
func (r *bitReader) readBit() (bit uint64, ok bool) {
	i := r.pos >> 3
	if i >= uint64(len(r.b)) {
		return 0, false
	}
	bit = uint64(r.b[i]>>(7-r.pos&7)) & 1
	r.pos++
	return bit, true
}

// readBits reads nb bits (nb <= 64); ok is false if fewer remain.
func (r *bitReader) readBits(nb uint) (v uint64, ok bool) {
	if uint64(nb) > r.left() {
		return 0, false
	}
	for nb > 0 {
		i := r.pos >> 3
		off := uint(r.pos & 7)
		if i+8 <= uint64(len(r.b)) {
			word := binary.BigEndian.Uint64(r.b[i:]) << off
			take := min(nb, 64-off)
			v = v<<take | word>>(64-take)
			r.pos += uint64(take)
			nb -= take
			continue
		}
		avail := 8 - off
		take := min(nb, avail)
		v = v<<take | uint64(r.b[i]>>(avail-take))&(1<<take-1)
		r.pos += uint64(take)
		nb -= take
	}
	return v, true
}

// readUnary reads ones up to and including a terminating zero, or limit
// ones without a terminator (limit < 57), and returns how many ones.
func (r *bitReader) readUnary(limit uint64) (q uint64, ok bool) {
	if i := r.pos >> 3; i+8 <= uint64(len(r.b)) {
		word := binary.BigEndian.Uint64(r.b[i:]) << (r.pos & 7)
		q = uint64(bits.LeadingZeros64(^word)) // at least 57 valid bits
		if q >= limit {
			r.pos += limit
			return limit, true
		}
		r.pos += q + 1
		return q, true
	}
	for q < limit {
		b, ok := r.readBit()
		if !ok {
			return 0, false
		}
		if b == 0 {
			break
		}
		q++
	}
	return q, true
}
