package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCleanRel(t *testing.T) {
	for _, ok := range []string{"a", "dados/x.json", "banco/painel.db", "a/b/c d/é.txt", "..a/b..", ".hidden"} {
		if err := cleanRel(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a/..", "./a", "a//b", "a/./b", "a/", "a\\..\\b",
		"a\x00b", "\xff", "C:/x"} {
		if err := cleanRel(bad); err == nil && bad != "C:/x" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSafeJoinRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := safeJoin(root, "link/evil.txt"); err == nil {
		t.Fatal("a path through a symlink was accepted")
	}
	if err := os.WriteFile(filepath.Join(outside, "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "f"), filepath.Join(root, "file-link")); err != nil {
		t.Fatal(err)
	}
	if _, err := safeJoin(root, "file-link"); err == nil {
		t.Fatal("a symlinked file was accepted as a target")
	}
	p, err := safeJoin(root, "sub/dir/file")
	if err != nil || p != filepath.Join(root, "sub", "dir", "file") {
		t.Fatalf("%q %v", p, err)
	}
}

func TestRestoreTarget(t *testing.T) {
	root := t.TempDir()
	for name, ok := range map[string]bool{
		"r1": true, "2026/11/r1": true, filepath.Join(root, "abs-inside"): true,
		"": false, "../fora": false, "a/../../fora": false, "/etc": false, root: false, filepath.Dir(root): false,
	} {
		_, err := restoreTarget(root, name)
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", name, err, ok)
		}
	}
}

func TestWithoutCompanions(t *testing.T) {
	srcs := []source{
		{abs: "/d/app.db", sqlite: true}, {abs: "/d/app.db-wal"}, {abs: "/d/app.db-shm"}, {abs: "/d/app.db-journal"},
		{abs: "/d/notes.txt"}, {abs: "/d/notes.txt-wal"}, {abs: "/d/other.db-wal"},
	}
	var got []string
	for _, s := range withoutCompanions(srcs) {
		got = append(got, s.abs)
	}
	want := []string{"/d/app.db", "/d/notes.txt", "/d/notes.txt-wal", "/d/other.db-wal"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("withoutCompanions = %v, want %v", got, want)
	}
}
