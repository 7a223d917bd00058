package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/go-pdf/fpdf"
)

// PDF writes the grid as a one-page vector PDF whose page is the image
// size at 96 dpi (a module is Scale*0.75 pt): a background rectangle, the
// dark modules as one filled path (rectangles, rounded rectangles or
// circles), the logo embedded as an image and the caption in Helvetica
// (cp1252, so Portuguese accents print correctly). Colour alpha is ignored.
func PDF(w io.Writer, g Grid, o Options) error {
	l, err := o.layout(g)
	if err != nil {
		return err
	}
	m := float64(l.scale) * pxToPt
	n := float64(l.n)
	heightMods := n
	nominal, baseline, band := l.captionMetrics()
	if l.caption != "" {
		heightMods += band
	}
	pw, ph := n*m, heightMods*m

	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: pw, Ht: ph}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("painel qrcode render", true)
	pdf.AddPage()

	var b []byte
	b = append(b, "q\n"...)
	b = appendRGB(b, l.bg, " rg\n")
	b = appendNums(b, " re f\n", 0, 0, pw, ph)
	b = appendSymbol(b, l, m, 0, ph)
	b = append(b, "Q\n"...)
	pdf.RawWriteBuf(bytes.NewReader(b))

	if l.logo != nil {
		var buf bytes.Buffer
		if err := pngEncoder.Encode(&buf, l.flatLogo(512)); err != nil {
			return err
		}
		opt := fpdf.ImageOptions{ImageType: "PNG"}
		pdf.RegisterImageOptionsReader("logo", opt, &buf)
		x, y, lw, lh := l.logoBox()
		off := float64(l.border)
		pdf.ImageOptions("logo", (off+x)*m, (off+y)*m, lw*m, lh*m, false, opt, 0, "")
		dark, light := l.overLogo()
		for _, set := range []struct {
			pts []image.Point
			c   color.RGBA
		}{{light, l.bg}, {dark, l.fg}} {
			pdf.SetFillColor(int(set.c.R), int(set.c.G), int(set.c.B))
			for _, p := range set.pts {
				pdf.Rect((off+float64(p.X))*m, (off+float64(p.Y))*m, m, m, "F")
			}
		}
	}
	if l.caption != "" {
		newCaptioner(pdf, l.fg).draw(l.caption, pw/2, (n+baseline)*m, nominal*m, captionWidth(l.n)*m)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("render: pdf: %w", err)
	}
	return pdf.Output(w)
}

// appendSymbol appends PDF content drawing the dark modules of l (quiet
// zone included in the coordinates) as one filled path, with module size m
// points and the image's top-left corner at (x, top) in PDF user space.
func appendSymbol(b []byte, l *layout, m, x, top float64) []byte {
	b = append(b, "q\n"...)
	b = appendRGB(b, l.fg, " rg\n")
	b = appendNums(b, " cm\n", m, 0, 0, -m, x, top)
	p := &bezierPath{b: b, m: " m\n", l: " l\n", c: " c\n", h: "h\n", re: " re\n"}
	l.visit(p)
	b = p.b
	return append(b, "f\nQ\n"...)
}

// appendRGB appends "r g b" (0..1, alpha ignored) and op.
func appendRGB(b []byte, c color.RGBA, op string) []byte {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return appendNums(b, op, float64(n.R)/255, float64(n.G)/255, float64(n.B)/255)
}
