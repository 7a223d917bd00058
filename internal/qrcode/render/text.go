package render

import (
	"encoding/base64"
	"strings"
)

// Text renders the grid with Unicode half blocks, two module rows per line:
// '█' both dark, '▀' upper dark, '▄' lower dark, ' ' both light. Every line
// is (Size+2*border) characters wide and ends with '\n'; there are
// ceil((Size+2*border)/2) lines. border is the quiet zone in modules
// (negative counts as 0; use at least 2, 4 is standard).
//
// Dark modules are printed with the terminal's TEXT colour and light ones
// are the terminal's BACKGROUND, so the output scans on a terminal with DARK
// TEXT ON A LIGHT BACKGROUND. On a dark-background terminal the code appears
// inverted (light modules on dark), which many scanners (ZXing, gozxing)
// cannot read: switch the terminal to a light theme or use an image format.
// An invalid grid yields "".
func Text(g Grid, border int) string {
	if g.validate() != nil {
		return ""
	}
	border = max(border, 0)
	n := g.Size + 2*border
	lines := (n + 1) / 2
	var sb strings.Builder
	sb.Grow(lines * (n*3 + 1))
	for line := range lines {
		// Rows outside the symbol (quiet zone, and the missing lower half
		// of the last line when n is odd) are light.
		y0 := 2*line - border
		y1 := y0 + 1
		for x := -border; x < g.Size+border; x++ {
			top := g.dark(x, y0)
			bottom := g.dark(x, y1)
			switch {
			case top && bottom:
				sb.WriteRune('█')
			case top:
				sb.WriteRune('▀')
			case bottom:
				sb.WriteRune('▄')
			default:
				sb.WriteByte(' ')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// DataURI returns b as an RFC 2397 data URI with base64 encoding, e.g.
// DataURI("image/png", png) for an <img src>.
func DataURI(mediaType string, b []byte) string {
	const sep = ";base64,"
	buf := make([]byte, 0, len("data:")+len(mediaType)+len(sep)+base64.StdEncoding.EncodedLen(len(b)))
	buf = append(buf, "data:"...)
	buf = append(buf, mediaType...)
	buf = append(buf, sep...)
	buf = base64.StdEncoding.AppendEncode(buf, b)
	return string(buf)
}
