package qrcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // uploaded photos of codes
	_ "image/png"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// maxDecodePixels bounds the images we decode (a 12-megapixel phone photo
// passes; a 40-megapixel upload would cost seconds and hundreds of MB).
const maxDecodePixels = 12_600_000

// decodeSlots bounds concurrent decodes of uploads: each can hold ~100 MB
// while it runs.
var decodeSlots = make(chan struct{}, 2)

// ErrNoCode reports an image in which no QR code could be read.
var ErrNoCode = errors.New("nenhum QR code legível na imagem")

// DecodeImage reads the text of the QR code in img. It tries the fast
// pure-barcode path (our own renders), then a full search, then the search
// on the inverted image (light modules on a dark background).
func DecodeImage(img image.Image) (string, error) {
	b := img.Bounds()
	if b.Dx()*b.Dy() > maxDecodePixels {
		return "", fmt.Errorf("imagem grande demais (%dx%d); máximo %d pixels", b.Dx(), b.Dy(), maxDecodePixels)
	}
	text, err := decodeAttempts(img)
	if err != nil && b.Dy() > b.Dx() {
		// A code with a caption under it (as this package renders them): gozxing's detector can
		// be misled by the text (1 in 150 of the package's own captioned SVGs, rasterised, was
		// unreadable to it while zbar and ZXing-C++ read it); the square above the caption reads.
		if sub, ok := img.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok {
			text, err = decodeAttempts(sub.SubImage(image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+b.Dx())))
		}
	}
	return text, err
}

// decodeAttempts reads img's QR code as a pure code, then harder, then inverted.
func decodeAttempts(img image.Image) (string, error) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	reader := zxqr.NewQRCodeReader()
	attempts := []struct {
		src   gozxing.LuminanceSource
		hints map[gozxing.DecodeHintType]any
	}{
		{src, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}},
		{src, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}},
		{src.Invert(), map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}},
	}
	for _, a := range attempts {
		bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(a.src))
		if err != nil {
			continue
		}
		res, err := reader.Decode(bmp, a.hints)
		if err == nil {
			return res.GetText(), nil
		}
	}
	return "", ErrNoCode
}

// DecodeBytes decodes a PNG or JPEG file and reads its QR code.
func DecodeBytes(b []byte) (string, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("imagem não reconhecida (use PNG ou JPEG): %w", err)
	}
	if cfg.Width*cfg.Height > maxDecodePixels {
		return "", fmt.Errorf("imagem grande demais (%dx%d); máximo %d pixels", cfg.Width, cfg.Height, maxDecodePixels)
	}
	decodeSlots <- struct{}{}
	defer func() { <-decodeSlots }()
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("imagem corrompida: %w", err)
	}
	return DecodeImage(img)
}
