package qr

import (
	"strings"
	"testing"
)

func benchmarkEncode(b *testing.B, text string, level Level, wantVersion int) {
	c, err := Encode(text, level, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if c.Version != wantVersion {
		b.Fatalf("version %d, want %d", c.Version, wantVersion)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(text, level, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeURLv4: the product URL, version 4 at level M.
func BenchmarkEncodeURLv4(b *testing.B) { benchmarkEncode(b, textURL, M, 4) }

// BenchmarkEncodeTicket198Digits: a 198-digit ticket, version 5 at level M.
func BenchmarkEncodeTicket198Digits(b *testing.B) {
	benchmarkEncode(b, strings.Repeat("0123456789", 19)+"01234567", M, 5)
}

// BenchmarkEncodeV40: the largest symbol (multi-word rows in the penalty).
func BenchmarkEncodeV40(b *testing.B) {
	benchmarkEncode(b, strings.Repeat("lorem ipsum dolor sit amet 2026 ", 90), L, 40)
}
