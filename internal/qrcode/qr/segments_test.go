package qr

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// segCost is the exact size in bits of one segment of the given mode
// carrying chars characters (bytes for byte mode) in version group g.
func segCost(m Mode, g, chars int) int {
	var data int
	switch m {
	case Numeric:
		data = 10*(chars/3) + []int{0, 4, 7}[chars%3]
	case Alphanumeric:
		data = 11*(chars/2) + 6*(chars%2)
	case Byte:
		data = 8 * chars
	}
	return 4 + int(countBits[g][m]) + data
}

// bruteMinBits is an independent reference for the optimiser: a plain
// O(n²) search over every segment [i, j) and mode with the exact segment
// costs (no per-character fractional costs, no states).
func bruteMinBits(text string, g int) int {
	runes := []rune(text)
	latin1 := true
	for _, r := range runes {
		if r > 0xFF {
			latin1 = false
		}
	}
	n := len(runes)
	best := make([]int, n+1)
	for j := 1; j <= n; j++ {
		best[j] = 1 << 40
		allDigit, allAlnum, bytes := true, true, 0
		for i := j - 1; i >= 0; i-- {
			r := runes[i]
			allDigit = allDigit && r >= '0' && r <= '9'
			allAlnum = allAlnum && r < 128 && strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", r)
			if latin1 {
				bytes++
			} else {
				bytes += utf8.RuneLen(r)
			}
			c := best[i] + segCost(Byte, g, bytes)
			if allAlnum {
				c = min(c, best[i]+segCost(Alphanumeric, g, j-i))
			}
			if allDigit {
				c = min(c, best[i]+segCost(Numeric, g, j-i))
			}
			best[j] = min(best[j], c)
		}
	}
	if !latin1 {
		return best[n] + 12
	}
	return best[n]
}

type segWant struct {
	mode Mode
	text string
}

func TestSegmentationHandComputed(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		level   Level
		opts    Options
		bits    int
		version int
		segs    []segWant
	}{
		{
			// 4 + 10 + 66*10 = 674 bits; v5-M holds 86*8 = 688, v4-M 512.
			name: "198 digits", text: strings.Repeat("0123456789", 19) + "01234567", level: M,
			bits: 674, version: 5, segs: []segWant{{Numeric, strings.Repeat("0123456789", 19) + "01234567"}},
		},
		{
			// One alphanumeric segment: 4 + 9 + 9*11 + 6 = 118. Numeric for
			// "12345" would cost 14+17 more header/data bits than the 27.5
			// it saves.
			name: "all alnum", text: "PEDIDO 12345 MESA 7", level: M,
			bits: 118, version: 1, segs: []segWant{{Alphanumeric, "PEDIDO 12345 MESA 7"}},
		},
		{
			// byte(3) 36 + numeric(12) 4+10+40 = 54 + byte(3) 36 = 126 < all
			// byte 4+8+144 = 156.
			name: "byte numeric byte", text: "abc123456789012def", level: M,
			bits: 126, version: 1, segs: []segWant{{Byte, "abc"}, {Numeric, "123456789012"}, {Byte, "def"}},
		},
		{
			// Versions 10-26: byte count 16 bits, numeric 12:
			// (4+16+24)*2 + 4+12+40 = 144 < 4+16+144 = 164.
			name: "byte numeric byte, group 2", text: "abc123456789012def", level: M, opts: Options{MinVersion: 10},
			bits: 144, version: 10, segs: []segWant{{Byte, "abc"}, {Numeric, "123456789012"}, {Byte, "def"}},
		},
		{
			// A short digit run stays in byte mode: 4+8+64 = 76 < 36+21+36.
			name: "short digits stay bytes", text: "abc12def", level: M,
			bits: 76, version: 1, segs: []segWant{{Byte, "abc12def"}},
		},
		{
			// alnum "PEDIDO " 13+33+6 = 52, numeric(16) 14+50+4 = 68,
			// byte " mesa 12" 12+64 = 76: 196 (all byte: 260; alnum up to
			// the space: 145+68 = 213).
			name: "pedido", text: textPedido, level: M,
			bits: 196, version: 2,
			segs: []segWant{{Alphanumeric, "PEDIDO "}, {Numeric, "0012345678901234"}, {Byte, " mesa 12"}},
		},
		{
			// byte(31) 260 + alnum(12) 13+66 = 79 + byte(4) 44 = 383 < all
			// byte 12+376 = 388; v4-M holds 512, v3-M 352.
			name: "url", text: textURL, level: M,
			bits: 383, version: 4,
			segs: []segWant{{Byte, "https://painel.example.com.br/e"}, {Alphanumeric, "/2026/ABC123"}, {Byte, "?x=1"}},
		},
		{
			// ECI 26 (12 bits) + 42 UTF-8 bytes: 12 + 12 + 336 = 360.
			name: "utf-8", text: textComanda, level: M,
			bits: 360, version: 4, segs: []segWant{{ECI, ""}, {Byte, textComanda}},
		},
		{
			// ISO-8859-1: 31 characters, one byte each: 12 + 248 = 260
			// (the digits "5,00" and "R$ 5" runs are too short to switch).
			name: "latin-1", text: textPromocao, level: M,
			bits: 260, version: 3, segs: []segWant{{Byte, textPromocao}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := checkRoundTrip(t, tc.text, tc.level, tc.opts)
			if c.DataBits != tc.bits {
				t.Errorf("DataBits %d, want %d", c.DataBits, tc.bits)
			}
			if c.Version != tc.version {
				t.Errorf("version %d, want %d", c.Version, tc.version)
			}
			if len(c.Segments) != len(tc.segs) {
				t.Fatalf("segments %+v, want %+v", c.Segments, tc.segs)
			}
			for i, s := range c.Segments {
				if s.Mode != tc.segs[i].mode || s.Text != tc.segs[i].text {
					t.Errorf("segment %d: %v %q, want %v %q", i, s.Mode, s.Text, tc.segs[i].mode, tc.segs[i].text)
				}
			}
			if ref := bruteMinBits(tc.text, groupOf(c.Version)); ref != tc.bits {
				t.Errorf("reference optimiser says %d bits", ref)
			}
		})
	}
}

// TestSegmentationOptimalRandom compares the optimiser with the brute-force
// reference on random texts, in all three version groups.
func TestSegmentationOptimalRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pieces := []string{"0", "1", "9", "A", "Z", " ", "$", ":", "a", "z", "ç", "Ã", "—", "🍕", "-", ".", "x", "7"}
	minV := [numGroups]int{1, 10, 27}
	for iter := 0; iter < 3000; iter++ {
		var b strings.Builder
		n := 1 + rng.IntN(60)
		for b.Len() < n {
			p := pieces[rng.IntN(len(pieces))]
			for k := rng.IntN(12); k >= 0; k-- { // runs make switching worthwhile
				b.WriteString(p)
			}
		}
		text := b.String()
		g := rng.IntN(numGroups)
		c, err := Encode(text, L, Options{MinVersion: minV[g]})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		checkCode(t, c, text)
		if ref := bruteMinBits(text, g); c.DataBits != ref {
			t.Fatalf("%q group %d: %d bits, reference %d (segments %+v)", text, g, c.DataBits, ref, c.Segments)
		}
		for _, s := range c.Segments {
			for _, r := range s.Text {
				if (s.Mode == Numeric && (r < '0' || r > '9')) || (s.Mode == Alphanumeric && (r > 127 || alnumValue[r] == 0xFF)) {
					t.Fatalf("%q: %v segment carries %q", text, s.Mode, r)
				}
			}
			want := segCost(s.Mode, g, s.Chars)
			if s.Mode == ECI {
				want = 12
			}
			if s.Bits != want {
				t.Fatalf("%q: segment %+v has %d bits, want %d", text, s, s.Bits, want)
			}
		}
	}
}

// TestSmallestVersion checks that the version is the smallest one whose
// capacity holds the minimal bit count of its group.
func TestSmallestVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for iter := 0; iter < 100; iter++ {
		n := 1 + rng.IntN(1500)
		kind := rng.IntN(4)
		if len(kindTexts[kind]) < n {
			n = len(kindTexts[kind])
		}
		text := textOfKind(kind, n)
		l := Level(rng.IntN(4))
		var ref [numGroups]int
		for g := range ref {
			ref[g] = bruteMinBits(text, g)
		}
		c, err := Encode(text, l, Options{})
		if err == ErrTooLong {
			for v := 1; v <= 40; v++ {
				if ref[groupOf(v)] <= dataCodewords(v, l)*8 {
					t.Fatalf("%d chars kind %d %v: ErrTooLong but v%d fits", n, kind, l, v)
				}
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for v := 1; v <= c.Version; v++ {
			fits := ref[groupOf(v)] <= dataCodewords(v, l)*8
			if fits != (v == c.Version) {
				t.Fatalf("%d chars kind %d %v: chose v%d, but v%d fits=%v", n, kind, l, c.Version, v, fits)
			}
		}
	}
}

func TestEmptyText(t *testing.T) {
	c, err := Encode("", M, Options{})
	if err != nil || c.Version != 1 || len(c.Segments) != 0 || c.DataBits != 0 || c.Charset != "" {
		t.Fatalf("empty: %+v %v", c, err)
	}
}
