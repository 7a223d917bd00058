package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWrittenHash: the hash is that of the file's bytes as written, piece by piece, whatever
// the sizes of the pieces and however far it trails the writer; a byte that differs on disk
// from what was meant changes it; it ends with the context, and with an error when the file
// cannot be read.
func TestWrittenHash(t *testing.T) {
	data := bytes.Repeat([]byte("painel universal backup "), 200_000) // 4.8 MB: several reads
	open := func(t *testing.T) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), "f"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, c := range []struct{ piece, lag int }{{1, 0}, {4096, 0}, {1 << 20, 0}, {1 << 20, 2 << 20},
		{3<<20 + 17, 1}, {len(data), 0}, {4096, 1 << 30}} {
		piece := c.piece
		f := open(t)
		old := hashLag
		hashLag = int64(c.lag) // 0: read as soon as written; 1 GiB: once it is all written
		w := hashWritten(context.Background(), f)
		hashLag = old
		for at := 0; at < len(data); at += piece {
			end := min(at+piece, len(data))
			if _, err := f.WriteAt(data[at:end], int64(at)); err != nil {
				t.Fatal(err)
			}
			w.advance(int64(end), false)
			if piece == 1 && at > 5000 { // byte by byte: enough of that
				if _, err := f.WriteAt(data[end:], int64(end)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		w.advance(int64(len(data)), true)
		got, err := w.result()
		if err != nil || got != sha256.Sum256(data) {
			t.Fatalf("pieces of %d, lag %d: %x, %v; want %x", piece, c.lag, got, err, sha256.Sum256(data))
		}
	}

	// What the file holds is hashed, not what the writer meant to write.
	f := open(t)
	w := hashWritten(context.Background(), f)
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'X'}, 123_456); err != nil {
		t.Fatal(err)
	}
	w.advance(int64(len(data)), true)
	if got, err := w.result(); err != nil || got == sha256.Sum256(data) {
		t.Fatalf("a changed byte: %x, %v; want another sum", got, err)
	}

	// Never told the end: the context ends it.
	f = open(t)
	ctx, cancel := context.WithCancel(context.Background())
	w = hashWritten(ctx, f)
	if _, err := f.WriteAt(data[:1000], 0); err != nil {
		t.Fatal(err)
	}
	w.advance(1000, false)
	time.AfterFunc(10*time.Millisecond, cancel)
	if _, err := w.result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}

	// Told of bytes the file does not have: a read error, not a sum.
	f = open(t)
	w = hashWritten(context.Background(), f)
	if _, err := f.WriteAt(data[:1000], 0); err != nil {
		t.Fatal(err)
	}
	w.advance(2000, true)
	if _, err := w.result(); err == nil {
		t.Fatal("a file shorter than told: no error")
	}
}
