package backup

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestNextWriteAdvance: the writes writeBuffers issues stay within maxIovecs buffers and
// maxWriteBytes bytes, span no cut (writeCut + k*maxWriteBytes), and, whatever part of each the
// kernel takes, they put every byte in order (buffers longer than a write, empty ones, runs of
// tiny ones).
func TestNextWriteAdvance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	pool := make([]byte, 3*maxWriteBytes)
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	for trial := range 12 {
		var bufs [][]byte
		want := make([]byte, 0, 16<<20)
		for range rng.IntN(3000) {
			var n int
			switch rng.IntN(500) {
			case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9:
				n = 0
			case 10:
				n = maxWriteBytes + rng.IntN(2*maxWriteBytes) // longer than one write
			default:
				n = rng.IntN(600)
			}
			at := rng.IntN(len(pool) - n + 1)
			b := pool[at : at+n : at+n]
			bufs = append(bufs, b)
			want = append(want, b...)
		}
		got := make([]byte, 0, len(want))
		var iov [][]byte
		off := 0
		pos := int64(rng.IntN(3 * maxWriteBytes)) // where the file's offset starts
		for {
			bufs, off = advance(bufs, off, 0)
			if len(bufs) == 0 {
				break
			}
			iov = nextWrite(iov[:0], bufs, off, writeLimit(pos))
			size := 0
			for _, b := range iov {
				size += len(b)
			}
			if len(iov) > maxIovecs || size > maxWriteBytes || size == 0 {
				t.Fatalf("trial %d: a write of %d buffers, %d bytes", trial, len(iov), size)
			}
			for c := int64(writeCut); c < pos+int64(size); c += maxWriteBytes {
				if c > pos {
					t.Fatalf("trial %d: a write of %d bytes at %d spans the cut at %d", trial, size, pos, c)
				}
			}
			n := size
			if trial%2 == 1 {
				n = 1 + rng.IntN(size) // a short write
			}
			left := n
			for _, b := range iov {
				k := min(left, len(b))
				got = append(got, b[:k]...)
				if left -= k; left == 0 {
					break
				}
			}
			pos += int64(n)
			bufs, off = advance(bufs, off, n)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d: %d bytes written, want %d (or different content)", trial, len(got), len(want))
		}
	}
}
