package qr

import (
	"bytes"
	"testing"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Format information of every (level, mask), ISO/IEC 18004 Annex C
// (Table C.1), after the 0x5412 mask.
var wantFormat = [4][8]uint32{
	L: {0x77C4, 0x72F3, 0x7DAA, 0x789D, 0x662F, 0x6318, 0x6C41, 0x6976},
	M: {0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0},
	Q: {0x355F, 0x3068, 0x3F31, 0x3A06, 0x24B4, 0x2183, 0x2EDA, 0x2BED},
	H: {0x1689, 0x13BE, 0x1CE7, 0x19D0, 0x0762, 0x0255, 0x0D0C, 0x083B},
}

func TestFormatBits(t *testing.T) {
	for l := L; l <= H; l++ {
		for m := 0; m < 8; m++ {
			if got := formatBits(l, m); got != wantFormat[l][m] {
				t.Errorf("formatBits(%v, %d) = %#04x, want %#04x", l, m, got, wantFormat[l][m])
			}
			// gozxing's decoder must read the same level and mask back.
			fi := decoder.FormatInformation_DecodeFormatInformation(uint(formatBits(l, m)), uint(formatBits(l, m)))
			if fi == nil || fi.GetErrorCorrectionLevel().String() != l.String() || int(fi.GetDataMask()) != m {
				t.Errorf("gozxing reads formatBits(%v, %d) as %v", l, m, fi)
			}
		}
	}
}

func TestVersionBits(t *testing.T) {
	// ISO/IEC 18004 Annex D, Table D.1.
	known := map[int]uint32{7: 0x07C94, 8: 0x085BC, 9: 0x09A99, 10: 0x0A4D3, 21: 0x15683, 32: 0x209D5, 40: 0x28C69}
	for v, want := range known {
		if got := versionBits(v); got != want {
			t.Errorf("versionBits(%d) = %#05x, want %#05x", v, got, want)
		}
	}
	for v := 7; v <= 40; v++ {
		if got, want := versionBits(v), uint32(decoder.VERSION_DECODE_INFO[v-7]); got != want {
			t.Errorf("versionBits(%d) = %#05x, gozxing has %#05x", v, got, want)
		}
	}
}

// TestTablesAgainstGozxing compares the capacity and alignment tables with
// the independent transcription in gozxing's decoder.
func TestTablesAgainstGozxing(t *testing.T) {
	levels := [4]decoder.ErrorCorrectionLevel{decoder.ErrorCorrectionLevel_L, decoder.ErrorCorrectionLevel_M, decoder.ErrorCorrectionLevel_Q, decoder.ErrorCorrectionLevel_H}
	for v := 1; v <= 40; v++ {
		zv, err := decoder.Version_GetVersionForNumber(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := totalCodewords(v), zv.GetTotalCodewords(); got != want {
			t.Errorf("v%d total codewords %d, want %d", v, got, want)
		}
		if got := len(versionInfo(v).dataPos); got != rawDataModules(v) {
			t.Errorf("v%d template has %d data modules, formula %d", v, got, rawDataModules(v))
		}
		centers := zv.GetAlignmentPatternCenters()
		if len(centers) != len(alignPos[v]) {
			t.Errorf("v%d alignment %v, want %v", v, alignPos[v], centers)
		} else {
			for i := range centers {
				if int(alignPos[v][i]) != centers[i] {
					t.Errorf("v%d alignment %v, want %v", v, alignPos[v], centers)
					break
				}
			}
		}
		for l := L; l <= H; l++ {
			eb := zv.GetECBlocksForLevel(levels[l])
			if got, want := int(ecPerBlock[l][v]), eb.GetECCodewordsPerBlock(); got != want {
				t.Errorf("v%d-%v EC per block %d, want %d", v, l, got, want)
			}
			if got, want := int(numBlocks[l][v]), eb.GetNumBlocks(); got != want {
				t.Errorf("v%d-%v blocks %d, want %d", v, l, got, want)
			}
			data := 0
			for _, b := range eb.GetECBlocks() {
				data += b.GetCount() * b.GetDataCodewords()
			}
			if got := dataCodewords(v, l); got != data {
				t.Errorf("v%d-%v data codewords %d, want %d", v, l, got, data)
			}
		}
	}
	// A few capacities from ISO/IEC 18004 Table 7 (data codewords).
	for _, k := range []struct {
		v    int
		l    Level
		want int
	}{{1, L, 19}, {1, M, 16}, {1, Q, 13}, {1, H, 9}, {4, M, 64}, {5, M, 86}, {10, Q, 154}, {40, L, 2956}, {40, H, 1276}} {
		if got := dataCodewords(k.v, k.l); got != k.want {
			t.Errorf("dataCodewords(%d, %v) = %d, want %d", k.v, k.l, got, k.want)
		}
	}
}

// TestAnnexIExample encodes the worked example of ISO/IEC 18004 Annex I:
// "01234567" as version 1-M.
func TestAnnexIExample(t *testing.T) {
	sc := new(scratch)
	c, err := sc.encode("01234567", M, 1, 40, -1, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || len(c.Segments) != 1 || c.Segments[0].Mode != Numeric || c.DataBits != 41 {
		t.Fatalf("got v%d %+v bits %d", c.Version, c.Segments, c.DataBits)
	}
	wantData := []byte{0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11}
	wantEC := []byte{0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55}
	if !bytes.Equal(sc.data, wantData) {
		t.Errorf("data codewords % X\nwant % X", sc.data, wantData)
	}
	if !bytes.Equal(sc.final, append(wantData, wantEC...)) {
		t.Errorf("final codewords % X\nwant % X", sc.final, append(wantData, wantEC...))
	}
}

func TestRSProperties(t *testing.T) {
	// The codeword polynomial data·x^n + ec must vanish at α^0..α^(n-1).
	for _, n := range []int{7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30} {
		data := make([]byte, 40)
		for i := range data {
			data[i] = byte(i*37 + n)
		}
		ec := make([]byte, n)
		rsRemainder(data, ec)
		cw := append(append([]byte{}, data...), ec...)
		for r := 0; r < n; r++ {
			var acc uint8
			x := gfExp[r]
			for _, c := range cw { // Horner
				acc = gfMul(acc, x) ^ c
			}
			if acc != 0 {
				t.Errorf("n=%d: codeword does not vanish at α^%d", n, r)
			}
		}
	}
}
