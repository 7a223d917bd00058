package render

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"strings"
	"sync"

	"github.com/go-pdf/fpdf"
)

// Label is one code of a label sheet.
type Label struct {
	Grid    Grid
	Caption string
}

// SheetLayout describes a label sheet. Zero values mean the defaults.
type SheetLayout struct {
	// Columns and Rows of labels per page (default 4 x 6).
	Columns, Rows int
	// MarginMM is the page margin (default 10 mm) and GapMM the space
	// between cells (default 4 mm); 0 means the default, negative values
	// are invalid.
	MarginMM, GapMM float64
	// PageSize is "A4" (default), "A3", "A5", "Letter" or "Legal".
	PageSize string
	// Style of the data modules.
	Style Style
	// Foreground and Background colours (default black on white).
	Foreground, Background color.RGBA
}

const (
	sheetMinModule  = 0.2 // mm: smaller modules do not print reliably
	sheetGoodModule = 0.5 // mm: keep the full 4-module quiet zone above this
	mmToPt          = 72 / 25.4
	sheetDefColumns = 4
	sheetDefRows    = 6
	sheetDefMargin  = 10
	sheetDefGap     = 4
	sheetMaxCaption = 10 // pt
	sheetMinCaption = 5  // pt
)

var pageSizes = map[string][2]float64{ // mm, portrait
	"a3":     {297, 420},
	"a4":     {210, 297},
	"a5":     {148, 210},
	"letter": {215.9, 279.4},
	"legal":  {215.9, 355.6},
}

// Sheet writes a print-ready PDF of labels: Columns x Rows cells per page,
// as many pages as needed, each cell holding a square vector QR code as
// large as the cell allows, with a quiet zone inside the cell of 4 modules
// (reduced to 3 or 2 when modules would be under 0.5 mm; the gap between
// cells adds to it), and its caption centred under it in
// Helvetica (cp1252), shrunk or cut to the cell width. When any label has
// a caption, every cell reserves the same caption band so codes line up.
// It returns an error if a grid is invalid or if the modules would be
// smaller than 0.2 mm.
func Sheet(w io.Writer, labels []Label, sl SheetLayout) error {
	if len(labels) == 0 {
		return errors.New("render: sheet without labels")
	}
	cols, rows := sl.Columns, sl.Rows
	if cols == 0 {
		cols = sheetDefColumns
	}
	if rows == 0 {
		rows = sheetDefRows
	}
	if cols < 0 || rows < 0 || cols > 100 || rows > 100 {
		return fmt.Errorf("%w: sheet of %d x %d labels", ErrInvalidOptions, cols, rows)
	}
	margin, gap := sl.MarginMM, sl.GapMM
	if margin == 0 {
		margin = sheetDefMargin
	}
	if gap == 0 {
		gap = sheetDefGap
	}
	if !(margin > 0 && gap > 0) { // also NaN
		return fmt.Errorf("%w: margin %v mm, gap %v mm", ErrInvalidOptions, sl.MarginMM, sl.GapMM)
	}
	name := strings.ToLower(strings.TrimSpace(sl.PageSize))
	if name == "" {
		name = "a4"
	}
	page, ok := pageSizes[name]
	if !ok {
		return fmt.Errorf("%w: page size %q", ErrInvalidOptions, sl.PageSize)
	}
	pw, ph := page[0]*mmToPt, page[1]*mmToPt
	mg, gp := margin*mmToPt, gap*mmToPt
	cellW := (pw - 2*mg - float64(cols-1)*gp) / float64(cols)
	cellH := (ph - 2*mg - float64(rows-1)*gp) / float64(rows)
	if cellW <= 0 || cellH <= 0 {
		return fmt.Errorf("%w: %d x %d labels do not fit the page", ErrInvalidOptions, cols, rows)
	}

	var band, nominal float64
	for _, lb := range labels {
		if strings.TrimSpace(lb.Caption) != "" {
			nominal = min(max(cellH*0.075, sheetMinCaption), sheetMaxCaption)
			band = nominal * 1.5
			break
		}
	}
	side := min(cellW, cellH-band)
	if side <= 0 {
		return fmt.Errorf("%w: cells too small", ErrInvalidOptions)
	}

	// Validate everything before producing output.
	lays := make([]*layout, len(labels))
	opt := Options{Style: sl.Style, Foreground: sl.Foreground, Background: sl.Background}
	for i, lb := range labels {
		if err := lb.Grid.validate(); err != nil {
			return fmt.Errorf("label %d: %w", i+1, err)
		}
		opt.Border = sheetQuietZone(lb.Grid.Size, side)
		l, err := opt.layout(lb.Grid)
		if err != nil {
			return fmt.Errorf("label %d: %w", i+1, err)
		}
		if side/float64(l.n) < sheetMinModule*mmToPt {
			return fmt.Errorf("%w: label %d: %d modules do not fit %.1f mm", ErrTooLarge, i+1, l.g.Size, side/mmToPt)
		}
		lays[i] = l
	}

	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: pw, Ht: ph}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("painel qrcode render", true)
	var capt *captioner
	if band > 0 {
		capt = newCaptioner(pdf, opt.Foreground)
	}
	perPage := cols * rows
	groupTop := (cellH - side - band) / 2
	var b []byte
	for start := 0; start < len(labels); start += perPage {
		pdf.AddPage()
		end := min(start+perPage, len(labels))
		b = b[:0]
		for i := start; i < end; i++ {
			l := lays[i]
			c, r := (i-start)%cols, (i-start)/cols
			cx := mg + float64(c)*(cellW+gp) + cellW/2
			top := mg + float64(r)*(cellH+gp) + groupTop
			x := cx - side/2
			b = append(b, "q\n"...)
			b = appendRGB(b, l.bg, " rg\n")
			b = appendNums(b, " re f\n", x, ph-top-side, side, side)
			b = appendSymbol(b, l, side/float64(l.n), x, ph-top)
			b = append(b, "Q\n"...)
		}
		pdf.RawWriteBuf(bytes.NewReader(b))
		if capt == nil {
			continue
		}
		for i := start; i < end; i++ {
			c, r := (i-start)%cols, (i-start)/cols
			cx := mg + float64(c)*(cellW+gp) + cellW/2
			top := mg + float64(r)*(cellH+gp) + groupTop
			capt.draw(labels[i].Caption, cx, top+side+nominal*1.05, nominal, cellW*0.96)
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("render: pdf: %w", err)
	}
	return pdf.Output(w)
}

// sheetQuietZone returns the quiet zone, in modules, of a code of size
// modules in a square of side points: the standard 4 modules while modules
// stay at least 0.5 mm, else 3, else 2 (adjacent cells add their own quiet
// zone and the gap). With less than 4, zbar misses some codes of a full
// page scanned at once, although each code alone still reads.
func sheetQuietZone(size int, side float64) int {
	for qz := 4; qz > 2; qz-- {
		if side/float64(size+2*qz) >= sheetGoodModule*mmToPt {
			return qz
		}
	}
	return 2
}

// cp1252 translates UTF-8 to Windows-1252 for fpdf's core fonts (runes
// outside it become '?'). fpdf's translator reuses an internal buffer, so
// the shared one is serialised by a mutex (parsing a new one per document
// costs more than the lock).
var cp1252 = sync.OnceValue(func() func(string) string {
	tr := fpdf.New("P", "pt", "A4", "").UnicodeTranslatorFromDescriptor("cp1252")
	var mu sync.Mutex
	return func(s string) string {
		mu.Lock()
		defer mu.Unlock()
		return tr(s)
	}
})

// captioner draws captions in Helvetica (Windows-1252).
type captioner struct {
	pdf  *fpdf.Fpdf
	tr   func(string) string
	size float64
}

func newCaptioner(pdf *fpdf.Fpdf, fg color.RGBA) *captioner {
	if fg == (color.RGBA{}) {
		fg = black
	}
	n := color.NRGBAModel.Convert(fg).(color.NRGBA)
	pdf.SetTextColor(int(n.R), int(n.G), int(n.B))
	return &captioner{pdf: pdf, tr: cp1252()}
}

// draw writes text centred at cx with its baseline at y (points from the
// top), starting at size nominal and shrinking or cutting it to width.
func (c *captioner) draw(text string, cx, y, nominal, width float64) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if c.size == 0 {
		c.pdf.SetFont("Helvetica", "", nominal)
		c.size = nominal
	}
	// GetStringWidth measures at the current size.
	measure := func(s string) float64 { return c.pdf.GetStringWidth(c.tr(s)) / c.size }
	fs, t := fitCaption(text, measure, nominal, width)
	if fs != c.size {
		c.pdf.SetFontSize(fs)
		c.size = fs
	}
	t = c.tr(t)
	c.pdf.Text(cx-c.pdf.GetStringWidth(t)/2, y, t)
}
