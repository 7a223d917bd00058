package qr

import (
	"image"
	"image/color"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

const (
	quietZone = 4
	scale     = 4
)

// rasterize draws c with a quiet zone of 4 modules, 4 pixels per module.
func rasterize(c *Code) *image.Gray {
	n := (c.Size + 2*quietZone) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if !c.Modules[y*c.Size+x] {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetGray((x+quietZone)*scale+dx, (y+quietZone)*scale+dy, color.Gray{Y: 0})
				}
			}
		}
	}
	return img
}

// decode reads c back with gozxing, with the PURE_BARCODE hint when pure
// is true and through the detector otherwise. charset, when not empty, is
// passed as the CHARACTER_SET hint.
func decode(c *Code, pure bool, charset string) (string, error) {
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(rasterize(c))))
	if err != nil {
		return "", err
	}
	hints := map[gozxing.DecodeHintType]interface{}{}
	if pure {
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
	} else {
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	if charset != "" {
		hints[gozxing.DecodeHintType_CHARACTER_SET] = charset
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// checkRoundTrip encodes text and requires gozxing to read it back exactly,
// both as a pure barcode and through the detector, without charset hints.
func checkRoundTrip(t *testing.T, text string, level Level, opts Options) *Code {
	t.Helper()
	return roundTrip(t, text, level, opts, false)
}

// detectorStrictMaxVersion is the largest version for which a failure of
// gozxing's detector (the path without PURE_BARCODE) fails the test. For
// larger versions its finder search sometimes gives up (NotFound/Format
// exceptions) at 4 px per module, on gozxing's own encoder output as well
// (see TestDetectorLimitIsGozxings); such failures are logged. A detector
// decode that returns the wrong text always fails.
const detectorStrictMaxVersion = 10

// roundTrip is checkRoundTrip; with latin1Hint, ISO-8859-1 symbols are
// decoded with the CHARACTER_SET hint ISO-8859-1 (the charset the standard
// assigns to byte mode without ECI) instead of letting gozxing guess, which
// it gets wrong for runs of upper-case accented letters (it takes them for
// Shift_JIS katakana).
func roundTrip(t *testing.T, text string, level Level, opts Options, latin1Hint bool) *Code {
	t.Helper()
	c, err := Encode(text, level, opts)
	if err != nil {
		t.Fatalf("Encode(%.40q, %v): %v", text, level, err)
	}
	checkCode(t, c, text)
	charset := ""
	if latin1Hint && c.Charset == "iso-8859-1" {
		charset = "ISO-8859-1"
	}
	for _, pure := range []bool{true, false} {
		got, err := decode(c, pure, charset)
		if err != nil {
			if !pure && c.Version > detectorStrictMaxVersion {
				t.Logf("gozxing detector gave up on v%d-%v mask %d: %v (pure decode passed)", c.Version, c.Level, c.Mask, err)
				continue
			}
			t.Errorf("decode(pure=%v) of %.40q v%d-%v mask %d: %v", pure, text, c.Version, c.Level, c.Mask, err)
			continue
		}
		if got != text {
			t.Errorf("decode(pure=%v) v%d-%v mask %d:\n got %q\nwant %q", pure, c.Version, c.Level, c.Mask, got, text)
		}
	}
	return c
}

// checkCode verifies the invariants of an encoded symbol.
func checkCode(t *testing.T, c *Code, text string) {
	t.Helper()
	if c.Size != 17+4*c.Version || len(c.Modules) != c.Size*c.Size || len(c.Function) != c.Size*c.Size {
		t.Fatalf("bad geometry: v%d size %d modules %d function %d", c.Version, c.Size, len(c.Modules), len(c.Function))
	}
	sum := 0
	var joined []byte
	for _, s := range c.Segments {
		sum += s.Bits
		joined = append(joined, s.Text...)
	}
	if sum != c.DataBits {
		t.Errorf("segment bits %d != DataBits %d", sum, c.DataBits)
	}
	if c.DataBits > c.CapacityBits {
		t.Errorf("DataBits %d > CapacityBits %d", c.DataBits, c.CapacityBits)
	}
	if string(joined) != text {
		t.Errorf("segments carry %q, want %q", joined, text)
	}
}
