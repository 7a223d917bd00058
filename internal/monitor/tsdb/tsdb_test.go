package tsdb

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withinPrecision reports whether got is an acceptable decoding of want.
func withinPrecision(want, got, prec float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= prec/2*(1+0x1p-20)
}

func encodeAll(t testing.TB, prec float64, ts []int64, vs []float64) *Encoder {
	t.Helper()
	e := NewEncoder(prec)
	for i := range ts {
		if err := e.Append(ts[i], vs[i]); err != nil {
			t.Fatalf("Append #%d (%d, %v): %v", i, ts[i], vs[i], err)
		}
	}
	return e
}

// checkRoundTrip encodes the series and checks Decode, the streaming
// Decoder, Resume at a few split points, and the accessors.
func checkRoundTrip(t *testing.T, prec float64, ts []int64, vs []float64) {
	t.Helper()
	e := encodeAll(t, prec, ts, vs)
	block := e.Bytes()
	if e.Len() != len(ts) {
		t.Fatalf("Len = %d, want %d", e.Len(), len(ts))
	}
	if len(ts) > 0 && (e.First() != ts[0] || e.Last() != ts[len(ts)-1]) {
		t.Fatalf("First/Last = %d/%d, want %d/%d", e.First(), e.Last(), ts[0], ts[len(ts)-1])
	}
	gotT, gotV, err := Decode(block)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(gotT) != len(ts) || len(gotV) != len(vs) {
		t.Fatalf("decoded %d/%d points, want %d", len(gotT), len(gotV), len(ts))
	}
	for i := range ts {
		if gotT[i] != ts[i] {
			t.Fatalf("ts[%d] = %d, want %d", i, gotT[i], ts[i])
		}
		if !withinPrecision(vs[i], gotV[i], prec) {
			t.Fatalf("vs[%d] = %v, want %v ± %v", i, gotV[i], vs[i], prec/2)
		}
	}
	d, err := NewDecoder(block)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != len(ts) || d.Precision() != prec {
		t.Fatalf("decoder Len/Precision = %d/%v", d.Len(), d.Precision())
	}
	n := 0
	for d.Next() {
		tm, v := d.At()
		if tm != gotT[n] || math.Float64bits(v) != math.Float64bits(gotV[n]) {
			t.Fatalf("streaming point %d = (%d, %v), Decode gave (%d, %v)", n, tm, v, gotT[n], gotV[n])
		}
		n++
	}
	if d.Err() != nil || n != len(ts) {
		t.Fatalf("streaming decode: %d points, err %v", n, d.Err())
	}
	if d.Next() {
		t.Fatal("Next after the end returned true")
	}
	for _, split := range []int{0, 1, 2, len(ts) / 2, len(ts) - 1, len(ts)} {
		if split < 0 || split > len(ts) {
			continue
		}
		checkResume(t, prec, ts, vs, split, block)
	}
}

// checkResume encodes ts[:split], resumes the block and appends the
// rest; the result must be byte-identical to block.
func checkResume(t *testing.T, prec float64, ts []int64, vs []float64, split int, block []byte) {
	t.Helper()
	part := encodeAll(t, prec, ts[:split], vs[:split]).Bytes()
	e, err := Resume(part)
	if err != nil {
		t.Fatalf("Resume after %d points: %v", split, err)
	}
	if e.Len() != split || e.Precision() != prec {
		t.Fatalf("resumed Len/Precision = %d/%v, want %d/%v", e.Len(), e.Precision(), split, prec)
	}
	for i := split; i < len(ts); i++ {
		if err := e.Append(ts[i], vs[i]); err != nil {
			t.Fatalf("Append after Resume: %v", err)
		}
	}
	if got := e.Bytes(); !bytes.Equal(got, block) {
		t.Fatalf("resumed at %d of %d: block differs from a single encoder's (%d vs %d bytes)", split, len(ts), len(got), len(block))
	}
}

type gen struct {
	name string
	prec float64
	ts   func(r *rand.Rand, n int) []int64
	vs   func(r *rand.Rand, n int) []float64
}

func steadyTS(jitter int) func(r *rand.Rand, n int) []int64 {
	return func(r *rand.Rand, n int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = 1_700_000_000_000 + int64(i)*1000
			if jitter > 0 {
				ts[i] += int64(r.IntN(2*jitter+1) - jitter)
			}
		}
		return ts
	}
}

func irregularTS(r *rand.Rand, n int) []int64 {
	ts := make([]int64, n)
	t := r.Int64N(1<<41) - 1<<40
	for i := range ts {
		switch r.IntN(6) {
		case 0: // equal timestamp
		case 1:
			t += r.Int64N(3_600_000 * 24) // gap up to a day
		case 2:
			t += 1
		default:
			t += 900 + r.Int64N(200)
		}
		ts[i] = t
	}
	return ts
}

func walk(start, step float64) func(r *rand.Rand, n int) []float64 {
	return func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		v := start
		for i := range vs {
			v += r.NormFloat64() * step
			vs[i] = v
		}
		return vs
	}
}

var gens = []gen{
	{"walk-cpu", 0.01, steadyTS(5), walk(50, 3)},
	{"walk-exact-steps", 0.1, steadyTS(0), walk(0, 1)},
	{"constant", 0.01, steadyTS(5), func(_ *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = 42.5
		}
		return vs
	}},
	{"step", 1, irregularTS, func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		v := 0.0
		for i := range vs {
			if r.IntN(50) == 0 {
				v = float64(r.IntN(1000))
			}
			vs[i] = v
		}
		return vs
	}},
	{"counter", 1, steadyTS(3), func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		v := 1e9
		for i := range vs {
			v += float64(r.IntN(100000))
			vs[i] = v
		}
		return vs
	}},
	{"big-bytes", 1, steadyTS(5), walk(1e12, 1e7)},
	{"big-bytes-pages", 4096, steadyTS(5), walk(1.5e12, 1e8)},
	{"negative", 0.001, irregularTS, walk(-500, 20)},
	{"tiny-precision", 1e-9, steadyTS(1), walk(0, 1e-6)},
	{"odd-precision", 0.3, irregularTS, walk(10, 5)},
	{"huge-precision", 1e6, steadyTS(5), walk(0, 1e7)},
	{"specials", 0.01, irregularTS, func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		pool := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, -1.25, 1e300, -1e300, math.MaxFloat64,
			-math.MaxFloat64, math.SmallestNonzeroFloat64, 9.3e18, -9.3e16, 12.345, -0.005, 0.005}
		for i := range vs {
			vs[i] = pool[r.IntN(len(pool))]
		}
		return vs
	}},
	{"random-bits", 0.5, irregularTS, func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = math.Float64frombits(r.Uint64())
		}
		return vs
	}},
	{"mostly-zero", 1, steadyTS(5), func(r *rand.Rand, n int) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			if r.IntN(20) == 0 {
				vs[i] = float64(r.IntN(2000) * 4096)
			}
		}
		return vs
	}},
}

func TestRoundTripProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, g := range gens {
		for _, n := range []int{0, 1, 2, 3, 17, 500, 3600} {
			t.Run(fmt.Sprintf("%s/%d", g.name, n), func(t *testing.T) {
				checkRoundTrip(t, g.prec, g.ts(r, n), g.vs(r, n))
			})
		}
	}
}

func TestRoundTripExtremes(t *testing.T) {
	cases := []struct {
		name string
		ts   []int64
		vs   []float64
	}{
		{"int64 span", []int64{math.MinInt64, math.MinInt64, 0, math.MaxInt64, math.MaxInt64}, []float64{1, 2, 3, 4, 5}},
		{"wide deltas", []int64{math.MinInt64, math.MaxInt64 - 1, math.MaxInt64}, []float64{0, 0, 0}},
		{"alternating gaps", []int64{0, 1, 1 << 62, 1<<62 + 1, 1<<62 + 2}, []float64{0, 0, 0, 0, 0}},
		{"int64 value edges", []int64{1, 2, 3, 4, 5, 6}, []float64{-0x1p62, 0x1p62, -0x1p62, 0x1p63, -0x1p63, 0}},
		{"negative zero", []int64{0, 0}, []float64{math.Copysign(0, -1), 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, prec := range []float64{1, 0.01, 1e-300, 1e300} {
				checkRoundTrip(t, prec, c.ts, c.vs)
			}
		})
	}
}

func TestSpecialsExact(t *testing.T) {
	vs := []float64{math.NaN(), math.Inf(1), 3, math.Inf(-1), math.NaN(), 3, 1e200}
	ts := []int64{0, 1000, 2000, 3000, 4000, 5000, 6000}
	_, got, err := Decode(encodeAll(t, 0.01, ts, vs).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if math.Float64bits(got[i]) != math.Float64bits(v) {
			t.Errorf("value %d: got %v (%#x), want %v (%#x)", i, got[i], math.Float64bits(got[i]), v, math.Float64bits(v))
		}
	}
}

func TestPrecisionLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, prec := range []float64{1, 0.5, 0.1, 0.01, 0.001, 0.25, 0.3, 7, 1e-6, 1024} {
		n := 5000
		ts := make([]int64, n)
		vs := make([]float64, n)
		for i := range vs {
			ts[i] = int64(i)
			switch i % 4 {
			case 0: // exact half quanta: the worst case for rounding
				vs[i] = (float64(r.IntN(20001)-10000) + 0.5) * prec
			case 1:
				vs[i] = (r.Float64() - 0.5) * 1e4 * prec
			case 2:
				vs[i] = (r.Float64() - 0.5) * 1e15 * prec
			default:
				vs[i] = math.Round(r.Float64()*1e5) / 1e3 // three decimals, as a collector might print
			}
		}
		_, got, err := Decode(encodeAll(t, prec, ts, vs).Bytes())
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, v := range vs {
			e := math.Abs(got[i] - v)
			worst = math.Max(worst, e)
			if !withinPrecision(v, got[i], prec) {
				t.Fatalf("prec %v: %v decoded as %v, error %v > %v", prec, v, got[i], e, prec/2)
			}
		}
		t.Logf("precision %-7v worst error %.3g (limit %.3g)", prec, worst, prec/2)
	}
}

// Two decimals at precision 0.01 decode to the same float64 strconv
// would parse.
func TestDecimalsDecodeExactly(t *testing.T) {
	vs := []float64{12.34, 0.01, 99.99, -3.07, 1234567.89, 0.1, 0.7}
	ts := make([]int64, len(vs))
	_, got, err := Decode(encodeAll(t, 0.01, ts, vs).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range vs {
		if got[i] != vs[i] {
			t.Errorf("%v decoded as %v", vs[i], got[i])
		}
	}
}

func TestOutOfOrder(t *testing.T) {
	e := NewEncoder(1)
	if err := e.Append(1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Append(1000, 2); err != nil {
		t.Fatalf("equal timestamp rejected: %v", err)
	}
	if err := e.Append(999, 3); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("decreasing timestamp: err = %v, want ErrOutOfOrder", err)
	}
	if e.Len() != 2 || e.Last() != 1000 {
		t.Fatalf("a rejected point changed the encoder: Len %d Last %d", e.Len(), e.Last())
	}
	if err := e.Append(2000, 4); err != nil {
		t.Fatal(err)
	}
	ts, vs, err := Decode(e.Bytes())
	if err != nil || len(ts) != 3 || ts[2] != 2000 || vs[2] != 4 {
		t.Fatalf("after a rejected point: %v %v %v", ts, vs, err)
	}
}

func TestInvalidPrecisionPanics(t *testing.T) {
	for _, p := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewEncoder(%v) did not panic", p)
				}
			}()
			NewEncoder(p)
		}()
	}
}

func TestBytesDoesNotAlias(t *testing.T) {
	e := NewEncoder(0.01)
	var snaps [][]byte
	var copies [][]byte
	for i := range 2000 {
		if err := e.Append(int64(i)*1000, float64(i%37)*0.5); err != nil {
			t.Fatal(err)
		}
		if i%97 == 0 {
			b := e.Bytes()
			snaps = append(snaps, b)
			copies = append(copies, bytes.Clone(b))
		}
	}
	for i := range snaps {
		if !bytes.Equal(snaps[i], copies[i]) {
			t.Fatalf("snapshot %d changed after more appends", i)
		}
		ts, _, err := Decode(snaps[i])
		if err != nil || len(ts) != i*97+1 {
			t.Fatalf("snapshot %d: %d points, %v", i, len(ts), err)
		}
	}
	// Appending to a resumed encoder must not write into the block it came from.
	block := e.Bytes()
	orig := bytes.Clone(block)
	r, err := Resume(block)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := r.Append(int64(3000+i)*1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(block, orig) {
		t.Fatal("Resume's encoder modified the caller's block")
	}
}

func TestEmptyBlock(t *testing.T) {
	e := NewEncoder(0.01)
	block := e.Bytes()
	if e.First() != 0 || e.Last() != 0 || e.Len() != 0 {
		t.Fatal("empty encoder accessors")
	}
	ts, vs, err := Decode(block)
	if err != nil || len(ts) != 0 || len(vs) != 0 {
		t.Fatalf("empty block: %v %v %v", ts, vs, err)
	}
	t.Logf("empty block is %d bytes", len(block))
}

func TestCorruptHeaders(t *testing.T) {
	good := encodeAll(t, 0.01, []int64{1000, 2000, 3000}, []float64{1, 2, 3}).Bytes()
	bad := map[string][]byte{
		"nil":             nil,
		"version":         append([]byte{0xA2}, good[1:]...),
		"count only":      good[:2],
		"short precision": good[:6],
		"zero precision":  appendHeader(nil, 0, 0, 0),
		"nan precision":   appendHeader(nil, 0, math.NaN(), 0),
		"neg precision":   appendHeader(nil, 0, -1, 0),
		"count too big":   append(appendHeader(nil, 17, 1, 0), 0xff, 0xff),
		"truncated":       good[:len(good)-1],
		"trailing byte":   append(bytes.Clone(good), 0),
		"empty with ts":   appendHeader(nil, 0, 1, 5),
		"empty with data": append(appendHeader(nil, 0, 1, 0), 0),
	}
	for name, b := range bad {
		if _, _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode err = %v, want ErrCorrupt", name, err)
		}
		if _, err := Resume(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Resume err = %v, want ErrCorrupt", name, err)
		}
	}
}

// Flipping or dropping bits of valid blocks must give an error or some
// decoding, never a panic; most flips must be noticed or change the data.
func TestCorruptStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, g := range gens {
		ts, vs := g.ts(r, 300), g.vs(r, 300)
		block := encodeAll(t, g.prec, ts, vs).Bytes()
		for range 200 {
			b := bytes.Clone(block)
			b[r.IntN(len(b))] ^= 1 << r.IntN(8)
			_, _, _ = Decode(b)
			if e, err := Resume(b); err == nil {
				_ = e.Append(e.Last(), 1)
			}
			_, _, _ = Decode(b[:r.IntN(len(b))])
		}
	}
}
