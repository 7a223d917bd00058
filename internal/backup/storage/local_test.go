package storage

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalBackend(t *testing.T) {
	testBackend(t, func(t *testing.T) Backend {
		be, err := OpenLocal(filepath.Join(t.TempDir(), "store"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			be.Close()
			assertNoTempFiles(t, be.Dir())
		})
		return be
	})
}

// assertNoTempFiles fails if a temporary file of Put is left under dir.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestLocalLayoutAndModes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "store")
	be, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("store folder: %v, %v; want mode 0700", fi.Mode(), err)
	}
	mustPut(t, be, "packs/ab/0123", []byte("pack"), 4)
	p := filepath.Join(dir, "packs", "ab", "0123")
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "pack" {
		t.Fatalf("object file %s: %q, %v", p, got, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("object file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, d := range []string{filepath.Join(dir, "packs"), filepath.Join(dir, "packs", "ab")} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Fatalf("folder %s mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
	if loc := be.Location(); !strings.Contains(loc, dir) {
		t.Fatalf("Location %q does not name %s", loc, dir)
	}
	// Opening again (the folder exists) works and sees the object.
	be2, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := be2.Stat(ctx, "packs/ab/0123"); err != nil || n != 4 {
		t.Fatalf("Stat through a second OpenLocal: %d, %v", n, err)
	}
	// A file where the folder should be is refused.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(file); err == nil {
		t.Fatal("OpenLocal on a file: no error")
	}
}

func TestLocalListSkipsTempAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	be, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, be, "packs/ab/real", []byte("x"), 1)
	// What a crash in the middle of Put leaves, and files put there by hand.
	for _, f := range []string{"packs/ab/.tmp-real-123", ".tmp-config-9", "packs/ab/UPPER", "packs/ab/with space", "notes.TXT"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "packs", ".tmp-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "packs", ".tmp-dir", "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "packs/", "packs/ab/"} {
		if names := listAll(t, be, prefix); len(names) != 1 || names[0] != "packs/ab/real" {
			t.Fatalf("List(%q) = %v, want only packs/ab/real", prefix, names)
		}
	}
}

func TestLocalFailedPutLeavesNoTempFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be, err := OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, size := range []int64{-1, 100} {
		r := errReader{boom}
		if err := be.Put(ctx, "packs/cd/x", r, size); !errors.Is(err, boom) {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := be.Put(ctx, "packs/cd/y", bytes.NewReader([]byte("short")), 100); err == nil {
		t.Fatal("short Put: no error")
	}
	assertNoTempFiles(t, dir)
	entries, err := os.ReadDir(filepath.Join(dir, "packs", "cd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("files left after failed Puts: %v", entries)
	}
}

func TestLocalNameConflicts(t *testing.T) {
	ctx := context.Background()
	be, err := OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, be, "a", []byte("file"), 4)
	// "a" is a file, so "a/b" cannot be stored; the error is clear and the
	// file is untouched.
	if err := be.Put(ctx, "a/b", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Fatal("Put(a/b) with a file a: no error")
	}
	if got := mustGet(t, be, "a"); string(got) != "file" {
		t.Fatalf("a changed: %q", got)
	}
	mustPut(t, be, "d/e", []byte("x"), 1)
	if err := be.Put(ctx, "d", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Fatal("Put(d) with a folder d: no error")
	}
	if err := be.Delete(ctx, "d"); err != nil {
		t.Fatalf("Delete of a folder name: %v", err)
	}
	if got := mustGet(t, be, "d/e"); string(got) != "x" {
		t.Fatalf("d/e changed: %q", got)
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"config", "keys/0a", "packs/ab/" + strings.Repeat("f", 64), "index/x", "manifests/20261128t214901z-abc123", "locks/l.1_x-y", "a.b", "a/.hidden", "x-", "_"} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
	for _, name := range badNames {
		err := CheckName(name)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q): %v, want ErrInvalidName", name, err)
		}
	}
	// The messages say what is wrong.
	for name, want := range map[string]string{
		"a/../b": `".."`,
		"/abs":   "absolute",
		"a\\b":   "backslash",
		"a//b":   "empty path segment",
		"Ab":     "'A'",
		"":       "empty name",
	} {
		if err := CheckName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckName(%q) = %v; want a message containing %s", name, err, want)
		}
	}
}
