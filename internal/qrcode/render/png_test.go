package render

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// TestPNGFastPath decodes the fast-path PNG with image/png and compares
// every pixel with the grid, checks that it is a 1-bit palette PNG, that
// Image gives the same pixels, and that gozxing reads it.
func TestPNGFastPath(t *testing.T) {
	g := cachedGrid(t, textMedium, "M", false)
	translucent := color.RGBA{128, 128, 128, 128} // white at 50 % (premultiplied)
	for _, c := range []struct {
		scale, border int
		fg, bg        color.RGBA
	}{
		{8, 0, color.RGBA{}, color.RGBA{}},
		{1, 4, color.RGBA{}, color.RGBA{}},
		{3, 2, color.RGBA{0x1a, 0x23, 0x7e, 255}, color.RGBA{0xff, 0xf5, 0x9d, 255}},
		{5, 5, black, translucent},
		{7, 3, black, white},
		{13, 4, black, white},
	} {
		o := Options{Scale: c.scale, Border: c.border, Foreground: c.fg, Background: c.bg}
		var buf bytes.Buffer
		if err := PNG(&buf, g, o); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		if string(data[:8]) != "\x89PNG\r\n\x1a\n" || string(data[12:16]) != "IHDR" {
			t.Fatal("not a PNG")
		}
		if depth, ct := data[24], data[25]; depth != 1 || ct != 3 {
			t.Fatalf("bit depth %d colour type %d, want 1-bit palette", depth, ct)
		}
		border := c.border
		if border == 0 {
			border = 4
		}
		n := g.Size + 2*border
		if w := binary.BigEndian.Uint32(data[16:]); int(w) != n*c.scale {
			t.Fatalf("width %d, want %d", w, n*c.scale)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		direct, err := Image(g, o)
		if err != nil {
			t.Fatal(err)
		}
		fg, bg := c.fg, c.bg
		if fg == (color.RGBA{}) {
			fg = black
		}
		if bg == (color.RGBA{}) {
			bg = white
		}
		wantFg, wantBg := color.NRGBAModel.Convert(fg), color.NRGBAModel.Convert(bg)
		if img.Bounds() != image.Rect(0, 0, n*c.scale, n*c.scale) || direct.Bounds() != img.Bounds() {
			t.Fatalf("bounds %v / %v", img.Bounds(), direct.Bounds())
		}
		for py := range n * c.scale {
			for px := range n * c.scale {
				mx, my := px/c.scale-border, py/c.scale-border
				want := wantBg
				if g.dark(mx, my) {
					want = wantFg
				}
				if got := color.NRGBAModel.Convert(img.At(px, py)); got != want {
					t.Fatalf("%+v: pixel (%d,%d) = %v, want %v", c, px, py, got, want)
				}
				if got := color.NRGBAModel.Convert(direct.At(px, py)); got != want {
					t.Fatalf("%+v: Image pixel (%d,%d) = %v, want %v", c, px, py, got, want)
				}
			}
		}
		if c.bg.A == 255 || c.bg == (color.RGBA{}) {
			mustDecode(t, img, textMedium, true)
		}
	}
}

// TestPNGSlowPath checks the image/png path: styled codes are 8-bit
// palette PNGs, logos RGBA, and all decode.
func TestPNGSlowPath(t *testing.T) {
	g := cachedGrid(t, textMedium, "H", false)
	for _, c := range []struct {
		o         Options
		colorType byte
	}{
		{Options{Style: Circulo}, 3},
		{Options{Style: Redondo, Caption: captionPT}, 3},
		{Options{Caption: captionPT}, 3},
		{Options{Logo: testLogo()}, 2}, // opaque RGBA is written as RGB
	} {
		var buf bytes.Buffer
		if err := PNG(&buf, g, c.o); err != nil {
			t.Fatal(err)
		}
		if ct := buf.Bytes()[25]; ct != c.colorType {
			t.Errorf("%+v: colour type %d, want %d", c.o.Style, ct, c.colorType)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		mustDecode(t, img, textMedium, c.o.Caption == "")
	}
}
