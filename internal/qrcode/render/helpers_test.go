package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/painel-universal/painel/internal/testenv"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// encodeGrid encodes text with gozxing's own encoder at one pixel per
// module without margin and converts the BitMatrix to a Grid. When
// markFunction is set, the finder patterns with their separators and the
// alignment patterns are marked in Grid.Function (as a converter would);
// otherwise Function is nil and the package computes it.
func encodeGrid(tb testing.TB, text, level string, markFunction bool) Grid {
	tb.Helper()
	hints := map[gozxing.EncodeHintType]interface{}{
		gozxing.EncodeHintType_ERROR_CORRECTION: level,
		gozxing.EncodeHintType_MARGIN:           0,
		gozxing.EncodeHintType_CHARACTER_SET:    "UTF-8",
	}
	bm, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, 0, 0, hints)
	if err != nil {
		tb.Fatalf("encode %q: %v", text, err)
	}
	size := bm.GetWidth()
	if bm.GetHeight() != size || (size-17)%4 != 0 {
		tb.Fatalf("unexpected matrix %dx%d", size, bm.GetHeight())
	}
	g := Grid{Size: size, Dark: make([]bool, size*size)}
	for y := range size {
		for x := range size {
			g.Dark[y*size+x] = bm.Get(x, y)
		}
	}
	if markFunction {
		g.Function = make([]bool, size*size)
		mark := func(x0, y0, w, h int) {
			for y := max(y0, 0); y < min(y0+h, size); y++ {
				for x := max(x0, 0); x < min(x0+w, size); x++ {
					g.Function[y*size+x] = true
				}
			}
		}
		mark(0, 0, 8, 8)
		mark(size-8, 0, 8, 8)
		mark(0, size-8, 8, 8)
		pos := alignmentPositions((size - 17) / 4)
		for _, cy := range pos {
			for _, cx := range pos {
				if (cx == 6 && cy == 6) || (cx == 6 && cy == size-7) || (cx == size-7 && cy == 6) {
					continue
				}
				mark(cx-2, cy-2, 5, 5)
			}
		}
	}
	return g
}

// decode reads a QR code from img with gozxing.
func decode(img image.Image, pure bool) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
	if pure {
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// mustDecode decodes img (without the PURE_BARCODE hint, and with it when
// pure is set) and checks the text.
func mustDecode(t *testing.T, img image.Image, want string, pure bool) {
	t.Helper()
	got, err := decode(img, false)
	if err != nil || got != want {
		t.Errorf("decode: got %q, %v; want %q", got, err, want)
	}
	if pure {
		got, err := decode(img, true)
		if err != nil || got != want {
			t.Errorf("decode PURE_BARCODE: got %q, %v; want %q", got, err, want)
		}
	}
}

// invert returns the image with every colour inverted (what a phone
// scanner with an "inverted" mode does).
func invert(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = 255-out.Pix[i], 255-out.Pix[i+1], 255-out.Pix[i+2]
	}
	return out
}

// testLogo is a 64x64 logo: a dark red disc with a white "P" shape on a
// transparent background, and a blue border.
func testLogo() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			dx, dy := float64(x)-31.5, float64(y)-31.5
			switch {
			case x < 3 || y < 3 || x > 60 || y > 60:
				img.Set(x, y, color.NRGBA{20, 60, 200, 255})
			case dx*dx+dy*dy < 28*28:
				c := color.NRGBA{180, 20, 40, 255}
				if (x > 20 && x < 28 && y > 14 && y < 50) || (x >= 28 && x < 42 && y > 14 && y < 34 && !(x < 36 && y > 20 && y < 28)) {
					c = color.NRGBA{255, 255, 255, 255}
				}
				img.Set(x, y, c)
			default:
				img.Set(x, y, color.NRGBA{0, 0, 0, 0})
			}
		}
	}
	return img
}

// ciTools are installed by .ci/run: with PAINEL_REQUIRE_SERVICES=1 a
// missing one fails the test instead of skipping its part.
var ciTools = map[string]bool{"pdftoppm": true, "pdftotext": true, "rsvg-convert": true, "gs": true, "zbarimg": true}

// tool returns the path of an external program, or "" (and logs it).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if ciTools[name] && testenv.Required() {
			t.Fatalf("PAINEL_REQUIRE_SERVICES=1 but %s is not installed", name)
		}
		return ""
	}
	if name == "convert" {
		// A stand-in "convert" may exist without ImageMagick.
		out, err := exec.Command(p, "-version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Version: ImageMagick") {
			return ""
		}
	}
	return p
}

// run runs a command and fails the test with its output on error.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// crop returns a copy of the rectangle r of img (clipped).
func crop(img image.Image, r image.Rectangle) image.Image {
	r = r.Intersect(img.Bounds())
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Rect, img, r.Min, draw.Src)
	return out
}

// zbar decodes every code in an image file with zbarimg; nil if absent.
func zbar(t *testing.T, path string) []string {
	t.Helper()
	p := tool(t, "zbarimg")
	if p == "" {
		return nil
	}
	out, err := exec.Command(p, "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 4 { // nothing found
		return []string{}
	}
	if err != nil {
		t.Errorf("zbarimg %s: %v", path, err)
		return nil
	}
	s := strings.TrimRight(string(out), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

var testGridCache sync.Map

// cachedGrid is encodeGrid memoised (grids are read-only).
func cachedGrid(tb testing.TB, text, level string, mark bool) Grid {
	key := fmt.Sprint(text, "|", level, "|", mark)
	if g, ok := testGridCache.Load(key); ok {
		return g.(Grid)
	}
	g := encodeGrid(tb, text, level, mark)
	testGridCache.Store(key, g)
	return g
}
