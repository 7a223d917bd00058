package backup

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// TestFileHasher: the sums match crypto/sha256 and crypto/md5 for sizes around the block size
// (inline, one block, several blocks on the goroutines, more blocks than the hasher owns),
// written in pieces of every size, with and without MD5; the blocks go back to the pool.
func TestFileHasher(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, fileHashBlocks*3*fileHashBlock+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, size := range []int{0, 1, fileHashBlock - 1, fileHashBlock, fileHashBlock + 1, 2*fileHashBlock + 7, len(data)} {
		for _, piece := range []int{1 << 10, 4096, fileHashBlock + 3, 3 * fileHashBlock} {
			if size > 4*fileHashBlock && piece == 1<<10 {
				continue // slow and adds nothing
			}
			for _, withMD5 := range []bool{true, false} {
				h := newFileHasher(withMD5)
				for p := data[:size]; len(p) > 0; {
					n := min(piece, len(p))
					if _, err := h.Write(p[:n]); err != nil {
						t.Fatal(err)
					}
					p = p[n:]
				}
				gotSHA, gotMD5 := h.sums()
				wantSHA := sha256.Sum256(data[:size])
				wantMD5 := md5.Sum(data[:size])
				if gotSHA != hex.EncodeToString(wantSHA[:]) {
					t.Fatalf("size %d, pieces of %d, md5 %v: SHA-256 %s, want %x", size, piece, withMD5, gotSHA, wantSHA)
				}
				if withMD5 && gotMD5 != hex.EncodeToString(wantMD5[:]) || !withMD5 && gotMD5 != "" {
					t.Fatalf("size %d, pieces of %d, md5 %v: MD5 %q, want %x", size, piece, withMD5, gotMD5, wantMD5)
				}
				h.stop() // a second stop is harmless
				if h.cur != nil {
					t.Fatal("a block was kept after stop")
				}
			}
		}
	}
}

// TestFileHasherBuffers: blocks lent to the caller (buffer, sendBuffer), filled in full or in
// part, more of them than the hasher owns, sum to crypto/sha256 and crypto/md5 of the bytes
// written into them; a buffer taken and never sent adds nothing.
func TestFileHasherBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := make([]byte, (fileHashBlocks+3)*fileHashBlock+4321)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, fill := range []int{fileHashBlock, fileHashBlock / 2, 4096} {
		for _, size := range []int{0, 100, fileHashBlock, len(data)} {
			h := newFileHasher(true)
			for p := data[:size]; len(p) > 0; {
				b := h.buffer()
				if len(b) != 0 || cap(b) < fileHashBlock {
					t.Fatalf("buffer of length %d, capacity %d", len(b), cap(b))
				}
				n := copy(b[:min(fill, cap(b))], p)
				h.sendBuffer(b[:n])
				p = p[n:]
			}
			// A buffer taken and filled, then abandoned (a read that failed).
			b := h.buffer()
			copy(b[:cap(b)], data)
			gotSHA, gotMD5 := h.sums()
			wantSHA, wantMD5 := sha256.Sum256(data[:size]), md5.Sum(data[:size])
			if gotSHA != hex.EncodeToString(wantSHA[:]) || gotMD5 != hex.EncodeToString(wantMD5[:]) {
				t.Fatalf("fills of %d, %d bytes: sums %s %s, want %x %x", fill, size, gotSHA, gotMD5, wantSHA, wantMD5)
			}
		}
	}
}
