package qr

import (
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

var zxLevels = [4]decoder.ErrorCorrectionLevel{decoder.ErrorCorrectionLevel_L, decoder.ErrorCorrectionLevel_M, decoder.ErrorCorrectionLevel_Q, decoder.ErrorCorrectionLevel_H}

// TestMatrixMatchesGozxingEncoder builds single-segment symbols with our
// encoder and with gozxing's (an independent implementation) at the same
// version and mask and requires identical modules; with the automatic mask
// it also requires the same mask choice, since both score masks with the
// same four rules.
func TestMatrixMatchesGozxingEncoder(t *testing.T) {
	texts := []string{
		"01234567",
		"HELLO WORLD",
		"hello, world!",
		strings.Repeat("3141592653", 30),
		strings.Repeat("THE QUICK BROWN FOX $%*+-./: ", 20),
		strings.Repeat("the quick brown fox jumps over the lazy dog. ", 12),
		strings.Repeat("9", 3000),
		strings.Repeat("ab", 900),
	}
	for _, text := range texts {
		for l := L; l <= H; l++ {
			auto, err := Encode(text, l, Options{})
			if err == ErrTooLong {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(auto.Segments) != 1 {
				t.Fatalf("%.20q: want a single segment, got %+v", text, auto.Segments)
			}
			masks := []int{-1, 0, 3, 7}
			for _, m := range masks {
				opts := Options{Mask: m, FixedMask: m >= 0}
				ours, err := Encode(text, l, opts)
				if err != nil {
					t.Fatal(err)
				}
				hints := map[gozxing.EncodeHintType]interface{}{gozxing.EncodeHintType_QR_VERSION: ours.Version}
				if m >= 0 {
					hints[gozxing.EncodeHintType_QR_MASK_PATTERN] = m
				}
				zx, werr := encoder.Encoder_encode(text, zxLevels[l], hints)
				if werr != nil {
					t.Fatalf("gozxing %.20q %v: %v", text, l, werr)
				}
				if zx.GetMaskPattern() != ours.Mask {
					t.Errorf("%.20q v%d-%v: mask %d, gozxing chose %d", text, ours.Version, l, ours.Mask, zx.GetMaskPattern())
					continue
				}
				zm := zx.GetMatrix()
				diff := 0
				for y := 0; y < ours.Size; y++ {
					for x := 0; x < ours.Size; x++ {
						if (zm.Get(x, y) == 1) != ours.Dark(x, y) {
							diff++
						}
					}
				}
				if diff != 0 {
					t.Errorf("%.20q v%d-%v mask %d: %d modules differ from gozxing", text, ours.Version, l, ours.Mask, diff)
				}
			}
		}
	}
}

// TestFunctionMap checks the Function output: finder and timing modules,
// the dark module, version information, and the count of data modules.
func TestFunctionMap(t *testing.T) {
	for _, v := range []int{1, 2, 6, 7, 14, 40} {
		c, err := Encode("x", M, Options{MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		n := c.Size
		fn := func(x, y int) bool { return c.Function[y*n+x] }
		for _, p := range [][2]int{{0, 0}, {7, 7}, {8, 8}, {n - 1, 0}, {n - 8, 7}, {0, n - 1}, {8, n - 8}, {6, n / 2}, {n / 2, 6}, {8, n - 1}, {n - 1, 8}} {
			if !fn(p[0], p[1]) {
				t.Errorf("v%d: (%d,%d) should be a function module", v, p[0], p[1])
			}
		}
		if !c.Dark(8, n-8) {
			t.Errorf("v%d: dark module is light", v)
		}
		if fn(n-1, n-1) || fn(9, 9) {
			t.Errorf("v%d: corner data module marked as function", v)
		}
		if got := fn(n-11, 0); got != (v >= 7) {
			t.Errorf("v%d: version information area marked %v", v, got)
		}
		data := 0
		for _, f := range c.Function {
			if !f {
				data++
			}
		}
		if data != rawDataModules(v) {
			t.Errorf("v%d: %d non-function modules, want %d", v, data, rawDataModules(v))
		}
		// Timing pattern alternates, dark on even coordinates.
		for i := 8; i < n-8; i++ {
			if c.Dark(i, 6) != (i%2 == 0) || c.Dark(6, i) != (i%2 == 0) {
				t.Errorf("v%d: timing pattern wrong at %d", v, i)
				break
			}
		}
	}
}

// TestDetectorLimitIsGozxings documents why detector failures on large
// versions are only logged: gozxing's detector also gives up on the
// symbol gozxing's own encoder makes (identical to ours) at 4 px per module.
func TestDetectorLimitIsGozxings(t *testing.T) {
	text := longestFitting(t, 1, 17, L) // v17-L, mask 2: the detector fails
	c, err := Encode(text, L, Options{})
	if err != nil {
		t.Fatal(err)
	}
	zx, werr := encoder.Encoder_encode(text, zxLevels[L], map[gozxing.EncodeHintType]interface{}{gozxing.EncodeHintType_QR_VERSION: c.Version})
	if werr != nil {
		t.Fatal(werr)
	}
	twin := &Code{Version: c.Version, Size: c.Size, Modules: make([]bool, len(c.Modules))}
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			twin.Modules[y*c.Size+x] = zx.GetMatrix().Get(x, y) == 1
		}
	}
	_, ourErr := decode(c, false, "")
	_, zxErr := decode(twin, false, "")
	t.Logf("v%d-L mask %d: detector on ours: %v; on gozxing's own: %v", c.Version, c.Mask, ourErr, zxErr)
	if (ourErr == nil) != (zxErr == nil) {
		t.Errorf("the detector treats identical symbols differently")
	}
	if got, err := decode(c, true, ""); err != nil || got != text {
		t.Errorf("pure decode: %v", err)
	}
}

// TestPenaltyMatchesGozxing scores symbols of several sizes (one and
// several 64-bit words per line) with our bitset rules and with gozxing's
// MaskUtil, module by module.
func TestPenaltyMatchesGozxing(t *testing.T) {
	for _, v := range []int{1, 4, 11, 12, 15, 27, 40} {
		for m := 0; m < 8; m++ {
			c, err := Encode(textOfKind(3, 20*v), L, Options{MinVersion: v, MaxVersion: v, Mask: m, FixedMask: true})
			if err != nil {
				t.Fatal(err)
			}
			tpl := versionInfo(v)
			w := tpl.w
			rows := make([]uint64, c.Size*w)
			cols := make([]uint64, c.Size*w)
			bm := encoder.NewByteMatrix(c.Size, c.Size)
			for y := 0; y < c.Size; y++ {
				for x := 0; x < c.Size; x++ {
					bm.SetBool(x, y, c.Dark(x, y))
					if c.Dark(x, y) {
						rows[y*w+x/64] |= 1 << (x % 64)
						cols[x*w+y/64] |= 1 << (y % 64)
					}
				}
			}
			want := encoder.MaskUtil_applyMaskPenaltyRule1(bm) + encoder.MaskUtil_applyMaskPenaltyRule2(bm) +
				encoder.MaskUtil_applyMaskPenaltyRule3(bm) + encoder.MaskUtil_applyMaskPenaltyRule4(bm)
			if got := penalty(tpl, rows, cols); got != want {
				t.Errorf("v%d mask %d: penalty %d, gozxing %d", v, m, got, want)
			}
		}
	}
}
