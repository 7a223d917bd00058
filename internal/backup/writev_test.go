package backup

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteBuffers: more buffers than one writev takes, of assorted sizes (some empty), land in
// the file in order, after what was there.
func TestWriteBuffers(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("head:")); err != nil {
		t.Fatal(err)
	}
	want := []byte("head:")
	var bufs [][]byte
	for i := range 3*1024 + 7 { // more than IOV_MAX
		b := bytes.Repeat([]byte{byte(i)}, i%13*37)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	if err := writeBuffers(f, 5, bufs); err != nil {
		t.Fatal(err)
	}
	if err := writeBuffers(f, int64(len(want)), nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file has %d bytes, want %d (or different content)", len(got), len(want))
	}

	// A closed file is an error, not a panic.
	f.Close()
	if err := writeBuffers(f, 0, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("writeBuffers to a closed file succeeded")
	}
}
