package render

import (
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
)

// EPS writes the grid as Encapsulated PostScript (EPSF-3.0, LanguageLevel
// 2) with the same geometry as PDF: %%BoundingBox (integer points, rounded
// up) and %%HiResBoundingBox, a background rectangle, the dark modules as
// one filled path, the logo (if any) as an RGB image and the caption (if
// any) in Helvetica re-encoded to Windows-1252. Colour alpha is ignored.
func EPS(w io.Writer, g Grid, o Options) error {
	l, err := o.layout(g)
	if err != nil {
		return err
	}
	m := float64(l.scale) * pxToPt
	n := float64(l.n)
	heightMods := n
	nominal, baseline, band := l.captionMetrics()
	var fs float64
	var text string
	if l.caption != "" {
		heightMods += band
		fs, text = fitCaption(l.caption, goMeasure(), nominal, captionWidth(l.n))
	}
	pw, ph := n*m, heightMods*m

	b := make([]byte, 0, 1024+l.g.Size*l.g.Size*6)
	b = fmt.Appendf(b, "%%!PS-Adobe-3.0 EPSF-3.0\n%%%%BoundingBox: 0 0 %d %d\n", int(math.Ceil(pw-1e-9)), int(math.Ceil(ph-1e-9)))
	b = append(b, "%%HiResBoundingBox: 0 0 "...)
	b = appendNums(b, "\n", pw, ph)
	b = append(b, "%%Creator: painel qrcode render\n%%Title: QR code\n%%LanguageLevel: 2\n%%Pages: 1\n%%EndComments\n"...)
	b = append(b, "%%BeginProlog\n/painelqr 24 dict def\npainelqr begin\n"+
		"/R {3 1 roll moveto dup 0 rlineto 0 1 rlineto neg 0 rlineto closepath} bind def\n"+
		"/D {3 copy 3 -1 roll add exch moveto 0 360 arc closepath} bind def\n"+
		"/m /moveto load def /l /lineto load def /c /curveto load def /h /closepath load def\n"+
		"end\n%%EndProlog\n%%Page: 1 1\npainelqr begin\ngsave\n"...)
	b = appendRGB(b, l.bg, " setrgbcolor\n")
	b = appendNums(b, " rectfill\n", 0, 0, pw, ph)
	b = append(b, "gsave\n"...)
	b = appendNums(b, " translate\n", 0, ph)
	b = appendNums(b, " scale\n", m, -m)
	b = appendRGB(b, l.fg, " setrgbcolor\nnewpath\n")
	p := &bezierPath{b: b, m: " m\n", l: " l\n", c: " c\n", h: "h\n", unitRect: " R\n", useUnitRect: true, dotOp: " D\n"}
	l.visit(p)
	b = append(p.b, "fill\ngrestore\n"...)

	if l.logo != nil {
		img := l.flatLogo(256)
		iw, ih := img.Rect.Dx(), img.Rect.Dy()
		x, y, lw, lh := l.logoBox()
		off := float64(l.border)
		b = append(b, "gsave\n"...)
		b = appendNums(b, " translate\n", 0, ph)
		b = appendNums(b, " scale\n", m, -m)
		b = appendNums(b, " translate\n", off+x, off+y)
		b = appendNums(b, " scale\n", lw, lh)
		b = fmt.Appendf(b, "/picstr %d string def\n%d %d 8 [%d 0 0 %d 0 0] {currentfile picstr readhexstring pop} false 3 colorimage\n", 3*iw, iw, ih, iw, ih)
		row := make([]byte, 3*iw)
		for yy := range ih {
			for xx := range iw {
				o := yy*img.Stride + 4*xx
				copy(row[3*xx:], img.Pix[o:o+3])
			}
			// Lines of at most 255 characters (DSC).
			for i := 0; i < len(row); i += 120 {
				b = hex.AppendEncode(b, row[i:min(i+120, len(row))])
				b = append(b, '\n')
			}
		}
		b = append(b, "grestore\n"...)
		dark, light := l.overLogo()
		for _, set := range []struct {
			pts []image.Point
			c   color.RGBA
		}{{light, l.bg}, {dark, l.fg}} {
			if len(set.pts) == 0 {
				continue
			}
			b = append(b, "gsave\n"...)
			b = appendNums(b, " translate\n", 0, ph)
			b = appendNums(b, " scale\n", m, -m)
			b = appendRGB(b, set.c, " setrgbcolor\n")
			for _, p := range set.pts {
				b = appendNums(b, " 1 1 rectfill\n", off+float64(p.X), off+float64(p.Y))
			}
			b = append(b, "grestore\n"...)
		}
	}

	if text != "" {
		b = append(b, epsFontProlog...)
		b = append(b, "/s "...)
		b = appendPSString(b, text)
		b = append(b, " def\n/fs "...)
		b = appendNum(b, fs*m)
		b = append(b, " def\n/F /Helvetica-CP1252 findfont def\nF fs scalefont setfont\n"...)
		b = append(b, "s stringwidth pop dup "...)
		b = appendNum(b, captionWidth(l.n)*m)
		b = append(b, " gt {"...)
		b = appendNum(b, captionWidth(l.n)*m)
		b = append(b, " exch div fs mul /fs exch def F fs scalefont setfont} {pop} ifelse\n"...)
		b = appendRGB(b, l.fg, " setrgbcolor\n")
		b = appendNum(b, pw/2)
		b = append(b, " s stringwidth pop 2 div sub "...)
		b = appendNum(b, ph-(n+baseline)*m)
		b = append(b, " moveto s show\n"...)
	}
	b = append(b, "grestore\nend\nshowpage\n%%Trailer\n%%EOF\n"...)
	_, err = w.Write(b)
	return err
}

// epsFontProlog defines /Helvetica-CP1252: Helvetica with the Windows-1252
// encoding (ISO Latin-1 plus the 0x80-0x9F punctuation, with the ASCII
// quote, grave and hyphen restored).
const epsFontProlog = "/Helvetica findfont dup length dict begin\n" +
	"{1 index /FID ne {def} {pop pop} ifelse} forall\n" +
	"/Encoding ISOLatin1Encoding 256 array copy def\n" +
	"[16#27 /quotesingle 16#2d /hyphen 16#60 /grave 16#80 /Euro 16#82 /quotesinglbase 16#83 /florin\n" +
	"16#84 /quotedblbase 16#85 /ellipsis 16#86 /dagger 16#87 /daggerdbl 16#88 /circumflex\n" +
	"16#89 /perthousand 16#8a /Scaron 16#8b /guilsinglleft 16#8c /OE 16#8e /Zcaron\n" +
	"16#91 /quoteleft 16#92 /quoteright 16#93 /quotedblleft 16#94 /quotedblright 16#95 /bullet\n" +
	"16#96 /endash 16#97 /emdash 16#98 /tilde 16#99 /trademark 16#9a /scaron 16#9b /guilsinglright\n" +
	"16#9c /oe 16#9e /zcaron 16#9f /Ydieresis]\n" +
	"aload length 2 idiv {Encoding 3 1 roll put} repeat\n" +
	"currentdict end /Helvetica-CP1252 exch definefont pop\n"

// cp1252High maps the Unicode characters of Windows-1252 0x80-0x9F.
var cp1252High = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e,
	'‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
	'˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

// appendPSString appends text as a PostScript string literal in
// Windows-1252 (characters outside it become '?').
func appendPSString(b []byte, text string) []byte {
	b = append(b, '(')
	for _, r := range text {
		var c byte
		switch {
		case r < 0x80 || (r >= 0xa0 && r <= 0xff):
			c = byte(r)
		default:
			var ok bool
			if c, ok = cp1252High[r]; !ok {
				c = '?'
			}
		}
		switch {
		case c == '(' || c == ')' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}
