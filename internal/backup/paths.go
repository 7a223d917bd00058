package backup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// errUnsafePath is returned for a path that could escape its root.
var errUnsafePath = errors.New("caminho inseguro")

// cleanRel checks a slash-separated relative path as stored in a manifest: not empty, not
// absolute, no "." or ".." segment, no empty segment, no backslash or NUL, valid UTF-8. It is
// what restore relies on to never write outside the destination.
func cleanRel(p string) error {
	switch {
	case p == "" || len(p) > 4096:
		return fmt.Errorf("%w: %q vazio ou longo demais", errUnsafePath, p)
	case !utf8.ValidString(p) || strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("%w: %q", errUnsafePath, p)
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p) || filepath.VolumeName(p) != "":
		return fmt.Errorf("%w: %q é absoluto", errUnsafePath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q tem um segmento %q", errUnsafePath, p, seg)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("%w: %q", errUnsafePath, p)
	}
	return nil
}

// safeJoin joins a checked relative path to root and makes sure that no existing component on
// the way is a symbolic link (a link planted in the destination could redirect the write).
func safeJoin(root, rel string) (string, error) {
	if err := cleanRel(rel); err != nil {
		return "", err
	}
	full := filepath.Join(root, filepath.FromSlash(rel))
	r, err := filepath.Rel(root, full)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q sai de %s", errUnsafePath, rel, root)
	}
	cur := root
	for _, seg := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, seg)
		fi, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("%w: %q passa por um link simbólico", errUnsafePath, rel)
		}
	}
	return full, nil
}

// restoreTarget resolves a restore destination name under the restore root: a plain relative
// name (folders allowed), never absolute, never escaping the root.
func restoreTarget(root, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: destino vazio", errUnsafePath)
	}
	if filepath.IsAbs(name) {
		// An absolute path is accepted only when it is inside the root.
		r, err := filepath.Rel(root, filepath.Clean(name))
		if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%w: %q está fora de %s", errUnsafePath, name, root)
		}
		name = filepath.ToSlash(r)
	}
	return safeJoin(root, name)
}

func openDir(p string) (*os.File, error) { return os.Open(p) }
