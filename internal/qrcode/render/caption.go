package render

import (
	"image"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Caption geometry, in modules, shared by every output: the caption sits in
// a band under the quiet zone, centred, at most captionWidth(n) wide.
const (
	captionMinFS    = 1.5   // nominal font size floor, modules
	captionFSPerMod = 0.055 // nominal font size per module of image width
	captionBaseline = 1.0   // baseline below the quiet zone, in font sizes
	captionBand     = 1.5   // band height, in font sizes
	captionShrink   = 0.55  // smallest size before cutting, fraction of nominal
	ellipsis        = "…"
)

// captionFS is the nominal caption font size, in modules, for an image n
// modules wide.
func captionFS(n int) float64 {
	return max(captionMinFS, captionFSPerMod*float64(n))
}

// captionMetrics returns, in modules, the nominal caption font size, the
// baseline below the quiet zone and the height of the caption band, both
// rounded to whole pixels so that every output has the same geometry.
func (l *layout) captionMetrics() (nominal, baseline, band float64) {
	s := float64(l.scale)
	nominal = max(captionFS(l.n), 10/s)
	baseline = math.Round(nominal*captionBaseline*s) / s
	band = math.Ceil(nominal*captionBand*s) / s
	return nominal, baseline, band
}

// captionWidth is the width available to the caption, in modules.
func captionWidth(n int) float64 {
	return max(float64(n)-2, 0.9*float64(n))
}

var goRegular = sync.OnceValues(func() (*opentype.Font, error) {
	return opentype.Parse(goregular.TTF)
})

// measureFunc returns the width of s at font size 1.
type measureFunc func(s string) float64

// goMeasure returns a measureFunc for Go Regular (not safe for concurrent
// use: create one per call).
func goMeasure() measureFunc {
	f, err := goRegular()
	if err != nil {
		return func(s string) float64 { return 0.6 * float64(utf8.RuneCountInString(s)) }
	}
	const size = 256
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return func(s string) float64 { return 0.6 * float64(utf8.RuneCountInString(s)) }
	}
	return func(s string) float64 {
		return float64(font.MeasureString(face, s)) / 64 / size
	}
}

// fitCaption returns the font size (at most nominal) and text that fit in
// width: the text is shrunk down to captionShrink*nominal, then cut and
// ended with an ellipsis.
func fitCaption(text string, measure measureFunc, nominal, width float64) (float64, string) {
	text = strings.Join(strings.Fields(text), " ")
	w := measure(text) * nominal
	if w <= width {
		return nominal, text
	}
	fs := nominal * width / w
	if fs >= nominal*captionShrink {
		return fs, text
	}
	fs = nominal * captionShrink
	runes := []rune(text)
	// Binary search the longest prefix that fits with the ellipsis.
	lo, hi := 0, len(runes)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if measure(strings.TrimSpace(string(runes[:mid]))+ellipsis)*fs <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return fs, strings.TrimSpace(string(runes[:lo])) + ellipsis
}

// rasterCaption is a caption laid out in pixels.
type rasterCaption struct {
	band     int // height of the band added under the quiet zone
	top      int // y of the band
	width    int // image width
	size     float64
	baseline int // relative to top
	text     string
}

func (l *layout) rasterCaption(w int) *rasterCaption {
	s := float64(l.scale)
	nominal, baseline, band := l.captionMetrics()
	fs, text := fitCaption(l.caption, goMeasure(), nominal*s, captionWidth(l.n)*s)
	return &rasterCaption{
		band:     int(math.Round(band * s)),
		top:      w,
		width:    w,
		size:     fs,
		baseline: int(math.Round(baseline * s)),
		text:     text,
	}
}

// draw renders the caption into the band of img, mapping coverage through
// level (0..aaLevels) to the background-to-foreground ramp.
func (c *rasterCaption) draw(img *image.Paletted, level [aaLevels + 1]uint8) {
	f, err := goRegular()
	if err != nil {
		return
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: c.size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return
	}
	defer face.Close()
	mask := image.NewAlpha(image.Rect(0, 0, c.width, c.band))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face}
	tw := d.MeasureString(c.text)
	d.Dot = fixed.Point26_6{X: (fixed.I(c.width) - tw) / 2, Y: fixed.I(c.baseline)}
	d.DrawString(c.text)
	for y := range c.band {
		row := img.Pix[(c.top+y)*img.Stride:]
		for x, a := range mask.Pix[y*mask.Stride : y*mask.Stride+c.width] {
			if a != 0 {
				row[x] = level[(int(a)*aaLevels+127)/255]
			}
		}
	}
}
