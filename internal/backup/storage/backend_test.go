package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
)

// testBackend is the conformance suite every Backend passes. open returns
// a new, empty backend for each subtest (and arranges its cleanup).
func testBackend(t *testing.T, open func(t *testing.T) Backend) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		be := open(t)
		for _, tc := range []struct {
			name string
			data []byte
		}{
			{"empty", nil},
			{"small", []byte("hello, backup")},
			{"packs/ab/big", randBytes(1, 20<<20)},
		} {
			for _, known := range []bool{true, false} {
				size := int64(len(tc.data))
				if !known {
					size = -1
				}
				name := fmt.Sprintf("%s-%v", tc.name, known)
				mustPut(t, be, name, tc.data, size)
				got := mustGet(t, be, name)
				if !bytes.Equal(got, tc.data) {
					t.Fatalf("%s: read back %d bytes that differ from the %d written (first difference at %d)", name, len(got), len(tc.data), firstDiff(got, tc.data))
				}
				n, err := be.Stat(ctx, name)
				if err != nil || n != int64(len(tc.data)) {
					t.Fatalf("Stat(%s) = %d, %v; want %d", name, n, err, len(tc.data))
				}
			}
		}
	})

	t.Run("GetRange", func(t *testing.T) {
		be := open(t)
		data := randBytes(2, 20<<20)
		mustPut(t, be, "packs/00/range", data, int64(len(data)))
		size := int64(len(data))
		for _, r := range []struct{ off, length int64 }{
			{0, 1}, {0, 100}, {0, size}, // start
			{size / 2, 4096}, {size/2 - 1, 3}, {12345, 1 << 20}, // middle
			{size - 1, 1}, {size - 100, 100}, // end
			{size/2 + 7, 0}, {size, 0}, // empty ranges
		} {
			got := mustGetRange(t, be, "packs/00/range", r.off, r.length)
			if want := data[r.off : r.off+r.length]; !bytes.Equal(got, want) {
				t.Fatalf("GetRange(%d, %d): got %d bytes, want %d (first difference at %d)", r.off, r.length, len(got), len(want), firstDiff(got, want))
			}
		}
		// A range running past the end is a short read up to the end.
		for _, r := range []struct{ off, length int64 }{{size - 10, 100}, {0, size + 1}, {size - 1, 1 << 40}} {
			got := mustGetRange(t, be, "packs/00/range", r.off, r.length)
			if want := data[r.off:]; !bytes.Equal(got, want) {
				t.Fatalf("GetRange(%d, %d) past the end: got %d bytes, want the %d up to the end", r.off, r.length, len(got), len(want))
			}
		}
		// An offset at or past the end, or negative numbers, are errors.
		for _, r := range []struct{ off, length int64 }{{size, 1}, {size + 1, 10}, {size + 1, 0}, {-1, 10}, {0, -1}} {
			rc, err := be.GetRange(ctx, "packs/00/range", r.off, r.length)
			if err == nil {
				rc.Close()
				t.Fatalf("GetRange(%d, %d) on a %d-byte object: no error", r.off, r.length, size)
			}
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("GetRange(%d, %d) on a %d-byte object: %v, want ErrInvalidRange", r.off, r.length, size, err)
			}
		}
		// The same rules on an empty object.
		mustPut(t, be, "empty", nil, 0)
		if got := mustGetRange(t, be, "empty", 0, 0); len(got) != 0 {
			t.Fatalf("GetRange(0, 0) of an empty object gave %d bytes", len(got))
		}
		if rc, err := be.GetRange(ctx, "empty", 0, 1); !errors.Is(err, ErrInvalidRange) {
			if err == nil {
				rc.Close()
			}
			t.Fatalf("GetRange(0, 1) of an empty object: %v, want ErrInvalidRange", err)
		}
	})

	t.Run("NotExist", func(t *testing.T) {
		be := open(t)
		mustPut(t, be, "packs/ab/present", []byte("x"), 1)
		for _, name := range []string{"missing", "packs/ab/missing", "packs/zz/missing", "packs/ab/present/below", "packs/ab"} {
			if rc, err := be.Get(ctx, name); !errors.Is(err, ErrNotExist) {
				if err == nil {
					rc.Close()
				}
				t.Errorf("Get(%s): %v, want ErrNotExist", name, err)
			}
			if rc, err := be.GetRange(ctx, name, 0, 1); !errors.Is(err, ErrNotExist) {
				if err == nil {
					rc.Close()
				}
				t.Errorf("GetRange(%s): %v, want ErrNotExist", name, err)
			}
			if rc, err := be.GetRange(ctx, name, 0, 0); !errors.Is(err, ErrNotExist) {
				if err == nil {
					rc.Close()
				}
				t.Errorf("GetRange(%s, 0, 0): %v, want ErrNotExist", name, err)
			}
			if _, err := be.Stat(ctx, name); !errors.Is(err, ErrNotExist) {
				t.Errorf("Stat(%s): %v, want ErrNotExist", name, err)
			}
			if err := be.Delete(ctx, name); err != nil {
				t.Errorf("Delete(%s) of a missing object: %v", name, err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		be := open(t)
		objects := map[string]int{
			"config":          6,
			"keys/0a1b":       0,
			"index/ff00":      30,
			"packs/ab/0001":   10,
			"packs/ab/0002":   11,
			"packs/ac/0003":   12,
			"packs/b0/0004":   13,
			"manifests/m-1":   14,
			"locks/l.1_x-y":   1,
			"a/b/c/d/e/deep1": 2,
		}
		for name, n := range objects {
			mustPut(t, be, name, randBytes(uint64(n), n), int64(n))
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"", sortedKeys(objects)},
			{"packs/", []string{"packs/ab/0001", "packs/ab/0002", "packs/ac/0003", "packs/b0/0004"}},
			{"packs", []string{"packs/ab/0001", "packs/ab/0002", "packs/ac/0003", "packs/b0/0004"}},
			{"packs/a", []string{"packs/ab/0001", "packs/ab/0002", "packs/ac/0003"}},
			{"packs/ab/", []string{"packs/ab/0001", "packs/ab/0002"}},
			{"packs/ab/0002", []string{"packs/ab/0002"}},
			{"packs/ab/00020", nil},
			{"p", []string{"packs/ab/0001", "packs/ab/0002", "packs/ac/0003", "packs/b0/0004"}},
			{"a/b/c/", []string{"a/b/c/d/e/deep1"}},
			{"c", []string{"config"}},
			{"config/", nil},
			{"nothing/", nil},
			{"nothing/at/all", nil},
			{"z", nil},
		} {
			seen := map[string]int{}
			err := be.List(ctx, tc.prefix, func(name string, size int64) error {
				seen[name]++
				if want, ok := objects[name]; !ok || int64(want) != size {
					t.Errorf("List(%q) gave %s of %d bytes; want size %d (known: %v)", tc.prefix, name, size, want, ok)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", tc.prefix, err)
			}
			var got []string
			for name, n := range seen {
				if n != 1 {
					t.Errorf("List(%q) gave %s %d times", tc.prefix, name, n)
				}
				got = append(got, name)
			}
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("List(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
		}
		// fn's error stops the listing and comes back unchanged.
		stop := errors.New("stop here")
		calls := 0
		err := be.List(ctx, "", func(string, int64) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Fatalf("List with a failing fn: err %v after %d calls; want %v after 1", err, calls, stop)
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		be := open(t)
		mustPut(t, be, "manifests/x", []byte("first version, rather long"), -1)
		mustPut(t, be, "manifests/x", []byte("second"), 6)
		if got := mustGet(t, be, "manifests/x"); string(got) != "second" {
			t.Fatalf("after overwrite: %q", got)
		}
		if n, err := be.Stat(ctx, "manifests/x"); err != nil || n != 6 {
			t.Fatalf("Stat after overwrite: %d, %v", n, err)
		}
		mustPut(t, be, "manifests/x", nil, 0)
		if got := mustGet(t, be, "manifests/x"); len(got) != 0 {
			t.Fatalf("after overwrite with nothing: %q", got)
		}
		if names := listAll(t, be, ""); fmt.Sprint(names) != "[manifests/x]" {
			t.Fatalf("List after overwrites: %v", names)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		be := open(t)
		mustPut(t, be, "locks/a", []byte("a"), 1)
		mustPut(t, be, "locks/b", []byte("b"), 1)
		for range 2 { // the second time the object is already gone
			if err := be.Delete(ctx, "locks/a"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
		if _, err := be.Stat(ctx, "locks/a"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("Stat after Delete: %v", err)
		}
		if names := listAll(t, be, ""); fmt.Sprint(names) != "[locks/b]" {
			t.Fatalf("List after Delete: %v", names)
		}
		mustPut(t, be, "locks/a", []byte("again"), 5)
		if got := mustGet(t, be, "locks/a"); string(got) != "again" {
			t.Fatalf("Put after Delete: %q", got)
		}
	})

	t.Run("BadNames", func(t *testing.T) {
		be := open(t)
		for _, name := range badNames {
			if err := be.Put(ctx, name, bytes.NewReader([]byte("x")), 1); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Put(%q): %v, want ErrInvalidName", name, err)
			}
			if rc, err := be.Get(ctx, name); !errors.Is(err, ErrInvalidName) {
				if err == nil {
					rc.Close()
				}
				t.Errorf("Get(%q): %v, want ErrInvalidName", name, err)
			}
			if rc, err := be.GetRange(ctx, name, 0, 1); !errors.Is(err, ErrInvalidName) {
				if err == nil {
					rc.Close()
				}
				t.Errorf("GetRange(%q): %v, want ErrInvalidName", name, err)
			}
			if _, err := be.Stat(ctx, name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Stat(%q): %v, want ErrInvalidName", name, err)
			}
			if err := be.Delete(ctx, name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Delete(%q): %v, want ErrInvalidName", name, err)
			}
		}
		for _, prefix := range []string{"/", "/packs", "../", "a/../", "A", "a//", "a\\", ".tmp-", "a/.tmp-x"} {
			if err := be.List(ctx, prefix, func(string, int64) error { return nil }); !errors.Is(err, ErrInvalidName) {
				t.Errorf("List(%q): %v, want ErrInvalidName", prefix, err)
			}
		}
		if names := listAll(t, be, ""); len(names) != 0 {
			t.Fatalf("bad names stored something: %v", names)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		be := open(t)
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				name := fmt.Sprintf("packs/%02d/obj-%d", i%3, i)
				data := randBytes(uint64(100+i), 50_000+i*1000)
				if err := be.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := range n {
			name := fmt.Sprintf("packs/%02d/obj-%d", i%3, i)
			if got, want := mustGet(t, be, name), randBytes(uint64(100+i), 50_000+i*1000); !bytes.Equal(got, want) {
				t.Fatalf("%s: read back differs", name)
			}
		}
		if names := listAll(t, be, "packs/"); len(names) != n {
			t.Fatalf("List after concurrent Puts: %d names, want %d", len(names), n)
		}
	})

	t.Run("FailedPut", func(t *testing.T) {
		be := open(t)
		boom := errors.New("reader broke")
		failing := func() io.Reader {
			return io.MultiReader(bytes.NewReader(randBytes(3, 3<<20)), errReader{boom})
		}
		for _, size := range []int64{-1, 4 << 20} {
			err := be.Put(ctx, "packs/ff/failed", failing(), size)
			if !errors.Is(err, boom) {
				t.Fatalf("Put with a failing reader (size %d): %v, want the reader's error", size, err)
			}
		}
		if _, err := be.Stat(ctx, "packs/ff/failed"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("a failed Put left an object: Stat gives %v", err)
		}
		if names := listAll(t, be, ""); len(names) != 0 {
			t.Fatalf("a failed Put left objects in List: %v", names)
		}
		// A failed overwrite keeps the old content.
		mustPut(t, be, "manifests/keep", []byte("old content"), -1)
		if err := be.Put(ctx, "manifests/keep", failing(), -1); !errors.Is(err, boom) {
			t.Fatalf("overwrite with a failing reader: %v", err)
		}
		if got := mustGet(t, be, "manifests/keep"); string(got) != "old content" {
			t.Fatalf("a failed overwrite changed the object to %d bytes", len(got))
		}
		// A reader shorter or longer than announced stores nothing.
		for _, tc := range []struct {
			data []byte
			size int64
		}{{[]byte("12345"), 10}, {[]byte("123456789012345"), 10}, {nil, 1}, {[]byte("x"), 0}} {
			if err := be.Put(ctx, "index/mismatch", bytes.NewReader(tc.data), tc.size); err == nil {
				t.Fatalf("Put of %d bytes announced as %d: no error", len(tc.data), tc.size)
			}
		}
		if _, err := be.Stat(ctx, "index/mismatch"); !errors.Is(err, ErrNotExist) {
			t.Fatalf("a Put with the wrong size left an object: Stat gives %v", err)
		}
		// A cancelled context stores nothing.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := be.Put(cctx, "index/cancelled", bytes.NewReader([]byte("x")), 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context: %v", err)
		}
		if names := listAll(t, be, ""); fmt.Sprint(names) != "[manifests/keep]" {
			t.Fatalf("failed Puts left objects in List: %v", names)
		}
	})

	t.Run("Location", func(t *testing.T) {
		be := open(t)
		if be.Location() == "" {
			t.Fatal("empty Location")
		}
	})
}

// badNames are refused by every method that takes a name.
var badNames = []string{
	"", "/abs", "/", "..", "../x", "a/../b", "a/..", "a..b", ".", "./a", "a/./b",
	"a\\b", "\\a", "A", "packs/AB/x", "a//b", "a/", "a b", "é", "a\x00b", "a:b",
	".tmp-x", "a/.tmp-y", "a/.tmp-y/b", string(make([]byte, MaxNameLen+1)),
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func mustPut(t *testing.T, be Backend, name string, data []byte, size int64) {
	t.Helper()
	if err := be.Put(context.Background(), name, bytes.NewReader(data), size); err != nil {
		t.Fatalf("Put(%s, %d bytes, size %d): %v", name, len(data), size, err)
	}
}

func mustGet(t *testing.T, be Backend, name string) []byte {
	t.Helper()
	rc, err := be.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%s): read: %v", name, err)
	}
	return b
}

func mustGetRange(t *testing.T, be Backend, name string, off, length int64) []byte {
	t.Helper()
	rc, err := be.GetRange(context.Background(), name, off, length)
	if err != nil {
		t.Fatalf("GetRange(%s, %d, %d): %v", name, off, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("GetRange(%s, %d, %d): read: %v", name, off, length, err)
	}
	return b
}

func listAll(t *testing.T, be Backend, prefix string) []string {
	t.Helper()
	var names []string
	err := be.List(context.Background(), prefix, func(name string, _ int64) error {
		names = append(names, name)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	sort.Strings(names)
	return names
}
