package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// version is the first byte of every block: the high nibble is a magic
// value, the low nibble the format version.
const version = 0xA1

var (
	// ErrCorrupt is wrapped by every error about a malformed block.
	ErrCorrupt = errors.New("tsdb: corrupt block")
	// ErrOutOfOrder is returned by Append for a timestamp older than the
	// last one appended.
	ErrOutOfOrder = errors.New("tsdb: timestamp before the last one")

	errTruncated = fmt.Errorf("%w: bit stream ends early", ErrCorrupt)
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// quantizer maps values to integer multiples of the precision and back.
// When 1/precision is an integer (0.01 → 100) it divides by that integer
// on the way back, so 1234 quanta decode to exactly the float64 nearest
// 12.34, as strconv would parse it.
type quantizer struct {
	prec   float64
	inv    float64
	useInv bool
}

func validPrecision(p float64) bool { return p > 0 && !math.IsInf(p, 1) }

func newQuantizer(p float64) quantizer {
	inv := 1 / p
	r := math.Round(inv)
	if r >= 1 && r <= 1<<53 && math.Abs(inv-r) <= 1e-9*r {
		return quantizer{prec: p, inv: r, useInv: true}
	}
	return quantizer{prec: p}
}

// toInt returns round(v/precision), or ok=false when v must be stored as
// raw float64 bits: NaN, ±Inf, beyond the int64 range, or a value whose
// reconstruction would be off by more than precision/2 (plus a relative
// 2^-20 of it for float rounding).
func (q *quantizer) toInt(v float64) (i int64, ok bool) {
	var x float64
	if q.useInv {
		x = math.Round(v * q.inv)
	} else {
		x = math.Round(v / q.prec)
	}
	if !(x > -0x1p63 && x < 0x1p63) {
		return 0, false
	}
	i = int64(x)
	if !(math.Abs(q.toFloat(i)-v) <= q.maxErr()) {
		return 0, false
	}
	return i, true
}

func (q *quantizer) toFloat(i int64) float64 {
	if q.useInv {
		return float64(i) / q.inv
	}
	return float64(i) * q.prec
}

// maxErr is the largest reconstruction error a quantised value may have.
func (q *quantizer) maxErr() float64 { return q.prec / 2 * (1 + 0x1p-20) }

// state is what the encoder and the decoder both track; after the same
// points it is identical on both sides.
type state struct {
	q         quantizer
	count     int
	first     int64 // first timestamp
	last      int64 // last timestamp
	prevDelta int64 // last timestamp delta
	prevQ     int64 // last quantised value (escaped floats leave it alone)
	ts, val   intCoder
}

func newState(precision float64) state {
	return state{q: newQuantizer(precision), ts: newIntCoder(false), val: newIntCoder(true)}
}

// header is the parsed block header.
type header struct {
	count     uint64
	precision float64
	first     int64
	stream    []byte
}

func parseHeader(block []byte) (header, error) {
	var h header
	if len(block) == 0 {
		return h, corrupt("empty block")
	}
	if block[0] != version {
		return h, corrupt("unknown version byte %#02x", block[0])
	}
	p := block[1:]
	count, n := binary.Uvarint(p)
	if n <= 0 {
		return h, corrupt("bad count")
	}
	p = p[n:]
	if len(p) < 8 {
		return h, corrupt("short header")
	}
	h.precision = math.Float64frombits(binary.LittleEndian.Uint64(p))
	if !validPrecision(h.precision) {
		return h, corrupt("bad precision %v", h.precision)
	}
	p = p[8:]
	first, n := binary.Varint(p)
	if n <= 0 {
		return h, corrupt("bad first timestamp")
	}
	h.stream = p[n:]
	// The first point takes at least one bit (its value) and every later
	// one at least two (timestamp and value), so a larger count is a lie.
	if bits := uint64(len(h.stream)) * 8; count > 0 && (bits == 0 || count-1 > (bits-1)/2) {
		return h, corrupt("count %d exceeds the bit stream", count)
	}
	h.count, h.first = count, first
	return h, nil
}

func appendHeader(dst []byte, count int, precision float64, first int64) []byte {
	dst = append(dst, version)
	dst = binary.AppendUvarint(dst, uint64(count))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(precision))
	return binary.AppendVarint(dst, first)
}
