package render

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
)

const (
	textShort  = "PIX-0001"
	textMedium = "https://painel.example/ingresso/7f3a9c2e-1b4d"
	textLong   = "https://painel.example/ingresso/7f3a9c2e-1b4d-4c8e-9a51-0d2b6e3f8a17?evento=festival-de-inverno&setor=pista&lote=3&nome=Jo%C3%A3o+A%C3%A7%C3%A3o"
	captionPT  = "Ingresso — João Ação"
)

type colourScheme struct {
	name     string
	fg, bg   color.RGBA
	inverted bool
}

var schemes = []colourScheme{
	{name: "black-white"},
	{name: "blue-yellow", fg: color.RGBA{0x1a, 0x23, 0x7e, 255}, bg: color.RGBA{0xff, 0xf5, 0x9d, 255}},
	{name: "white-on-dark", fg: color.RGBA{255, 255, 255, 255}, bg: color.RGBA{0x10, 0x20, 0x30, 255}, inverted: true},
}

var styles = []Style{Quadrado, Redondo, Circulo}

type variant struct {
	name    string
	level   string
	logo    float64 // ratio; 0 = no logo
	caption string
}

var variants = []variant{
	{name: "plain", level: "M"},
	{name: "logo20", level: "H", logo: 0.2},
	{name: "logo25", level: "H", logo: 0.25},
	{name: "caption", level: "Q", caption: captionPT},
}

// TestImageDecodes renders every Style x colour scheme x variant x text
// length and decodes the raster (image.Image, and the PNG bytes decoded
// back with image/png) with gozxing, with and without PURE_BARCODE.
func TestImageDecodes(t *testing.T) {
	logo := testLogo()
	for _, text := range []string{textShort, textMedium, textLong} {
		for _, st := range styles {
			for _, cs := range schemes {
				for _, v := range variants {
					name := fmt.Sprintf("%d/%s/%s/%s", len(text), st, cs.name, v.name)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						mark := len(text)%2 == 0 // alternate explicit and computed Function
						g := cachedGrid(t, text, v.level, mark)
						o := Options{Scale: 6, Style: st, Foreground: cs.fg, Background: cs.bg, Caption: v.caption}
						if v.logo > 0 {
							o.Logo, o.LogoRatio = logo, v.logo
						}
						var buf bytes.Buffer
						if err := PNG(&buf, g, o); err != nil {
							t.Fatal(err)
						}
						img, err := png.Decode(&buf)
						if err != nil {
							t.Fatal(err)
						}
						direct, err := Image(g, o)
						if err != nil {
							t.Fatal(err)
						}
						if direct.Bounds() != img.Bounds() {
							t.Fatalf("Image bounds %v, PNG bounds %v", direct.Bounds(), img.Bounds())
						}
						pure := v.caption == "" // a caption is not part of a "pure" barcode image
						if cs.inverted {
							// gozxing does not implement ALSO_INVERTED: an
							// inverted code is unreadable as is. Callers must
							// reject (IsInverted) or swap the colours.
							if got, err := decode(img, false); err == nil {
								t.Logf("note: gozxing read the inverted code: %q", got)
							}
							img = invert(img)
						}
						mustDecode(t, img, text, pure)
					})
				}
			}
		}
	}
}

// TestSmallScales checks tiny module sizes: squares from 1 px, shapes from
// 2 px per module.
func TestSmallScales(t *testing.T) {
	g := cachedGrid(t, textMedium, "M", false)
	for _, st := range styles {
		for scale := 1; scale <= 4; scale++ {
			if st != Quadrado && scale == 1 {
				continue
			}
			img, err := Image(g, Options{Scale: scale, Style: st})
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(img, false)
			if err != nil || got != textMedium {
				// gozxing's detector needs a few pixels per module without
				// PURE_BARCODE; the pure path must always work.
				got, err = decode(img, true)
			}
			if err != nil || got != textMedium {
				t.Errorf("%s scale %d: %q %v", st, scale, got, err)
			}
		}
	}
}

// TestFunctionPatternsSolid checks that, in every style, each dark module
// of a function pattern (finders, alignment, timing) is a solid square of
// foreground pixels, and that data modules are not (Circulo).
func TestFunctionPatternsSolid(t *testing.T) {
	for _, mark := range []bool{false, true} {
		g := cachedGrid(t, textLong, "H", mark)
		fn := g.Function
		if fn == nil {
			fn = functionMask(g.Size)
		}
		// Finder patterns (with separators) and alignment patterns.
		fa := make([]bool, g.Size*g.Size)
		for y := range g.Size {
			for x := range g.Size {
				fa[y*g.Size+x] = (x < 8 || x >= g.Size-8) && (y < 8 || y >= g.Size-8) && !(x >= 8 && y >= 8)
			}
		}
		pos := alignmentPositions((g.Size - 17) / 4)
		for _, cy := range pos {
			for _, cx := range pos {
				if fa[cy*g.Size+cx] {
					continue
				}
				for y := cy - 2; y <= cy+2; y++ {
					for x := cx - 2; x <= cx+2; x++ {
						fa[y*g.Size+x] = true
					}
				}
			}
		}
		for _, st := range styles {
			const s = 8
			img, err := Image(g, Options{Scale: s, Style: st})
			if err != nil {
				t.Fatal(err)
			}
			p := img.(*image.Paletted)
			fgIdx := uint8(len(p.Palette) - 1)
			solidData := 0
			for y := range g.Size {
				for x := range g.Size {
					if !g.Dark[y*g.Size+x] {
						continue
					}
					solid := true
					for py := range s {
						for px := range s {
							if p.ColorIndexAt((x+4)*s+px, (y+4)*s+py) != fgIdx {
								solid = false
							}
						}
					}
					if (fa[y*g.Size+x] || fn[y*g.Size+x]) && !solid {
						t.Fatalf("mark=%v %s: function module (%d,%d) not solid", mark, st, x, y)
					}
					if !fn[y*g.Size+x] && solid {
						solidData++
					}
				}
			}
			if st == Circulo && solidData > 0 {
				t.Errorf("circulo: %d data modules drawn as squares", solidData)
			}
		}
	}
}

// TestShapeArea checks the dark area of isolated data modules.
func TestShapeArea(t *testing.T) {
	var level [aaLevels + 1]uint8 // identity: exact coverage
	for i := range level {
		level[i] = uint8(i)
	}
	area := func(tl []uint8) float64 {
		sum := 0
		for _, v := range tl {
			sum += int(v)
		}
		return float64(sum) / float64(aaLevels*len(tl))
	}
	const s = 32
	round := area(tile(s, level, func(u, v float64) bool { return inRounded(u, v, 15) }))
	if round < 0.7 || round > 0.95 {
		t.Errorf("isolated redondo module area %.3f, want >= 0.7 and visibly rounded", round)
	}
	dot := area(tile(s, level, func(u, v float64) bool {
		u, v = u-0.5, v-0.5
		return u*u+v*v <= dotRadius*dotRadius
	}))
	if want := math.Pi * dotRadius * dotRadius; math.Abs(dot-want) > 0.01 {
		t.Errorf("dot area %.3f, want %.3f", dot, want)
	}
	t.Logf("isolated module area: redondo %.3f, circulo %.3f", round, dot)
}

func TestAlignmentPositions(t *testing.T) {
	want := map[int][]int{
		1:  nil,
		2:  {6, 18},
		7:  {6, 22, 38},
		14: {6, 26, 46, 66},
		32: {6, 34, 60, 86, 112, 138},
		36: {6, 24, 50, 76, 102, 128, 154},
		40: {6, 30, 58, 86, 114, 142, 170},
	}
	for v, w := range want {
		if got := alignmentPositions(v); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("version %d: %v, want %v", v, got, w)
		}
	}
}

// TestFunctionMaskCount checks that the computed mask has exactly the
// number of non-data modules of every version (ISO/IEC 18004 raw data
// module count).
func TestFunctionMaskCount(t *testing.T) {
	for v := 1; v <= 40; v++ {
		size := 4*v + 17
		raw := (16*v+128)*v + 64
		if v >= 2 {
			na := v/7 + 2
			raw -= (25*na-10)*na - 55
			if v >= 7 {
				raw -= 36
			}
		}
		n := 0
		for _, f := range functionMask(size) {
			if f {
				n++
			}
		}
		if n != size*size-raw {
			t.Errorf("version %d: %d function modules, want %d", v, n, size*size-raw)
		}
	}
	// A non-standard size still gets its finders.
	m := functionMask(30)
	if !m[0] || !m[29] || !m[29*30] || m[15*30+15] {
		t.Error("finder regions for size 30")
	}
}

func TestOptionsErrors(t *testing.T) {
	g := cachedGrid(t, textShort, "M", false)
	bad := []Options{
		{Scale: -1},
		{Size: -5},
		{Border: -1},
		{Style: Style(9)},
		{Logo: testLogo(), LogoRatio: 0.3},
		{Logo: testLogo(), LogoRatio: -0.1},
		{Logo: testLogo(), LogoRatio: math.NaN()},
		{Scale: 100000},
	}
	for i, o := range bad {
		if _, err := Image(g, o); err == nil {
			t.Errorf("options %d: no error", i)
		}
		if err := PNG(&bytes.Buffer{}, g, o); err == nil {
			t.Errorf("options %d: PNG no error", i)
		}
	}
	for _, bg := range []Grid{{}, {Size: 2, Dark: make([]bool, 3)}, {Size: 2, Dark: make([]bool, 4), Function: make([]bool, 1)}} {
		if _, err := Image(bg, Options{}); !errors.Is(err, ErrInvalidGrid) {
			t.Errorf("grid %+v: %v", bg, err)
		}
		if Text(bg, 4) != "" {
			t.Error("Text of invalid grid")
		}
	}
}

func TestOptionsSize(t *testing.T) {
	g := cachedGrid(t, textShort, "M", false) // 21 modules + 8 = 29
	for _, c := range []struct{ size, scale, border, want int }{
		{0, 0, 0, 29 * 8},
		{0, 3, 0, 29 * 3},
		{300, 3, 0, 29 * 10},
		{28, 0, 0, 29},
		{250, 0, 2, 25 * 10},
	} {
		img, err := Image(g, Options{Size: c.size, Scale: c.scale, Border: c.border})
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != c.want || b.Dy() != c.want {
			t.Errorf("%+v: %v", c, b)
		}
	}
	img, err := Image(g, Options{Caption: captionPT})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 29*8 || b.Dy() <= 29*8 {
		t.Errorf("caption bounds %v", b)
	}
}

func TestParseStyle(t *testing.T) {
	for s, want := range map[string]Style{"quadrado": Quadrado, "Redondo": Redondo, " circulo ": Circulo, "círculo": Circulo, "": Quadrado} {
		got, err := ParseStyle(s)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if _, err := ParseStyle("triangulo"); err == nil {
		t.Error("no error")
	}
	for _, st := range styles {
		if got, _ := ParseStyle(st.String()); got != st {
			t.Errorf("round trip %v", st)
		}
	}
}

func TestParseHexColor(t *testing.T) {
	for s, want := range map[string]color.RGBA{
		"#000":    {0, 0, 0, 255},
		"fff":     {255, 255, 255, 255},
		"#1A237e": {0x1a, 0x23, 0x7e, 255},
		"777777":  {0x77, 0x77, 0x77, 255},
		"#abc":    {0xaa, 0xbb, 0xcc, 255},
	} {
		got, err := ParseHexColor(s)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "#", "#12", "#1234", "#12345g", "#1234567", "red", "##123"} {
		if _, err := ParseHexColor(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestContrast(t *testing.T) {
	gray, _ := ParseHexColor("#777")
	for _, c := range []struct {
		a, b color.RGBA
		want float64
	}{
		{black, white, 21},
		{white, black, 21},
		{gray, white, 4.48},
		{white, white, 1},
		{color.RGBA{0x1a, 0x23, 0x7e, 255}, color.RGBA{0xff, 0xf5, 0x9d, 255}, 11.86},
	} {
		if got := Contrast(c.a, c.b); math.Abs(got-c.want) > 0.01*c.want {
			t.Errorf("Contrast(%v, %v) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
	if !IsInverted(white, black) || IsInverted(black, white) {
		t.Error("IsInverted")
	}
}

func TestDataURI(t *testing.T) {
	if got := DataURI("image/png", []byte("abc")); got != "data:image/png;base64,YWJj" {
		t.Error(got)
	}
	if got := DataURI("text/plain", nil); got != "data:text/plain;base64," {
		t.Error(got)
	}
}

// TestText counts lines and blocks, and decodes the half-block output
// painted as dark text on a light background.
func TestText(t *testing.T) {
	g := cachedGrid(t, textMedium, "M", false)
	dark := 0
	for _, d := range g.Dark {
		if d {
			dark++
		}
	}
	for _, border := range []int{0, 1, 2, 4, -3} {
		s := Text(g, border)
		b := max(border, 0)
		n := g.Size + 2*b
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		if !strings.HasSuffix(s, "\n") || len(lines) != (n+1)/2 {
			t.Fatalf("border %d: %d lines, want %d", border, len(lines), (n+1)/2)
		}
		count := 0
		img := image.NewGray(image.Rect(0, 0, n*4, len(lines)*8))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		for li, line := range lines {
			runes := []rune(line)
			if len(runes) != n {
				t.Fatalf("border %d line %d: %d runes, want %d", border, li, len(runes), n)
			}
			for x, r := range runes {
				var top, bottom bool
				switch r {
				case '█':
					top, bottom = true, true
					count += 2
				case '▀':
					top = true
					count++
				case '▄':
					bottom = true
					count++
				case ' ':
				default:
					t.Fatalf("unexpected rune %q", r)
				}
				for py := range 8 {
					if (py < 4 && top) || (py >= 4 && bottom) {
						for px := range 4 {
							img.Pix[(li*8+py)*img.Stride+x*4+px] = 0
						}
					}
				}
			}
		}
		if count != dark {
			t.Errorf("border %d: %d dark half blocks, want %d", border, count, dark)
		}
		if border >= 2 {
			mustDecode(t, img, textMedium, true)
		}
	}
}

func TestAppendNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 3: "3", -3: "-3", 0.45: "0.45", -0.9: "-0.9", 12.0625: "12.0625",
		13.74852: "13.7485", 1e-6: "0", -1e-6: "0", 0.5: "0.5", 595.2756: "595.2756", 100.00004: "100",
	} {
		if got := string(appendNum(nil, v)); got != want {
			t.Errorf("appendNum(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestConcurrent renders from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	g := cachedGrid(t, textMedium, "H", false)
	done := make(chan error)
	for i := range 8 {
		go func() {
			o := Options{Style: styles[i%3], Caption: captionPT}
			if i%2 == 0 {
				o = Options{Scale: 2 + i}
			}
			var err error
			for range 5 {
				var b bytes.Buffer
				if err = PNG(&b, g, o); err == nil {
					err = SVG(&b, g, o)
				}
				if err == nil {
					err = PDF(&b, g, o)
				}
				if err == nil {
					err = EPS(&b, g, o)
				}
				if err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestFitCaption(t *testing.T) {
	measure := goMeasure()
	fs, text := fitCaption("  Ingresso   —  João  ", measure, 10, 1000)
	if fs != 10 || text != "Ingresso — João" {
		t.Errorf("short: %v %q", fs, text)
	}
	long := strings.Repeat("Ação ", 40)
	fs, text = fitCaption(long, measure, 10, 200)
	if fs != 10*captionShrink || !strings.HasSuffix(text, "…") || measure(text)*fs > 200 {
		t.Errorf("long: %v %q (%.1f wide)", fs, text, measure(text)*fs)
	}
	fs, text = fitCaption("Ingresso — João Ação", measure, 10, measure("Ingresso — João Ação")*8)
	if math.Abs(fs-8) > 1e-9 || text != "Ingresso — João Ação" {
		t.Errorf("shrunk: %v %q", fs, text)
	}
}

// TestOddCaptions renders captions with characters outside Windows-1252
// and PostScript/XML specials in every format.
func TestOddCaptions(t *testing.T) {
	g := cachedGrid(t, textShort, "M", false)
	for _, c := range []string{"Café ☕ 日本 (x) \\ <b>", strings.Repeat("Ingresso — João Ação ", 10), "\t\n"} {
		o := Options{Caption: c}
		var b bytes.Buffer
		for name, f := range map[string]func() error{
			"png": func() error { return PNG(&b, g, o) },
			"svg": func() error { return SVG(&b, g, o) },
			"pdf": func() error { return PDF(&b, g, o) },
			"eps": func() error { return EPS(&b, g, o) },
		} {
			b.Reset()
			if err := f(); err != nil {
				t.Errorf("%s %q: %v", name, c, err)
			}
		}
	}
	b := appendPSString(nil, "a(b)c\\ ção — ☕")
	if want := `(a\(b\)c\\ \347\343o \227 ?)`; string(b) != want {
		t.Errorf("PostScript string %s, want %s", b, want)
	}
}
