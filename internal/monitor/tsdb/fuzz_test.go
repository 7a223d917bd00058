package tsdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// seedBlocks are valid blocks of several shapes for the fuzzers' corpus.
func seedBlocks(tb testing.TB) [][]byte {
	r := rand.New(rand.NewPCG(9, 9))
	out := [][]byte{NewEncoder(1).Bytes()}
	for _, g := range gens {
		for _, n := range []int{1, 5, 40} {
			out = append(out, encodeAll(tb, g.prec, g.ts(r, n), g.vs(r, n)).Bytes())
		}
	}
	return out
}

// FuzzDecode feeds arbitrary bytes to the decoding entry points: they
// must not panic, must stop within the announced count, and a block that
// decodes must resume into an encoder that reproduces it and keeps
// accepting points.
func FuzzDecode(f *testing.F) {
	for _, b := range seedBlocks(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, block []byte) {
		d, err := NewDecoder(block)
		if err == nil {
			n := 0
			for d.Next() {
				n++
				if n > d.Len() {
					t.Fatalf("Next returned more than the %d points announced", d.Len())
				}
			}
			if d.Err() == nil && n != d.Len() {
				t.Fatalf("decoded %d of %d points without an error", n, d.Len())
			}
		}
		ts, vs, err := Decode(block)
		e, rerr := Resume(block)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Decode err %v but Resume err %v", err, rerr)
		}
		if err != nil {
			return
		}
		if e.Len() != len(ts) {
			t.Fatalf("Resume Len %d, Decode %d points", e.Len(), len(ts))
		}
		ts2, vs2, err := Decode(e.Bytes())
		if err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if !sameSeries(ts, vs, ts2, vs2) {
			t.Fatal("re-encoded block decodes differently")
		}
		next := int64(0)
		if len(ts) > 0 {
			next = e.Last()
		}
		if err := e.Append(next, 1.5); err != nil {
			t.Fatalf("Append after Resume: %v", err)
		}
		ts3, vs3, err := Decode(e.Bytes())
		if err != nil || len(ts3) != len(ts)+1 || !sameSeries(ts, vs, ts3[:len(ts)], vs3[:len(ts)]) ||
			ts3[len(ts)] != next || !withinPrecision(1.5, vs3[len(ts)], e.Precision()) {
			t.Fatalf("after Resume and Append: %d points, err %v", len(ts3), err)
		}
	})
}

func sameSeries(ts1 []int64, vs1 []float64, ts2 []int64, vs2 []float64) bool {
	if len(ts1) != len(ts2) || len(vs1) != len(vs2) {
		return false
	}
	for i := range ts1 {
		if ts1[i] != ts2[i] || math.Float64bits(vs1[i]) != math.Float64bits(vs2[i]) {
			return false
		}
	}
	return true
}

// FuzzRoundTrip builds a series from fuzzed bytes (timestamp steps and
// values of several kinds) and checks the round trip, the precision
// bound, and that resuming at the fuzzed split point gives the same block.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, 0.01, int64(0), uint16(0))
	f.Add([]byte("\x01\x00\x10\x01\x02\x03\x04\x05\x06\x07\x08\x09"), 1.0, int64(1_700_000_000_000), uint16(1))
	f.Add(bytes.Repeat([]byte{0x81, 0x05, 0x03, 0xe8}, 50), 0.1, int64(-5), uint16(20))
	f.Add(bytes.Repeat([]byte{0x00, 0xff, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, 20), 1e-300, int64(math.MaxInt64-10), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, prec float64, start int64, split uint16) {
		if !validPrecision(prec) {
			prec = 1
		}
		ts, vs := seriesFromBytes(data, start, prec)
		e := encodeAll(t, prec, ts, vs)
		block := e.Bytes()
		ts2, vs2, err := Decode(block)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if len(ts2) != len(ts) {
			t.Fatalf("decoded %d points, want %d", len(ts2), len(ts))
		}
		for i := range ts {
			if ts2[i] != ts[i] || !withinPrecision(vs[i], vs2[i], prec) {
				t.Fatalf("point %d: got (%d, %v), want (%d, %v ± %v)", i, ts2[i], vs2[i], ts[i], vs[i], prec/2)
			}
		}
		k := int(split) % (len(ts) + 1)
		r, err := Resume(encodeAll(t, prec, ts[:k], vs[:k]).Bytes())
		if err != nil {
			t.Fatalf("Resume: %v", err)
		}
		for i := k; i < len(ts); i++ {
			if err := r.Append(ts[i], vs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(r.Bytes(), block) {
			t.Fatalf("resumed at %d of %d: block differs", k, len(ts))
		}
	})
}

// seriesFromBytes turns fuzz input into a non-decreasing series. Each
// record starts with a kind byte choosing how the step and value are read.
func seriesFromBytes(data []byte, start int64, prec float64) ([]int64, []float64) {
	var ts []int64
	var vs []float64
	t, v := start, 0.0
	for len(data) >= 2 {
		kind, arg := data[0], data[1]
		data = data[2:]
		switch kind >> 6 { // timestamp step
		case 0:
			t = addSat(t, 1000)
		case 1:
			t = addSat(t, 1000+int64(int8(arg)))
		case 2:
			t = addSat(t, int64(arg)*int64(arg)*997)
		case 3: // equal timestamp
		}
		switch kind & 7 { // value
		case 0:
			if len(data) >= 8 {
				v = math.Float64frombits(binary.LittleEndian.Uint64(data))
				data = data[8:]
			}
		case 1:
			v += float64(int8(arg)) * prec
		case 2:
			v = float64(int8(arg)) * 0.37
		case 3:
			v = float64(arg) * 1e12
		case 4:
			v = -v
		case 5:
			v = [...]float64{math.NaN(), math.Inf(1), math.Inf(-1), 0}[arg&3]
		default: // repeat
		}
		ts = append(ts, t)
		vs = append(vs, v)
	}
	return ts, vs
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
