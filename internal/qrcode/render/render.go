// Package render turns QR code module grids into images and documents:
// raster (Image, PNG), vector (SVG, PDF, EPS), terminal text (Text) and
// print-ready label sheets (Sheet).
//
// Every renderer keeps the code scannable: the finder patterns (the three 7x7
// squares), their separators, the timing and alignment patterns and the
// format/version information are always drawn as solid squares, whatever the
// Style; only data modules are rounded (Redondo) or drawn as dots (Circulo).
// Which modules belong to a function pattern comes from Grid.Function, or is
// computed from Grid.Size when Function is nil.
//
// What the caller must validate (this package renders what it is given):
//
//   - Colours: decoders expect dark modules on a light background. A light
//     foreground on a dark background ("inverted") is NOT read by ZXing,
//     gozxing and many phone scanners; reject it (IsInverted reports it) or
//     swap the colours. Low contrast is also unreadable: require a Contrast of
//     at least 3 (better 4.5).
//   - Quiet zone: Options.Border defaults to 4 modules (the standard);
//     callers should refuse values below 2.
//   - Logos: a logo hides modules and relies on error correction. Use level H
//     (30 %) or at least Q with a logo; LogoRatio is limited to 0.25.
package render

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
)

// Grid is a QR code symbol as a square matrix of modules.
type Grid struct {
	// Size is the number of modules per side (21 for version 1, 4*v+17).
	Size int
	// Dark holds Size*Size values in row-major order; true is a dark module.
	Dark []bool
	// Function marks the modules (Size*Size, row-major) that belong to a
	// function pattern: finder patterns with their separators, timing,
	// alignment, format and version information. They are always drawn as
	// solid squares. May be nil: then the regions are computed from Size.
	Function []bool
}

// Style selects the shape of the data modules.
type Style int

const (
	// Quadrado draws plain squares.
	Quadrado Style = iota
	// Redondo draws data modules as rounded squares that merge with their
	// dark neighbours (only corners with no dark neighbour are rounded).
	Redondo
	// Circulo draws data modules as dots of 0.9 module diameter.
	Circulo
)

// String returns the Portuguese name accepted by ParseStyle.
func (s Style) String() string {
	switch s {
	case Quadrado:
		return "quadrado"
	case Redondo:
		return "redondo"
	case Circulo:
		return "circulo"
	}
	return fmt.Sprintf("Style(%d)", int(s))
}

// ParseStyle parses "quadrado", "redondo" or "circulo" (case-insensitive,
// "círculo" accepted too). The empty string gives Quadrado.
func ParseStyle(s string) (Style, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "quadrado":
		return Quadrado, nil
	case "redondo":
		return Redondo, nil
	case "circulo", "círculo":
		return Circulo, nil
	}
	return 0, fmt.Errorf("render: unknown style %q (want quadrado, redondo or circulo)", s)
}

// Options control rendering. The zero value renders black squares on white,
// 8 px per module, with a 4-module quiet zone.
type Options struct {
	// Scale is the number of pixels per module (default 8). Vector formats
	// use the same geometry at 96 dpi: one pixel is 0.75 pt.
	Scale int
	// Size, if > 0, is the target width in pixels of the whole image
	// including the quiet zone; it overrides Scale with the largest integer
	// scale that fits: max(1, Size/(Grid.Size+2*Border)). The result can be
	// smaller than Size; it is never blurred by a fractional scale.
	Size int
	// Border is the quiet zone in modules (default 4; 0 means default).
	// Callers should reject values below 2.
	Border int
	// Style is the shape of the data modules.
	Style Style
	// Foreground and Background are the module and background colours.
	// The zero value of each means the default: black on white.
	Foreground, Background color.RGBA
	// Logo, if non-nil, is drawn centred on a background-coloured pad; the
	// modules under the pad are not drawn. Use error-correction level H.
	Logo image.Image
	// LogoRatio is the logo width as a fraction of the symbol width
	// (without quiet zone): default 0.2, at most 0.25.
	LogoRatio float64
	// Caption is an optional line of text drawn centred under the code (in
	// an extra band below the quiet zone). Raster output uses the embedded
	// Go Regular font, which covers Portuguese accents. Text too long for
	// the width is shrunk and, past a minimum size, cut with an ellipsis.
	Caption string
}

// Errors returned by the renderers.
var (
	ErrInvalidGrid    = errors.New("render: invalid grid")
	ErrInvalidOptions = errors.New("render: invalid options")
	ErrTooLarge       = errors.New("render: image too large")
)

const (
	defaultScale     = 8
	defaultBorder    = 4
	defaultLogoRatio = 0.2
	maxLogoRatio     = 0.25
	// maxPixels bounds the side of a raster image (and the vector page at
	// 96 dpi), protecting against absurd Size/Scale values.
	maxPixels = 16384
	// pxToPt converts CSS pixels (1/96 in) to PostScript points (1/72 in).
	pxToPt = 0.75
)

var (
	black = color.RGBA{0, 0, 0, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// layout is the validated, defaulted form of Options for one Grid.
type layout struct {
	g      Grid
	fn     []bool // function-pattern mask, never nil
	scale  int    // pixels per module
	border int    // quiet zone in modules
	n      int    // modules per side including the quiet zone
	style  Style
	fg, bg color.RGBA
	logo   image.Image
	ratio  float64
	// pad is the cleared region under the logo, in symbol module
	// coordinates [x0,x1)x[y0,y1); empty when there is no logo.
	pad     image.Rectangle
	caption string
}

func (g Grid) validate() error {
	if g.Size <= 0 || g.Size > 1000 {
		return fmt.Errorf("%w: size %d", ErrInvalidGrid, g.Size)
	}
	if len(g.Dark) != g.Size*g.Size {
		return fmt.Errorf("%w: %d dark values for size %d", ErrInvalidGrid, len(g.Dark), g.Size)
	}
	if g.Function != nil && len(g.Function) != g.Size*g.Size {
		return fmt.Errorf("%w: %d function values for size %d", ErrInvalidGrid, len(g.Function), g.Size)
	}
	return nil
}

// dark reports whether the module at (x, y) is dark; outside the symbol it
// is light.
func (g Grid) dark(x, y int) bool {
	if x < 0 || y < 0 || x >= g.Size || y >= g.Size {
		return false
	}
	return g.Dark[y*g.Size+x]
}

func (o Options) layout(g Grid) (*layout, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	l := &layout{g: g, style: o.Style, logo: o.Logo, caption: strings.TrimSpace(o.Caption)}
	switch o.Style {
	case Quadrado, Redondo, Circulo:
	default:
		return nil, fmt.Errorf("%w: unknown style %d", ErrInvalidOptions, int(o.Style))
	}
	l.border = o.Border
	if l.border == 0 {
		l.border = defaultBorder
	}
	if l.border < 0 || l.border > 100 {
		return nil, fmt.Errorf("%w: border %d", ErrInvalidOptions, o.Border)
	}
	l.n = g.Size + 2*l.border
	switch {
	case o.Size < 0 || o.Scale < 0:
		return nil, fmt.Errorf("%w: negative size or scale", ErrInvalidOptions)
	case o.Size > 0:
		l.scale = max(1, o.Size/l.n)
	case o.Scale > 0:
		l.scale = o.Scale
	default:
		l.scale = defaultScale
	}
	if l.scale > maxPixels || l.n*l.scale > maxPixels {
		return nil, fmt.Errorf("%w: %d modules at %d px", ErrTooLarge, l.n, l.scale)
	}
	l.fg, l.bg = o.Foreground, o.Background
	if l.fg == (color.RGBA{}) {
		l.fg = black
	}
	if l.bg == (color.RGBA{}) {
		l.bg = white
	}
	l.fn = g.Function
	if l.fn == nil {
		l.fn = functionMask(g.Size)
	}
	if o.Logo != nil {
		l.ratio = o.LogoRatio
		if l.ratio == 0 {
			l.ratio = defaultLogoRatio
		}
		if !(l.ratio > 0 && l.ratio <= maxLogoRatio) { // also rejects NaN
			return nil, fmt.Errorf("%w: logo ratio %v (want 0 < r <= %v)", ErrInvalidOptions, o.LogoRatio, maxLogoRatio)
		}
		b := o.Logo.Bounds()
		if b.Empty() {
			return nil, fmt.Errorf("%w: empty logo", ErrInvalidOptions)
		}
		l.pad = logoPad(g.Size, l.ratio, b.Dx(), b.Dy())
	}
	return l, nil
}

// logoPad returns the module-aligned region cleared under a logo whose
// width is ratio*size modules: the logo box plus at least 0.3 module on each
// side, rounded up to a size with the parity of the symbol so that it is
// centred exactly.
func logoPad(size int, ratio float64, w, h int) image.Rectangle {
	lw := ratio * float64(size)
	lh := lw * float64(h) / float64(w)
	if lh > lw { // tall logo: the height is limited to the same box
		lw, lh = lw*lw/lh, lw
	}
	side := func(v float64) int {
		n := int(math.Ceil(v + 0.6))
		if (size-n)%2 != 0 {
			n++
		}
		return min(n, size)
	}
	pw, ph := side(lw), side(lh)
	x0, y0 := (size-pw)/2, (size-ph)/2
	return image.Rect(x0, y0, x0+pw, y0+ph)
}

// logoBox returns the logo rectangle in symbol module coordinates (floating
// point): the logo's aspect ratio fitted in ratio*size, centred.
func (l *layout) logoBox() (x, y, w, h float64) {
	b := l.logo.Bounds()
	s := float64(l.g.Size)
	w = l.ratio * s
	h = w * float64(b.Dy()) / float64(b.Dx())
	if h > w {
		w, h = w*w/h, w
	}
	return (s - w) / 2, (s - h) / 2, w, h
}

// overLogo returns the function-pattern modules inside the logo pad, split
// into dark and light. Every renderer draws them over the logo: from version
// 7 on an alignment pattern sits at the very centre, and zbar cannot read a
// symbol whose central alignment pattern is hidden (gozxing and ZXing can).
func (l *layout) overLogo() (dark, light []image.Point) {
	if l.logo == nil {
		return nil, nil
	}
	for y := l.pad.Min.Y; y < l.pad.Max.Y; y++ {
		for x := l.pad.Min.X; x < l.pad.Max.X; x++ {
			if !l.isFunction(x, y) {
				continue
			}
			if l.g.dark(x, y) {
				dark = append(dark, image.Pt(x, y))
			} else {
				light = append(light, image.Pt(x, y))
			}
		}
	}
	return dark, light
}

// visible reports whether symbol module (x, y) is drawn dark: dark and not
// under the logo pad.
func (l *layout) visible(x, y int) bool {
	if !l.g.dark(x, y) {
		return false
	}
	return !image.Pt(x, y).In(l.pad)
}

func (l *layout) isFunction(x, y int) bool {
	return l.fn[y*l.g.Size+x]
}

// functionMask computes the function-pattern modules of a QR code of the
// given size: finder patterns with separators for every size, and for
// standard sizes (21..177, 4v+17) the timing patterns, alignment patterns,
// format information, the dark module and version information.
func functionMask(size int) []bool {
	m := make([]bool, size*size)
	set := func(x, y int) {
		if x >= 0 && y >= 0 && x < size && y < size {
			m[y*size+x] = true
		}
	}
	rect := func(x0, y0, w, h int) {
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				set(x, y)
			}
		}
	}
	// Finders (7x7) plus their 1-module separators.
	rect(0, 0, 8, 8)
	rect(size-8, 0, 8, 8)
	rect(0, size-8, 8, 8)
	if size < 21 || size > 177 || (size-17)%4 != 0 {
		return m
	}
	version := (size - 17) / 4
	// Timing patterns.
	rect(8, 6, size-16, 1)
	rect(6, 8, 1, size-16)
	// Format information (row 8 / column 8 next to the finders) and the
	// dark module at (8, size-8).
	rect(0, 8, 9, 1)
	rect(8, 0, 1, 9)
	rect(size-8, 8, 8, 1)
	rect(8, size-8, 1, 8)
	// Alignment patterns.
	pos := alignmentPositions(version)
	for _, cy := range pos {
		for _, cx := range pos {
			if (cx == 6 && cy == 6) || (cx == 6 && cy == size-7) || (cx == size-7 && cy == 6) {
				continue // would overlap a finder
			}
			rect(cx-2, cy-2, 5, 5)
		}
	}
	// Version information (versions 7 and up): 6x3 blocks.
	if version >= 7 {
		rect(size-11, 0, 3, 6)
		rect(0, size-11, 6, 3)
	}
	return m
}

// alignmentPositions returns the row/column centres of the alignment
// patterns of a version (ISO/IEC 18004 Annex E).
func alignmentPositions(version int) []int {
	if version < 2 {
		return nil
	}
	num := version/7 + 2
	size := version*4 + 17
	step := 26
	if version != 32 {
		step = (version*4 + num*2 + 1) / (num*2 - 2) * 2
	}
	res := make([]int, num)
	res[0] = 6
	for i, pos := num-1, size-7; i >= 1; i, pos = i-1, pos-step {
		res[i] = pos
	}
	return res
}

// IsInverted reports whether fg is lighter than bg (light modules on a dark
// background). Most decoders, gozxing included, cannot read such codes:
// callers should reject or swap the colours.
func IsInverted(fg, bg color.RGBA) bool {
	return luminance(fg) > luminance(bg)
}

// Contrast returns the WCAG 2 contrast ratio between two colours, from 1
// (same luminance) to 21 (black on white). Alpha is ignored.
func Contrast(fg, bg color.RGBA) float64 {
	a, b := luminance(fg), luminance(bg)
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}

// luminance is the WCAG 2 relative luminance of the colour's RGB.
func luminance(c color.RGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// ParseHexColor parses "#rgb" or "#rrggbb" (the "#" is optional, case is
// ignored) into an opaque colour.
func ParseHexColor(s string) (color.RGBA, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	var v [6]byte
	switch len(h) {
	case 3:
		for i := range 3 {
			v[2*i], v[2*i+1] = h[i], h[i]
		}
	case 6:
		copy(v[:], h)
	default:
		return color.RGBA{}, fmt.Errorf("render: invalid colour %q (want #rgb or #rrggbb)", s)
	}
	var out [3]uint8
	for i := range 3 {
		hi, ok1 := hexVal(v[2*i])
		lo, ok2 := hexVal(v[2*i+1])
		if !ok1 || !ok2 {
			return color.RGBA{}, fmt.Errorf("render: invalid colour %q (want #rgb or #rrggbb)", s)
		}
		out[i] = hi<<4 | lo
	}
	return color.RGBA{out[0], out[1], out[2], 255}, nil
}

func hexVal(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hexColor formats the RGB of c as #rrggbb (alpha is handled separately).
func hexColor(c color.RGBA) string {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return fmt.Sprintf("#%02x%02x%02x", n.R, n.G, n.B)
}
