package qr

import (
	"testing"
	"unicode/utf8"
)

// FuzzEncode: no panics; a successful encode uses the minimal number of bits
// and, for short texts, decodes back to the same text; ErrTooLong only when
// nothing fits.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{textURL, textPedido, textPromocao, textComanda, "", "0", "A", "a", "🍕", "AÇÃO 12", "\x00\x01\xff"} {
		f.Add(s, uint8(1), uint8(8), false)
	}
	f.Add("01234567", uint8(1), uint8(0), true)
	f.Fuzz(func(t *testing.T, text string, lvl, mask uint8, boost bool) {
		level := Level(lvl % 4)
		opts := Options{BoostLevel: boost}
		if m := int(mask % 9); m < 8 {
			opts.Mask, opts.FixedMask = m, true
		}
		c, err := Encode(text, level, opts)
		if !utf8.ValidString(text) {
			if err != ErrInvalidUTF8 {
				t.Fatalf("invalid UTF-8 %q: err %v", text, err)
			}
			return
		}
		short := utf8.RuneCountInString(text) <= 400
		if err == ErrTooLong {
			if short && bruteMinBits(text, 2) <= dataCodewords(40, level)*8 {
				t.Fatalf("%q: ErrTooLong but it fits v40", text)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		checkCode(t, c, text)
		if opts.FixedMask && c.Mask != opts.Mask {
			t.Fatalf("mask %d, want %d", c.Mask, opts.Mask)
		}
		if short {
			if ref := bruteMinBits(text, groupOf(c.Version)); c.DataBits != ref {
				t.Fatalf("%q: %d bits, minimum %d", text, c.DataBits, ref)
			}
			if c.Version > 1 && bruteMinBits(text, groupOf(c.Version-1)) <= dataCodewords(c.Version-1, c.Level)*8 && !boost {
				t.Fatalf("%q: v%d chosen but v%d fits", text, c.Version, c.Version-1)
			}
		}
		if text == "" || len(text) > 120 {
			return
		}
		charset := ""
		if c.Charset == "iso-8859-1" {
			charset = "ISO-8859-1" // byte mode default; spare gozxing its guess
		}
		got, err := decode(c, true, charset)
		if err != nil {
			t.Fatalf("%q v%d-%v mask %d: decode: %v", text, c.Version, c.Level, c.Mask, err)
		}
		if got != text {
			t.Fatalf("decode v%d-%v mask %d: got %q, want %q", c.Version, c.Level, c.Mask, got, text)
		}
	})
}
