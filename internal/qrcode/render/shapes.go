package render

import (
	"math"
	"strconv"
)

// Shape geometry shared by the vector renderers and the raster tiles.
const (
	// dotRadius is the radius of a Circulo data module (diameter 0.9).
	dotRadius = 0.45
	// roundRadius is the corner radius of a Redondo data module; an
	// isolated module keeps 1-(4-pi)*0.4^2 = 86 % of its area.
	roundRadius = 0.4
	// kappa places cubic Bézier control points for a quarter circle.
	kappa = 0.5522847498
)

// corner flags of a rounded run.
const (
	cornerTL = 1 << iota
	cornerTR
	cornerBR
	cornerBL
)

// sink receives the dark shapes of a symbol, in module coordinates of the
// whole image (quiet zone included), y growing downwards. All shapes are
// traced clockwise (as seen with y down) so that one path filled with the
// nonzero rule gives their union without seams.
type sink interface {
	// run is a w x 1 rectangle at (x, y).
	run(x, y, w int)
	// dot is a circle of radius r centred at (cx, cy).
	dot(cx, cy, r float64)
	// rounded is a w x 1 rectangle at (x, y) whose flagged corners are
	// rounded with radius r.
	rounded(x, y, w int, corners int, r float64)
}

// visit emits the dark modules of the symbol to s: horizontal runs of
// squares for function patterns (and for every module in Quadrado), dots
// or rounded runs for data modules in the other styles.
func (l *layout) visit(s sink) {
	size, b := l.g.Size, l.border
	for y := range size {
		for x := 0; x < size; {
			if !l.visible(x, y) {
				x++
				continue
			}
			x0 := x
			if l.style == Quadrado || l.isFunction(x, y) {
				for x < size && l.visible(x, y) && (l.style == Quadrado || l.isFunction(x, y)) {
					x++
				}
				s.run(x0+b, y+b, x-x0)
				continue
			}
			if l.style == Circulo {
				s.dot(float64(x+b)+0.5, float64(y+b)+0.5, dotRadius)
				x++
				continue
			}
			for x < size && l.visible(x, y) && !l.isFunction(x, y) {
				x++
			}
			c := l.corners(x0, x-1, y)
			if c == 0 {
				s.run(x0+b, y+b, x-x0)
			} else {
				s.rounded(x0+b, y+b, x-x0, c, roundRadius)
			}
		}
	}
}

// corners returns the corners of the Redondo run [x0, x1] on row y that
// have no dark neighbour on either side: those are rounded.
func (l *layout) corners(x0, x1, y int) int {
	c := 0
	if !l.visible(x0-1, y) {
		if !l.visible(x0, y-1) {
			c |= cornerTL
		}
		if !l.visible(x0, y+1) {
			c |= cornerBL
		}
	}
	if !l.visible(x1+1, y) {
		if !l.visible(x1, y-1) {
			c |= cornerTR
		}
		if !l.visible(x1, y+1) {
			c |= cornerBR
		}
	}
	return c
}

// appendNum appends v rounded to 4 decimals in the shortest form ("3",
// "0.45", "-12.0625").
func appendNum(b []byte, v float64) []byte {
	r := math.Round(v * 1e4)
	if math.IsNaN(r) || math.Abs(r) > 1e17 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	i := int64(r)
	if i < 0 {
		b = append(b, '-')
		i = -i
	}
	b = strconv.AppendInt(b, i/10000, 10)
	frac := i % 10000
	if frac == 0 {
		return b
	}
	d := [5]byte{'.', byte('0' + frac/1000), byte('0' + frac/100%10), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 5
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

// appendNums appends the values separated by spaces, followed by op.
func appendNums(b []byte, op string, vs ...float64) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendNum(b, v)
	}
	return append(b, op...)
}

// bezierPath emits shapes as PostScript/PDF style path operators
// (moveto, lineto, curveto, closepath, rectangle). The operator names are
// configurable so the same code serves PDF and EPS.
type bezierPath struct {
	b                        []byte
	m, l, c, h, re, unitRect string
	useUnitRect              bool
	dotOp                    string // if set, "cx cy r dotOp" draws a circle
}

func (p *bezierPath) run(x, y, w int) {
	if p.useUnitRect {
		p.b = appendNums(p.b, p.unitRect, float64(x), float64(y), float64(w))
		return
	}
	p.b = appendNums(p.b, p.re, float64(x), float64(y), float64(w), 1)
}

func (p *bezierPath) dot(cx, cy, r float64) {
	if p.dotOp != "" {
		p.b = appendNums(p.b, p.dotOp, cx, cy, r)
		return
	}
	k := kappa * r
	p.b = appendNums(p.b, p.m, cx, cy-r)
	p.b = appendNums(p.b, p.c, cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	p.b = appendNums(p.b, p.c, cx+r, cy+k, cx+k, cy+r, cx, cy+r)
	p.b = appendNums(p.b, p.c, cx-k, cy+r, cx-r, cy+k, cx-r, cy)
	p.b = appendNums(p.b, p.c, cx-r, cy-k, cx-k, cy-r, cx, cy-r)
	p.b = append(p.b, p.h...)
}

func (p *bezierPath) rounded(xi, yi, wi int, corners int, r float64) {
	x, y, w := float64(xi), float64(yi), float64(wi)
	rad := func(flag int) float64 {
		if corners&flag != 0 {
			return r
		}
		return 0
	}
	tl, tr, br, bl := rad(cornerTL), rad(cornerTR), rad(cornerBR), rad(cornerBL)
	k := 1 - kappa
	p.b = appendNums(p.b, p.m, x+tl, y)
	p.b = appendNums(p.b, p.l, x+w-tr, y)
	if tr > 0 {
		p.b = appendNums(p.b, p.c, x+w-k*tr, y, x+w, y+k*tr, x+w, y+tr)
	}
	p.b = appendNums(p.b, p.l, x+w, y+1-br)
	if br > 0 {
		p.b = appendNums(p.b, p.c, x+w, y+1-k*br, x+w-k*br, y+1, x+w-br, y+1)
	}
	p.b = appendNums(p.b, p.l, x+bl, y+1)
	if bl > 0 {
		p.b = appendNums(p.b, p.c, x+k*bl, y+1, x, y+1-k*bl, x, y+1-bl)
	}
	p.b = appendNums(p.b, p.l, x, y+tl)
	if tl > 0 {
		p.b = appendNums(p.b, p.c, x, y+k*tl, x+k*tl, y, x+tl, y)
	}
	p.b = append(p.b, p.h...)
}
