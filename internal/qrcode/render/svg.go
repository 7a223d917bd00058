package render

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image"
	"image/color"
	"io"
	"strconv"
)

// SVG writes the grid as an SVG document whose viewBox is in modules (one
// unit per module, quiet zone included) and whose width and height are the
// raster size in pixels. It holds a background <rect>, every dark module
// in ONE <path> (horizontal runs merged into rectangles, so there are no
// hairline gaps; shape-rendering="crispEdges" for Quadrado; arcs for
// Redondo and Circulo), the logo, if any, as an embedded PNG data URI
// <image>, and the caption, if any, as a <text>.
func SVG(w io.Writer, g Grid, o Options) error {
	l, err := o.layout(g)
	if err != nil {
		return err
	}
	n := float64(l.n)
	height := n
	var fs, baseline float64
	var text string
	if l.caption != "" {
		nominal, base, band := l.captionMetrics()
		fs, text = fitCaption(l.caption, goMeasure(), nominal, captionWidth(l.n))
		baseline = n + base
		height = n + band
	}
	px := float64(l.scale)

	b := make([]byte, 0, 256+l.g.Size*l.g.Size*4)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" width="`...)
	b = appendNum(b, n*px)
	b = append(b, `" height="`...)
	b = appendNum(b, height*px)
	b = append(b, `" viewBox="0 0 `...)
	b = appendNum(b, n)
	b = append(b, ' ')
	b = appendNum(b, height)
	b = append(b, "\">\n<rect width=\""...)
	b = appendNum(b, n)
	b = append(b, `" height="`...)
	b = appendNum(b, height)
	b = append(b, '"')
	b = appendFill(b, "fill", l.bg)
	// stroke="none" is the SVG default, but ImageMagick's renderer needs it.
	b = append(b, " stroke=\"none\"/>\n<path"...)
	b = appendFill(b, "fill", l.fg)
	b = append(b, ` stroke="none"`...)
	if l.style == Quadrado {
		b = append(b, ` shape-rendering="crispEdges"`...)
	}
	b = append(b, ` d="`...)
	p := &svgPath{b: b}
	l.visit(p)
	b = append(p.b, "\"/>\n"...)

	if l.logo != nil {
		var buf bytes.Buffer
		if err := pngEncoder.Encode(&buf, l.flatLogo(512)); err != nil {
			return err
		}
		x, y, lw, lh := l.logoBox()
		off := float64(l.border)
		b = append(b, `<image x="`...)
		b = appendNum(b, off+x)
		b = append(b, `" y="`...)
		b = appendNum(b, off+y)
		b = append(b, `" width="`...)
		b = appendNum(b, lw)
		b = append(b, `" height="`...)
		b = appendNum(b, lh)
		b = append(b, `" preserveAspectRatio="xMidYMid meet" xlink:href="`...)
		b = append(b, "data:image/png;base64,"...)
		b = base64.StdEncoding.AppendEncode(b, buf.Bytes())
		b = append(b, "\"/>\n"...)
		dark, light := l.overLogo()
		for _, set := range []struct {
			pts []image.Point
			c   color.RGBA
		}{{light, l.bg}, {dark, l.fg}} {
			if len(set.pts) == 0 {
				continue
			}
			b = append(b, `<path`...)
			b = appendFill(b, "fill", set.c)
			b = append(b, ` stroke="none" shape-rendering="crispEdges" d="`...)
			for _, p := range set.pts {
				b = append(b, 'M')
				b = appendNum(b, off+float64(p.X))
				b = append(b, ' ')
				b = appendNum(b, off+float64(p.Y))
				b = append(b, "h1v1h-1z"...)
			}
			b = append(b, "\"/>\n"...)
		}
	}
	if text != "" {
		b = append(b, `<text x="`...)
		b = appendNum(b, n/2)
		b = append(b, `" y="`...)
		b = appendNum(b, baseline)
		b = append(b, `" font-family="'Go', 'DejaVu Sans', Arial, Helvetica, sans-serif" font-size="`...)
		b = appendNum(b, fs)
		b = append(b, `" text-anchor="middle" stroke="none"`...)
		b = appendFill(b, "fill", l.fg)
		b = append(b, '>')
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, []byte(text))
		b = append(b, esc.Bytes()...)
		b = append(b, "</text>\n"...)
	}
	b = append(b, "</svg>\n"...)
	_, err = w.Write(b)
	return err
}

// appendFill appends ` attr="#rrggbb"` and, for a translucent colour,
// ` attr-opacity="a"`.
func appendFill(b []byte, attr string, c color.RGBA) []byte {
	b = append(b, ' ')
	b = append(b, attr...)
	b = append(b, `="`...)
	b = append(b, hexColor(c)...)
	b = append(b, '"')
	if c.A != 255 {
		b = append(b, ' ')
		b = append(b, attr...)
		b = append(b, `-opacity="`...)
		b = strconv.AppendFloat(b, float64(c.A)/255, 'f', 3, 64)
		b = append(b, '"')
	}
	return b
}

// svgPath writes shapes as SVG path data (relative commands after each
// absolute move).
type svgPath struct{ b []byte }

func (p *svgPath) run(x, y, w int) {
	p.b = append(p.b, 'M')
	p.b = strconv.AppendInt(p.b, int64(x), 10)
	p.b = append(p.b, ' ')
	p.b = strconv.AppendInt(p.b, int64(y), 10)
	p.b = append(p.b, 'h')
	p.b = strconv.AppendInt(p.b, int64(w), 10)
	p.b = append(p.b, "v1h-"...)
	p.b = strconv.AppendInt(p.b, int64(w), 10)
	p.b = append(p.b, 'z')
}

func (p *svgPath) dot(cx, cy, r float64) {
	p.b = append(p.b, 'M')
	p.b = appendNums(p.b, "a", cx-r, cy)
	p.b = appendArc(p.b, r, true, 2*r, 0)
	p.b = append(p.b, 'a')
	p.b = appendArc(p.b, r, true, -2*r, 0)
	p.b = append(p.b, 'z')
}

// appendArc appends "r r 0 large 1 dx dy" (a clockwise arc).
func appendArc(b []byte, r float64, large bool, dx, dy float64) []byte {
	b = appendNum(b, r)
	b = append(b, ' ')
	b = appendNum(b, r)
	if large {
		b = append(b, " 0 1 1 "...)
	} else {
		b = append(b, " 0 0 1 "...)
	}
	b = appendNum(b, dx)
	b = append(b, ' ')
	return appendNum(b, dy)
}

func (p *svgPath) rounded(xi, yi, wi int, corners int, r float64) {
	rad := func(flag int) float64 {
		if corners&flag != 0 {
			return r
		}
		return 0
	}
	tl, tr, br, bl := rad(cornerTL), rad(cornerTR), rad(cornerBR), rad(cornerBL)
	w := float64(wi)
	p.b = append(p.b, 'M')
	p.b = appendNums(p.b, "h", float64(xi)+tl, float64(yi))
	p.b = appendNum(p.b, w-tl-tr)
	if tr > 0 {
		p.b = append(p.b, 'a')
		p.b = appendArc(p.b, tr, false, tr, tr)
	}
	p.b = append(p.b, 'v')
	p.b = appendNum(p.b, 1-tr-br)
	if br > 0 {
		p.b = append(p.b, 'a')
		p.b = appendArc(p.b, br, false, -br, br)
	}
	p.b = append(p.b, 'h')
	p.b = appendNum(p.b, -(w - br - bl))
	if bl > 0 {
		p.b = append(p.b, 'a')
		p.b = appendArc(p.b, bl, false, -bl, -bl)
	}
	p.b = append(p.b, 'v')
	p.b = appendNum(p.b, -(1 - bl - tl))
	if tl > 0 {
		p.b = append(p.b, 'a')
		p.b = appendArc(p.b, tl, false, tl, -tl)
	}
	p.b = append(p.b, 'z')
}
