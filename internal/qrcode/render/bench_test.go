package render

import (
	"bytes"
	"io"
	"testing"
)

// benchGrid is a version 4 code: 33x33 modules.
func benchGrid(b *testing.B) Grid {
	g := cachedGrid(b, "https://painel.example/ingresso/7f3a9c2e-1b4d-4c8e", "M", false)
	if g.Size != 33 {
		b.Fatalf("benchmark grid is %d modules, want 33", g.Size)
	}
	return g
}

// BenchmarkPNGFast: 33 modules + 2*4 border = 41 modules at 8 px = 328x328.
func BenchmarkPNGFast(b *testing.B) {
	g := benchGrid(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := PNG(&buf, g, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

// BenchmarkPNGImagePNG renders the same 328x328 image with Image and
// encodes it with image/png (BestSpeed), the path PNG takes for styled
// codes.
func BenchmarkPNGImagePNG(b *testing.B) {
	g := benchGrid(b)
	l, err := Options{}.layout(g)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := l.slowPNG(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

func BenchmarkPNGCirculo(b *testing.B) {
	g := benchGrid(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := PNG(io.Discard, g, Options{Style: Circulo}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSVG(b *testing.B) {
	g := benchGrid(b)
	for _, st := range styles {
		b.Run(st.String(), func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := SVG(&buf, g, Options{Style: st}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

func BenchmarkPDF(b *testing.B) {
	g := benchGrid(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := PDF(io.Discard, g, Options{Caption: captionPT}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSheet1000(b *testing.B) {
	labels := sheetLabels(b, 1000)
	for _, st := range styles {
		b.Run(st.String(), func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := Sheet(&buf, labels, SheetLayout{Style: st}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
