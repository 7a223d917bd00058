package qr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Texts from the product.
const (
	textComanda  = "Comanda nº 12 — ação, coração, pão" // em dash: UTF-8 + ECI
	textPromocao = "Promoção: pão de queijo R$ 5,00"    // fits ISO-8859-1
	textPedido   = "PEDIDO 0012345678901234 mesa 12"
	textURL      = "https://painel.example.com.br/e/2026/ABC123?x=1"
)

func TestRoundTripProductTexts(t *testing.T) {
	cases := []struct {
		text    string
		charset string
	}{
		{textComanda, "utf-8"},
		{textPromocao, "iso-8859-1"},
		{textPedido, "iso-8859-1"},
		{textURL, "iso-8859-1"},
		{"0123456789", ""},
		{"PEDIDO 42 MESA 7", ""},
		{"Açaí com granola, café-com-leite e pão de queijo: R$ 23,50", "iso-8859-1"},
		{"Senha 1234 — retire no balcão ☕", "utf-8"},
		{"注文番号 12345", "utf-8"},
		{"emoji 🍕🍔 pedido 77", "utf-8"},
	}
	for _, tc := range cases {
		for l := L; l <= H; l++ {
			c := checkRoundTrip(t, tc.text, l, Options{})
			if c.Charset != tc.charset {
				t.Errorf("%q: charset %q, want %q", tc.text, c.Charset, tc.charset)
			}
			hasECI := len(c.Segments) > 0 && c.Segments[0].Mode == ECI
			if hasECI != (tc.charset == "utf-8") {
				t.Errorf("%q: ECI segment present = %v", tc.text, hasECI)
			}
			if hasECI && c.Segments[0].Chars != 26 {
				t.Errorf("%q: ECI %d, want 26", tc.text, c.Segments[0].Chars)
			}
		}
	}
}

// TestURLVersion pins the version of the product URL (used by the
// benchmark).
func TestURLVersion(t *testing.T) {
	c := checkRoundTrip(t, textURL, M, Options{})
	if c.Version != 4 {
		t.Errorf("URL at M: version %d, want 4", c.Version)
	}
}

func TestForcedMasks(t *testing.T) {
	for _, text := range []string{textURL, textComanda, textPedido, strings.Repeat("7", 300)} {
		for m := 0; m < 8; m++ {
			opts := Options{Mask: m, FixedMask: true}
			c := checkRoundTrip(t, text, Q, opts)
			if c.Mask != m {
				t.Errorf("forced mask %d, got %d", m, c.Mask)
			}
			if m > 0 {
				// Mask 1..7 is also forced without FixedMask.
				c2, err := Encode(text, Q, Options{Mask: m})
				if err != nil || c2.Mask != m {
					t.Errorf("Options{Mask:%d}: mask %d, err %v", m, c2.Mask, err)
				}
			}
		}
	}
	for _, bad := range []Options{{Mask: 8}, {Mask: -2}, {Mask: -1, FixedMask: true}, {Mask: 8, FixedMask: true}} {
		if _, err := Encode("x", M, bad); err == nil {
			t.Errorf("%+v: want error", bad)
		}
	}
}

// kindTexts holds, per kind, a long pseudo-random text; textOfKind takes
// prefixes of it so that longer texts extend shorter ones.
var kindTexts = func() (k [4][]rune) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	words := []string{"pão", "ação", "coração", "queijo", "mesa", "café", "açúcar", "Promoção", "R$", "5,00", "nº", "balcão"}
	parts := []string{"PEDIDO ", "mesa ", " obs: sem cebola; ", "ABC-123 ", "Senha ", "https://painel.example.com.br/e/"}
	var b [4]strings.Builder
	for b[0].Len() < 8000 {
		b[0].WriteByte(byte('0' + rng.IntN(10)))
		b[1].WriteByte(alnum[rng.IntN(len(alnum))])
	}
	for b[2].Len() < 9000 {
		b[2].WriteString(words[rng.IntN(len(words))])
		b[2].WriteByte(" ,.;"[rng.IntN(4)])
	}
	for b[3].Len() < 9000 {
		switch rng.IntN(3) {
		case 0:
			fmt.Fprintf(&b[3], "%0*d", 1+rng.IntN(20), rng.Int64N(1e18))
		case 1:
			b[3].WriteString(parts[rng.IntN(len(parts))])
		default:
			b[3].WriteString(strings.ToUpper(words[rng.IntN(len(words))]))
		}
	}
	for i := range k {
		k[i] = []rune(b[i].String())
	}
	return k
}()

// textOfKind returns the first n characters of a text that is numeric
// (kind 0), alphanumeric (1), ISO-8859-1 Portuguese words (2) or mixed (3).
func textOfKind(kind, n int) string { return string(kindTexts[kind][:n]) }

// longestFitting returns the longest text of the given kind that fits
// version v at level l (texts of growing length, found by bisection).
func longestFitting(t *testing.T, kind int, v int, l Level) string {
	lo, hi := 0, 7500 // lo fits, hi does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, err := Encode(textOfKind(kind, mid), l, Options{MaxVersion: v}); err == nil {
			lo = mid
		} else if err != ErrTooLong {
			t.Fatal(err)
		} else {
			hi = mid
		}
	}
	return textOfKind(kind, lo)
}

// TestAllVersionsAndLevels fills every version 1..40 at every level with
// the longest text that fits, rotating over the kinds of text, and checks
// the version chosen and the round trip; one more character must need the
// next version.
func TestAllVersionsAndLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for l := L; l <= H; l++ {
		for v := 1; v <= 40; v++ {
			kind := (v + int(l)) % 4
			t.Run(fmt.Sprintf("%v/v%d/kind%d", l, v, kind), func(t *testing.T) {
				text := longestFitting(t, kind, v, l)
				c := roundTrip(t, text, l, Options{}, true)
				if c.Version != v {
					t.Fatalf("longest text for v%d encoded as v%d", v, c.Version)
				}
				longer := textOfKind(kind, len([]rune(text))+1)
				c2, err := Encode(longer, l, Options{})
				switch {
				case v == 40 && err != ErrTooLong:
					t.Errorf("one more character at v40: err %v", err)
				case v < 40 && (err != nil || c2.Version != v+1):
					t.Errorf("one more character: %v, want v%d", err, v+1)
				}
			})
		}
	}
}

func TestNumericAndAlnumOnly(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 17, 41, 100, 500, 1000} {
		digits := textOfKind(0, n)
		c := checkRoundTrip(t, digits, L, Options{})
		if len(c.Segments) != 1 || c.Segments[0].Mode != Numeric || c.Charset != "" {
			t.Errorf("%d digits: %+v charset %q", n, c.Segments, c.Charset)
		}
		alnum := "A" + textOfKind(1, n)
		c = checkRoundTrip(t, alnum, L, Options{})
		for _, s := range c.Segments {
			if s.Mode == Byte {
				t.Errorf("alnum text %q used a byte segment", alnum)
			}
		}
	}
}

func TestVersionBounds(t *testing.T) {
	c := checkRoundTrip(t, "x", M, Options{MinVersion: 12})
	if c.Version != 12 {
		t.Errorf("MinVersion 12: got v%d", c.Version)
	}
	if _, err := Encode(textURL, H, Options{MaxVersion: 3}); err != ErrTooLong {
		t.Errorf("MaxVersion 3: err %v, want ErrTooLong", err)
	}
	if _, err := Encode(strings.Repeat("9", 7090), L, Options{}); err != ErrTooLong {
		t.Errorf("7090 digits: err %v", err)
	}
	c = checkRoundTrip(t, strings.Repeat("9", 7089), L, Options{})
	if c.Version != 40 {
		t.Errorf("7089 digits: v%d", c.Version)
	}
	for _, bad := range []Options{{MinVersion: 41}, {MaxVersion: -1}, {MinVersion: 5, MaxVersion: 4}} {
		if _, err := Encode("x", M, bad); err == nil || err == ErrTooLong {
			t.Errorf("%+v: err %v", bad, err)
		}
	}
	if _, err := Encode("x", Level(4), Options{}); err == nil {
		t.Error("level 4 accepted")
	}
	if _, err := Encode("a\xffb", M, Options{}); err != ErrInvalidUTF8 {
		t.Errorf("invalid UTF-8: err %v", err)
	}
}

func TestBoostLevel(t *testing.T) {
	c, err := Encode("HELLO", L, Options{BoostLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || c.Level != H {
		t.Errorf("HELLO boosted: v%d-%v, want v1-H", c.Version, c.Level)
	}
	c = checkRoundTrip(t, textURL, L, Options{BoostLevel: true})
	plain, _ := Encode(textURL, L, Options{})
	if c.Version != plain.Version || c.Level < L || c.DataBits > c.CapacityBits {
		t.Errorf("URL boosted: v%d-%v", c.Version, c.Level)
	}
}

func TestLevelAndModeStrings(t *testing.T) {
	for l := L; l <= H; l++ {
		p, err := ParseLevel(strings.ToLower(l.String()))
		if err != nil || p != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), p, err)
		}
	}
	if _, err := ParseLevel("X"); err == nil {
		t.Error("ParseLevel(X) accepted")
	}
	want := map[Mode]string{Numeric: "numerico", Alphanumeric: "alfanumerico", Byte: "byte", ECI: "eci"}
	for m, s := range want {
		if m.String() != s {
			t.Errorf("%d.String() = %q", int(m), m.String())
		}
	}
	c, _ := Encode("x", M, Options{})
	if c.Dark(-1, 0) || c.Dark(0, c.Size) || !c.Dark(0, 0) {
		t.Error("Dark bounds")
	}
}

// TestUpperCaseLatin1 shows the charset trap of byte mode without ECI:
// gozxing guesses Shift_JIS for "AÇÃO" (Ç and Ã are katakana codes there),
// while the standard says ISO-8859-1. With the CHARACTER_SET hint, or with
// Options.UTF8 (ECI 26), it reads the text back exactly.
func TestUpperCaseLatin1(t *testing.T) {
	for _, text := range []string{"AÇÃO", "PROMOÇÃO: PÃO DE QUEIJO R$ 5,00", "MAÇÃ E AÇÚCAR"} {
		c := roundTrip(t, text, M, Options{}, true)
		if c.Charset != "iso-8859-1" {
			t.Errorf("%q: charset %q", text, c.Charset)
		}
		if got, err := decode(c, true, ""); err == nil && got == text {
			t.Logf("%q: gozxing guessed ISO-8859-1 correctly this time", text)
		}
		u := checkRoundTrip(t, text, M, Options{UTF8: true})
		if u.Charset != "utf-8" || u.Segments[0].Mode != ECI {
			t.Errorf("%q with UTF8: charset %q segments %+v", text, u.Charset, u.Segments)
		}
	}
	c, err := Encode("ASCII ONLY 123", M, Options{UTF8: true})
	if err != nil || c.Charset != "" || c.Segments[0].Mode == ECI {
		t.Errorf("ASCII text with UTF8: %+v %v", c, err)
	}
}

// TestConcurrentEncode exercises the shared scratch pool and the lazily
// built version templates from many goroutines (run with -race).
func TestConcurrentEncode(t *testing.T) {
	want := make(map[string]*Code)
	texts := []string{textURL, textPedido, textComanda, textPromocao, strings.Repeat("5", 900)}
	for _, s := range texts {
		c, err := Encode(s, Q, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want[s] = c
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 50; i++ {
				s := texts[(g+i)%len(texts)]
				c, err := Encode(s, Q, Options{})
				if err == nil && (c.Version != want[s].Version || c.Mask != want[s].Mask || fmt.Sprint(c.Modules) != fmt.Sprint(want[s].Modules)) {
					err = fmt.Errorf("%q: different symbol", s)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
