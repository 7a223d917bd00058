package render

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgDoc is the parsed structure of an SVG from this package.
type svgDoc struct {
	Width, Height, ViewBox string
	Rects, Paths, Images   int
	PathD                  string
	Texts                  []string
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			attr := func(name string) string {
				for _, a := range e.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch e.Name.Local {
			case "svg":
				if depth != 1 || e.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root %v at depth %d", e.Name, depth)
				}
				doc.Width, doc.Height, doc.ViewBox = attr("width"), attr("height"), attr("viewBox")
			case "rect":
				doc.Rects++
			case "path":
				doc.Paths++
				doc.PathD = attr("d")
			case "image":
				doc.Images++
				if !strings.HasPrefix(attr("href"), "data:image/png;base64,") {
					t.Errorf("image href %.40q", attr("href"))
				}
			case "text":
				inText = true
				doc.Texts = append(doc.Texts, "")
			}
		case xml.EndElement:
			depth--
			inText = false
		case xml.CharData:
			if inText {
				doc.Texts[len(doc.Texts)-1] += string(e)
			}
		}
	}
	return doc
}

// svgRasteriser returns a function converting an SVG file to PNG, using
// rsvg-convert or ImageMagick, or nil when neither is installed.
func svgRasteriser(t *testing.T) (string, func(svg, out string)) {
	if p := tool(t, "rsvg-convert"); p != "" {
		return "rsvg-convert", func(svg, out string) { run(t, p, "-b", "white", "-o", out, svg) }
	}
	if p := tool(t, "convert"); p != "" {
		return "convert", func(svg, out string) { run(t, p, "-density", "96", svg, out) }
	}
	return "", nil
}

func TestSVG(t *testing.T) {
	name, raster := svgRasteriser(t)
	if raster == nil {
		t.Log("no rsvg-convert or ImageMagick: SVG rasterisation skipped")
	} else {
		t.Logf("rasterising SVG with %s", name)
	}
	logo := testLogo()
	for _, st := range styles {
		for _, cs := range schemes[:2] {
			for _, v := range variants {
				t.Run(fmt.Sprintf("%s/%s/%s", st, cs.name, v.name), func(t *testing.T) {
					g := cachedGrid(t, textMedium, v.level, false)
					o := Options{Scale: 4, Style: st, Foreground: cs.fg, Background: cs.bg, Caption: v.caption}
					if v.logo > 0 {
						o.Logo, o.LogoRatio = logo, v.logo
					}
					var buf bytes.Buffer
					if err := SVG(&buf, g, o); err != nil {
						t.Fatal(err)
					}
					doc := parseSVG(t, buf.Bytes())
					if doc.Paths != 1 {
						t.Errorf("%d <path> elements, want exactly 1", doc.Paths)
					}
					if doc.Rects != 1 {
						t.Errorf("%d <rect> elements, want 1 (background)", doc.Rects)
					}
					n := g.Size + 8
					if !strings.HasPrefix(doc.ViewBox, fmt.Sprintf("0 0 %d ", n)) || doc.Width != strconv.Itoa(4*n) {
						t.Errorf("viewBox %q width %q", doc.ViewBox, doc.Width)
					}
					if h, err := strconv.ParseFloat(doc.Height, 64); err != nil || h != float64(int(h)) {
						t.Errorf("height %q is not whole pixels", doc.Height)
					}
					if st == Quadrado {
						checkRuns(t, g, doc.PathD, v.logo == 0)
						if !strings.Contains(buf.String(), `shape-rendering="crispEdges"`) {
							t.Error("no crispEdges")
						}
					}
					if (v.logo > 0) != (doc.Images == 1) {
						t.Errorf("%d images", doc.Images)
					}
					if v.caption != "" && (len(doc.Texts) != 1 || doc.Texts[0] != v.caption) {
						t.Errorf("texts %q", doc.Texts)
					}
					if raster == nil {
						return
					}
					in := writeTemp(t, "qr.svg", buf.Bytes())
					out := filepath.Join(filepath.Dir(in), "qr.png")
					raster(in, out)
					img := readPNG(t, out)
					mustDecode(t, img, textMedium, false)
					// PURE_BARCODE needs module edges on pixel edges, which
					// ImageMagick's renderer does not give exactly: log only.
					if got, err := decode(img, true); v.caption == "" && (err != nil || got != textMedium) {
						t.Logf("%s raster: PURE_BARCODE decode failed (%v); normal decode passed", name, err)
					}
				})
			}
		}
	}
}

// checkRuns checks that a Quadrado path is made of maximal horizontal runs
// ("Mx yhWv1h-Wz"): no run touches another on its row and, without a logo,
// they cover exactly the dark modules.
func checkRuns(t *testing.T, g Grid, d string, exact bool) {
	t.Helper()
	re := regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	covered := make([]bool, g.Size*g.Size)
	for d != "" {
		m := re.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("unexpected path data %.30q", d)
		}
		d = d[len(m[0]):]
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		x, y = x-4, y-4
		for i := x - 1; i <= x+w; i++ {
			if i >= 0 && i < g.Size && covered[y*g.Size+i] {
				t.Fatalf("run at (%d,%d) overlaps or touches another", x, y)
			}
		}
		for i := x; i < x+w; i++ {
			if !g.Dark[y*g.Size+i] {
				t.Fatalf("light module (%d,%d) drawn", i, y)
			}
			covered[y*g.Size+i] = true
		}
	}
	if exact {
		for i, dk := range g.Dark {
			if dk != covered[i] {
				t.Fatalf("module %d: dark %v, drawn %v", i, dk, covered[i])
			}
		}
	}
}

// TestSVGEscapes checks that a caption with XML specials stays well-formed.
func TestSVGEscapes(t *testing.T) {
	g := cachedGrid(t, textShort, "M", false)
	var buf bytes.Buffer
	if err := SVG(&buf, g, Options{Caption: `<a & "b"> 'c'`}); err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, buf.Bytes())
	if len(doc.Texts) != 1 || doc.Texts[0] != `<a & "b"> 'c'` {
		t.Errorf("%q", doc.Texts)
	}
}

func TestPDF(t *testing.T) {
	pdftoppm := tool(t, "pdftoppm")
	if pdftoppm == "" {
		t.Log("pdftoppm absent: PDF rasterisation skipped")
	}
	logo := testLogo()
	for _, st := range styles {
		for _, cs := range schemes[:2] {
			for _, v := range variants {
				t.Run(fmt.Sprintf("%s/%s/%s", st, cs.name, v.name), func(t *testing.T) {
					t.Parallel()
					g := cachedGrid(t, textMedium, v.level, true)
					o := Options{Scale: 4, Style: st, Foreground: cs.fg, Background: cs.bg, Caption: v.caption}
					if v.logo > 0 {
						o.Logo, o.LogoRatio = logo, v.logo
					}
					var buf bytes.Buffer
					if err := PDF(&buf, g, o); err != nil {
						t.Fatal(err)
					}
					if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || !bytes.Contains(buf.Bytes()[buf.Len()-8:], []byte("%%EOF")) {
						t.Fatal("not a PDF")
					}
					if pdftoppm == "" {
						return
					}
					in := writeTemp(t, "qr.pdf", buf.Bytes())
					// 144 dpi puts module edges on pixel edges (6 px per
					// module): decode with and without PURE_BARCODE; 150 dpi
					// (6.25 px) only without, as a camera would.
					for _, dpi := range []string{"144", "150"} {
						prefix := filepath.Join(filepath.Dir(in), "page"+dpi)
						run(t, pdftoppm, "-r", dpi, "-png", "-singlefile", in, prefix)
						mustDecode(t, readPNG(t, prefix+".png"), textMedium, dpi == "144" && v.caption == "")
					}
					if v.caption != "" {
						if p := tool(t, "pdftotext"); p != "" {
							txt := string(run(t, p, in, "-"))
							if !strings.Contains(txt, v.caption) {
								t.Errorf("pdftotext: %q does not contain %q", txt, v.caption)
							}
						}
					}
				})
			}
		}
	}
}

func TestEPS(t *testing.T) {
	gs := tool(t, "gs")
	if gs == "" {
		t.Log("gs absent: EPS rasterisation skipped")
	}
	bboxRE := regexp.MustCompile(`(?m)^%%BoundingBox: 0 0 (\d+) (\d+)$`)
	logo := testLogo()
	for _, st := range styles {
		for _, v := range variants {
			t.Run(fmt.Sprintf("%s/%s", st, v.name), func(t *testing.T) {
				t.Parallel()
				g := cachedGrid(t, textMedium, v.level, false)
				o := Options{Scale: 4, Style: st, Caption: v.caption}
				if v.logo > 0 {
					o.Logo, o.LogoRatio = logo, v.logo
				}
				var buf bytes.Buffer
				if err := EPS(&buf, g, o); err != nil {
					t.Fatal(err)
				}
				data := buf.Bytes()
				if !bytes.HasPrefix(data, []byte("%!PS-Adobe-3.0 EPSF-3.0\n")) {
					t.Fatalf("header %q", data[:30])
				}
				m := bboxRE.FindSubmatch(data)
				if m == nil {
					t.Fatal("no %%BoundingBox")
				}
				w, _ := strconv.Atoi(string(m[1]))
				h, _ := strconv.Atoi(string(m[2]))
				side := float64(g.Size+8) * 4 * 0.75
				if w != int(side+0.999) || h < w || (v.caption == "" && h != w) {
					t.Errorf("BoundingBox %d x %d, want %v wide", w, h, side)
				}
				if !bytes.Contains(data, []byte("%%HiResBoundingBox:")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
					t.Error("DSC comments")
				}
				if gs == "" {
					return
				}
				in := writeTemp(t, "qr.eps", data)
				for _, dpi := range []string{"144", "150"} {
					out := filepath.Join(filepath.Dir(in), "qr"+dpi+".png")
					run(t, gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop", "-sDEVICE=png16m", "-r"+dpi,
						"-dGraphicsAlphaBits=4", "-dTextAlphaBits=4", "-sOutputFile="+out, in)
					mustDecode(t, readPNG(t, out), textMedium, dpi == "144" && v.caption == "")
				}
				if v.caption != "" {
					txt := run(t, gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=txtwrite", "-sOutputFile=-", in)
					if !strings.Contains(string(txt), v.caption) {
						t.Errorf("gs txtwrite: %q does not contain %q", txt, v.caption)
					}
				}
			})
		}
	}
}

// sheetLabels returns n labels with distinct contents and captions.
func sheetLabels(tb testing.TB, n int) []Label {
	labels := make([]Label, n)
	for i := range labels {
		labels[i] = Label{Grid: encodeGrid(tb, labelText(i), "M", i%2 == 0), Caption: fmt.Sprintf("Ingresso %04d — João Ação", i+1)}
	}
	return labels
}

// labelText is the content of label i (0-based) of sheetLabels.
func labelText(i int) string {
	return fmt.Sprintf("https://painel.example/t/%06d-%x", i+1, (i+1)*2654435761%1000003)
}

// TestSheet renders 1,000 labels into one PDF, then rasterises the first
// and last pages at 150 dpi and decodes every label cell with gozxing (and
// the whole page with zbarimg when installed).
func TestSheet(t *testing.T) {
	labels := sheetLabels(t, 1000)
	for _, st := range styles {
		t.Run(st.String(), func(t *testing.T) {
			if testing.Short() && st != Quadrado {
				t.Skip("short")
			}
			sl := SheetLayout{Style: st}
			start := time.Now()
			var buf bytes.Buffer
			if err := Sheet(&buf, labels, sl); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			pages := bytes.Count(buf.Bytes(), []byte("/Type /Page")) - bytes.Count(buf.Bytes(), []byte("/Type /Pages"))
			t.Logf("%s: 1000 labels, %d pages, %d KiB in %v", st, pages, buf.Len()/1024, elapsed)
			if pages != 42 { // ceil(1000 / 24)
				t.Errorf("%d pages, want 42", pages)
			}
			pdftoppm := tool(t, "pdftoppm")
			if pdftoppm == "" {
				t.Skip("pdftoppm absent: sheet rasterisation skipped")
			}
			in := writeTemp(t, "sheet.pdf", buf.Bytes())
			if p := tool(t, "pdftotext"); p != "" {
				txt := string(run(t, p, "-f", "42", "-l", "42", in, "-"))
				if !strings.Contains(txt, "Ingresso 1000 — João Ação") {
					t.Errorf("pdftotext of the last page: %q", txt)
				}
			}
			for _, page := range []int{1, 42} {
				prefix := filepath.Join(filepath.Dir(in), fmt.Sprintf("p%d", page))
				p := strconv.Itoa(page)
				run(t, pdftoppm, "-r", "150", "-png", "-f", p, "-l", p, "-singlefile", in, prefix)
				img := readPNG(t, prefix+".png")
				first := (page - 1) * 24
				last := min(first+24, len(labels))
				failures, zbarOK := 0, 0
				useZbar := tool(t, "zbarimg") != ""
				for i := first; i < last; i++ {
					cell := crop(img, sheetCell(img.Bounds(), i-first))
					got, err := decode(cell, false)
					if err != nil || got != labelText(i) {
						failures++
						t.Errorf("page %d label %d: gozxing %q %v", page, i+1, got, err)
					}
					if !useZbar {
						continue
					}
					var pb bytes.Buffer
					if err := png.Encode(&pb, cell); err != nil {
						t.Fatal(err)
					}
					zs := zbar(t, writeTemp(t, "cell.png", pb.Bytes()))
					if len(zs) != 1 || zs[0] != labelText(i) {
						failures++
						t.Errorf("page %d label %d: zbarimg %q", page, i+1, zs)
					} else {
						zbarOK++
					}
				}
				// zbar on the whole page is informative only: its detector
				// misses some codes of a grid of many, depending on the
				// resolution, although each one alone reads.
				if zs := zbar(t, prefix+".png"); zs != nil {
					t.Logf("zbarimg on the whole page %d: %d of %d codes", page, len(zs), last-first)
				}
				t.Logf("page %d: %d labels decoded by gozxing, %d by zbarimg, %d failures", page, last-first, zbarOK, failures)
			}
		})
	}
}

// sheetCell returns the pixel rectangle of cell i of the default layout
// (A4, 4x6, 10 mm margin, 4 mm gap) on a page image.
func sheetCell(b image.Rectangle, i int) image.Rectangle {
	pxPerMM := float64(b.Dx()) / 210
	cellW := (210 - 20 - 3*4) / 4.0
	cellH := (297 - 20 - 5*4) / 6.0
	c, r := i%4, i/4
	x := 10 + float64(c)*(cellW+4)
	y := 10 + float64(r)*(cellH+4)
	return image.Rect(int((x-1)*pxPerMM), int((y-1)*pxPerMM), int((x+cellW+1)*pxPerMM), int((y+cellH+1)*pxPerMM))
}

func TestSheetErrors(t *testing.T) {
	g := cachedGrid(t, textShort, "M", false)
	one := []Label{{Grid: g}}
	for i, c := range []struct {
		labels []Label
		sl     SheetLayout
	}{
		{nil, SheetLayout{}},
		{one, SheetLayout{Columns: -1}},
		{one, SheetLayout{MarginMM: -1}},
		{one, SheetLayout{PageSize: "B7"}},
		{one, SheetLayout{MarginMM: 120}},
		{one, SheetLayout{Columns: 100, Rows: 100}}, // modules < 0.2 mm
		{[]Label{{Grid: Grid{Size: 3}}}, SheetLayout{}},
	} {
		if err := Sheet(io.Discard, c.labels, c.sl); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	// Other page sizes and a label without caption.
	for _, ps := range []string{"letter", "A5", "a3", "Legal"} {
		var buf bytes.Buffer
		if err := Sheet(&buf, one, SheetLayout{PageSize: ps, Columns: 2, Rows: 3}); err != nil {
			t.Errorf("%s: %v", ps, err)
		}
	}
}
