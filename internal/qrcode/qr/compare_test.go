package qr

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// comparisonTexts are diverse texts for the comparison with libqrencode and
// segno (no Kanji: neither this encoder nor the product uses Kanji mode,
// which segno picks for Shift_JIS-encodable text).
var comparisonTexts = []string{
	textURL,
	textPedido,
	textPromocao,
	textComanda,
	"0123456789",
	strings.Repeat("0123456789", 19) + "01234567",
	"HELLO WORLD",
	"PEDIDO 42 MESA 7",
	"abc123456789012def",
	"https://painel.example.com.br/e/2026/ABC123?x=1&utm_source=totem&utm_medium=qr",
	"HTTPS://PAINEL.EXAMPLE.COM.BR/T/9F8E7D6C5B4A",
	"Senha 1234 — retire no balcão",
	"Açaí com granola, café-com-leite e pão de queijo: R$ 23,50",
	"WIFI:T:WPA;S:Painel Loja 01;P:s3nh4-F0rte!;;",
	"BEGIN:VCARD\nVERSION:3.0\nFN:Painel Universal\nTEL:+55 11 91234-5678\nEND:VCARD",
	"00020126580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
	strings.Repeat("9", 1000) + "x",
	strings.Repeat("lorem ipsum dolor sit amet 2026 ", 30),
	"Mesa 12: 2x X-Burguer (sem cebola), 1x Suco de Laranja 500ml, 3x Pão de Queijo — total R$ 87,40",
	strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 30),
}

// segnoPython returns a Python interpreter that can import segno, or "".
func segnoPython() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import segno").Run() == nil {
			return path
		}
	}
	return ""
}

// qrencodeVersion runs `qrencode -l X -m 0 -t ASCII` and derives the
// version from the number of lines (one per module row).
func qrencodeVersion(text string, l Level) (int, error) {
	out, err := exec.Command("qrencode", "-l", l.String(), "-m", "0", "-t", "ASCII", "-o", "-", text).Output()
	if err != nil {
		return 0, err
	}
	size := strings.Count(strings.TrimRight(string(out), "\n"), "\n") + 1
	if (size-17)%4 != 0 {
		return 0, fmt.Errorf("qrencode printed %d lines", size)
	}
	return (size - 17) / 4, nil
}

func segnoVersion(py, text string, l Level) (int, error) {
	out, err := exec.Command(py, "-c",
		"import segno,sys; print(segno.make(sys.argv[1], error=sys.argv[2], boost_error=False, micro=False).version)",
		text, strings.ToLower(l.String())).Output()
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// TestVersionNotLargerThanOthers checks that our version is never larger
// than libqrencode's or segno's. Both write non-Latin-1 text as UTF-8
// without ECI, which the API requires us to announce with ECI 26 (12
// bits); for those texts our minimal bits for their version minus the ECI
// header must fit it.
func TestVersionNotLargerThanOthers(t *testing.T) {
	_, errQ := exec.LookPath("qrencode")
	py := segnoPython()
	if errQ != nil && py == "" {
		t.Skip("neither qrencode nor python3 segno installed")
	}
	t.Logf("%-44s %-3s %4s %8s %6s %5s", "text", "lvl", "ours", "qrencode", "segno", "bits")
	for _, text := range comparisonTexts {
		for _, l := range []Level{L, M, Q, H} {
			c, err := Encode(text, l, Options{})
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			theirs := 41
			qv, sv := "-", "-"
			if errQ == nil {
				v, err := qrencodeVersion(text, l)
				if err != nil {
					t.Fatalf("qrencode %q: %v", text, err)
				}
				theirs, qv = min(theirs, v), strconv.Itoa(v)
			}
			if py != "" {
				v, err := segnoVersion(py, text, l)
				if err != nil {
					t.Fatalf("segno %q: %v", text, err)
				}
				theirs, sv = min(theirs, v), strconv.Itoa(v)
			}
			label := fmt.Sprintf("%.40q", text)
			if l == M || c.Version > theirs {
				t.Logf("%-44s %-3v %4d %8s %6s %5d", label, l, c.Version, qv, sv, c.DataBits)
			}
			if c.Version <= theirs {
				continue
			}
			if c.Charset == "utf-8" && bruteMinBits(text, groupOf(theirs))-12 <= dataCodewords(theirs, l)*8 {
				t.Logf("  %v: v%d vs v%d only because of the 12-bit ECI header the others omit", l, c.Version, theirs)
				continue
			}
			t.Errorf("%s %v: version %d > %d (qrencode %s, segno %s)", label, l, c.Version, theirs, qv, sv)
		}
	}
}
