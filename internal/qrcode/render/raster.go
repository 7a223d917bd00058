package render

import (
	"image"
	"image/color"
	"math"

	xdraw "golang.org/x/image/draw"
)

// Anti-aliased raster shapes are sampled 4x4 per pixel (coverage 0..16)
// and drawn with a ramp of 17 colours from background to foreground (an
// 8-bit palette, which image/png encodes twice as fast as a 4-bit one).
const (
	aaSub    = 4
	aaLevels = aaSub * aaSub
	rampLen  = 17
)

// Image renders the grid as a raster image. Without a logo it is an
// *image.Paletted (two colours for Quadrado without caption, otherwise a
// 17-colour ramp from background to foreground for anti-aliased edges); with a
// logo it is an *image.RGBA. The width is (Grid.Size+2*Border)*Scale; a
// caption adds a band below the quiet zone.
func Image(g Grid, o Options) (image.Image, error) {
	l, err := o.layout(g)
	if err != nil {
		return nil, err
	}
	return l.image()
}

func (l *layout) image() (image.Image, error) {
	w := l.n * l.scale
	var capt *rasterCaption
	h := w
	if l.caption != "" {
		capt = l.rasterCaption(w)
		h += capt.band
		if h > 2*maxPixels {
			return nil, ErrTooLarge
		}
	}
	ramp := l.style != Quadrado || capt != nil
	var pal color.Palette
	var level [aaLevels + 1]uint8 // coverage level -> palette index
	if ramp {
		pal = make(color.Palette, rampLen)
		for i := range pal {
			pal[i] = mix(l.bg, l.fg, i, rampLen-1)
		}
		for i := range level {
			level[i] = uint8((i*(rampLen-1) + aaLevels/2) / aaLevels)
		}
	} else {
		pal = color.Palette{l.bg, l.fg}
		for i := range level {
			if i >= aaLevels/2 {
				level[i] = 1
			}
		}
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	l.paint(img.Pix, img.Stride, level)
	if capt != nil {
		capt.draw(img, level)
	}
	if l.logo == nil {
		return img, nil
	}
	rgba := image.NewRGBA(img.Rect)
	for i, p := range img.Pix {
		c := pal[p].(color.RGBA)
		rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = c.R, c.G, c.B, c.A
	}
	l.drawLogo(rgba)
	return rgba, nil
}

// mix interpolates between a and b (premultiplied) at i/n.
func mix(a, b color.RGBA, i, n int) color.RGBA {
	f := func(x, y uint8) uint8 {
		return uint8((int(x)*(n-i) + int(y)*i + n/2) / n)
	}
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), f(a.A, b.A)}
}

// paint fills pix (palette indices, background 0) with the symbol.
func (l *layout) paint(pix []uint8, stride int, level [aaLevels + 1]uint8) {
	s := l.scale
	full := make([]uint8, s*s)
	for i := range full {
		full[i] = level[aaLevels]
	}
	// Shapes need a few pixels per module to be recognisable; below that
	// every module is a square, which is what a decoder sees anyway.
	style := l.style
	if s < 3 {
		style = Quadrado
	}
	var dot []uint8
	var round [16][]uint8
	switch style {
	case Circulo:
		dot = tile(s, level, func(u, v float64) bool {
			u, v = u-0.5, v-0.5
			return u*u+v*v <= dotRadius*dotRadius
		})
	case Redondo:
		round[0] = full
		for c := 1; c < 16; c++ {
			round[c] = tile(s, level, func(u, v float64) bool { return inRounded(u, v, c) })
		}
	}
	size, b := l.g.Size, l.border
	for y := range size {
		for x := range size {
			if !l.visible(x, y) {
				continue
			}
			t := full
			if style != Quadrado && !l.isFunction(x, y) {
				if style == Circulo {
					t = dot
				} else {
					t = round[l.corners(x, x, y)]
				}
			}
			off := (y+b)*s*stride + (x+b)*s
			for r := range s {
				copy(pix[off+r*stride:off+r*stride+s], t[r*s:r*s+s])
			}
		}
	}
}

// inRounded reports whether (u, v) in the unit square lies inside a square
// whose flagged corners are rounded with roundRadius.
func inRounded(u, v float64, corners int) bool {
	const r = roundRadius
	in := func(cx, cy float64) bool {
		dx, dy := u-cx, v-cy
		return dx*dx+dy*dy <= r*r
	}
	switch {
	case corners&cornerTL != 0 && u < r && v < r:
		return in(r, r)
	case corners&cornerTR != 0 && u > 1-r && v < r:
		return in(1-r, r)
	case corners&cornerBR != 0 && u > 1-r && v > 1-r:
		return in(1-r, 1-r)
	case corners&cornerBL != 0 && u < r && v > 1-r:
		return in(r, 1-r)
	}
	return true
}

// tile rasterises a module shape into s*s palette indices with 4x4
// supersampling per pixel.
func tile(s int, level [aaLevels + 1]uint8, inside func(u, v float64) bool) []uint8 {
	t := make([]uint8, s*s)
	fs := float64(s)
	for py := range s {
		for px := range s {
			n := 0
			for sy := range aaSub {
				v := (float64(py) + (float64(sy)+0.5)/aaSub) / fs
				for sx := range aaSub {
					u := (float64(px) + (float64(sx)+0.5)/aaSub) / fs
					if inside(u, v) {
						n++
					}
				}
			}
			t[py*s+px] = level[n]
		}
	}
	return t
}

// drawLogo composites the logo, scaled to its box, over the (already
// cleared) pad.
func (l *layout) drawLogo(dst *image.RGBA) {
	s := float64(l.scale)
	off := float64(l.border) * s
	x, y, w, h := l.logoBox()
	r := image.Rect(
		int(math.Round(off+x*s)), int(math.Round(off+y*s)),
		int(math.Round(off+(x+w)*s)), int(math.Round(off+(y+h)*s)),
	)
	if !r.Empty() {
		xdraw.CatmullRom.Scale(dst, r, l.logo, l.logo.Bounds(), xdraw.Over, nil)
	}
	dark, light := l.overLogo()
	for _, set := range []struct {
		pts []image.Point
		c   color.RGBA
	}{{dark, l.fg}, {light, l.bg}} {
		for _, p := range set.pts {
			x0, y0 := (l.border+p.X)*l.scale, (l.border+p.Y)*l.scale
			xdraw.Draw(dst, image.Rect(x0, y0, x0+l.scale, y0+l.scale), image.NewUniform(set.c), image.Point{}, xdraw.Src)
		}
	}
}

// flatLogo returns the logo composited over the background colour and
// scaled to fit maxSide pixels (never enlarged), for embedding in vector
// formats.
func (l *layout) flatLogo(maxSide int) *image.RGBA {
	b := l.logo.Bounds()
	w, h := b.Dx(), b.Dy()
	if m := max(w, h); m > maxSide {
		w = max(1, w*maxSide/m)
		h = max(1, h*maxSide/m)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	n := color.NRGBAModel.Convert(l.bg).(color.NRGBA)
	bg := color.RGBA{n.R, n.G, n.B, 255}
	xdraw.Draw(dst, dst.Rect, image.NewUniform(bg), image.Point{}, xdraw.Src)
	if w == b.Dx() && h == b.Dy() {
		xdraw.Draw(dst, dst.Rect, l.logo, b.Min, xdraw.Over)
	} else {
		xdraw.CatmullRom.Scale(dst, dst.Rect, l.logo, b, xdraw.Over, nil)
	}
	return dst
}
