package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDumpSamples writes sample outputs to $RENDER_DUMP for inspection.
func TestDumpSamples(t *testing.T) {
	dir := os.Getenv("RENDER_DUMP")
	if dir == "" {
		t.Skip("set RENDER_DUMP=dir to write samples")
	}
	g := cachedGrid(t, textMedium, "H", false)
	for _, st := range styles {
		for _, cs := range schemes[:2] {
			o := Options{Style: st, Foreground: cs.fg, Background: cs.bg, Logo: testLogo(), LogoRatio: 0.25, Caption: captionPT}
			for name, f := range map[string]func(*bytes.Buffer) error{
				"png": func(b *bytes.Buffer) error { return PNG(b, g, o) },
				"svg": func(b *bytes.Buffer) error { return SVG(b, g, o) },
				"pdf": func(b *bytes.Buffer) error { return PDF(b, g, o) },
				"eps": func(b *bytes.Buffer) error { return EPS(b, g, o) },
			} {
				var b bytes.Buffer
				if err := f(&b); err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, st.String()+"-"+cs.name+"."+name), b.Bytes(), 0o644)
			}
		}
	}
}

// TestWriteSheetSample writes a sheet to $RENDER_DUMP for inspection.
func TestWriteSheetSample(t *testing.T) {
	dir := os.Getenv("RENDER_DUMP")
	if dir == "" {
		t.Skip("set RENDER_DUMP=dir")
	}
	var buf bytes.Buffer
	st, _ := ParseStyle(os.Getenv("RENDER_STYLE"))
	if err := Sheet(&buf, sheetLabels(t, 30), SheetLayout{Style: st}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sheet.pdf"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
