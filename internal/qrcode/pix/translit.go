package pix

import (
	"strings"
	"unicode/utf8"
)

// translit maps the non-ASCII letters and marks of Latin-1 and Latin
// Extended-A, plus some common punctuation, to ASCII.
var translit = func() map[rune]string {
	m := map[rune]string{
		// Latin-1 Supplement.
		'\u00a0': " ", 'ª': "a", 'º': "o",
		'Æ': "AE", 'Ð': "D", 'Ø': "O", 'Þ': "TH", 'ß': "ss",
		'æ': "ae", 'ð': "d", 'ø': "o", 'þ': "th",
		// Latin Extended-A, where the plain letter table below does not do.
		'Ĳ': "IJ", 'ĳ': "ij", 'ŉ': "'n", 'Œ': "OE", 'œ': "oe",
		// Punctuation that word processors and phones substitute.
		'‘': "'", '’': "'", '‚': "'", '“': `"`, '”': `"`, '„': `"`,
		'–': "-", '—': "-", '…': "...", '•': "-", '·': ".",
	}
	// Latin-1 letters with diacritics, U+00C0..U+00FF; '.' marks the
	// entries handled above or not letters (× and ÷).
	const latin1 = "AAAAAA.CEEEEIIII.NOOOOO.OUUUUY.." +
		"aaaaaa.ceeeeiiii.nooooo.ouuuuy.y"
	for i, c := range latin1 {
		if c != '.' {
			m[rune(0xc0+i)] = string(c)
		}
	}
	// Latin Extended-A, U+0100..U+017F.
	const extA = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi" +
		"..JjKkkLlLlLlLlLlNnNnNn.NnOoOoOo..RrRrRrSsSsSsSsTtTtTt" +
		"UuUuUuUuUuUuWwYyYZzZzZzs"
	for i, c := range extA {
		if c != '.' {
			m[rune(0x100+i)] = string(c)
		}
	}
	return m
}()

// toASCII transliterates s to printable ASCII: accented Latin letters
// lose their accents ("São Paulo" → "Sao Paulo"), combining marks (as in
// decomposed text) are dropped and a few typographic characters become
// their ASCII look-alikes. It returns the first character it cannot map,
// or ok.
func toASCII(s string) (out string, bad rune, ok bool) {
	simple := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			simple = false
			break
		}
	}
	if simple {
		return s, 0, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r >= 0x300 && r <= 0x36f: // combining diacritical marks
		case r == utf8.RuneError && isInvalid(s[i:]):
			return "", r, false
		default:
			t, found := translit[r]
			if !found {
				return "", r, false
			}
			b.WriteString(t)
		}
	}
	return b.String(), 0, true
}

// isInvalid reports whether s starts with an invalid UTF-8 sequence
// (rather than an encoded U+FFFD).
func isInvalid(s string) bool {
	_, size := utf8.DecodeRuneInString(s)
	return size <= 1
}
