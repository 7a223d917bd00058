package qrcode

import (
	"bytes"
	"testing"

	"github.com/painel-universal/painel/internal/qrcode/qr"
	"github.com/painel-universal/painel/internal/qrcode/render"
)

// BenchmarkEncodePNGURLv4 is the hot path of a plain code: encode a URL
// that needs version 4 at level M and write its PNG (8 px per module,
// border 4), as the API does.
func BenchmarkEncodePNGURLv4(b *testing.B) {
	const url = "https://painel.example.com.br/e/2026/ABC123?x=1&utm=qr"
	c, err := encode(url, qr.M)
	if err != nil || c.Version != 4 {
		b.Fatalf("version %d, %v: want a v4 payload", c.Version, err)
	}
	var buf bytes.Buffer
	opts := render.Options{Scale: 8, Border: 4}
	b.ReportAllocs()
	for b.Loop() {
		c, _ := encode(url, qr.M)
		buf.Reset()
		if err := render.PNG(&buf, gridOf(c), opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTicketPNG encodes and renders a signed check-in ticket.
func BenchmarkTicketPNG(b *testing.B) {
	keys := newKeys(b)
	f := NewService(nil, keys, nil)
	is, err := f.prepare(KindCheckin, &CheckinInput{EventoID: "e", Participante: Participante{Nome: "Ana", Documento: cpfValido}})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		c, _ := encode(is.content, qr.M)
		buf.Reset()
		_ = render.PNG(&buf, gridOf(c), render.Options{Scale: 8, Border: 4})
	}
}
