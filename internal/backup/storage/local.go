package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// notDir is the error of opening "a/b" when "a" is a file: for an object
// name, the same as "does not exist".
var notDir = syscall.ENOTDIR

// Local is a Backend that keeps each object as a file under a folder: the
// object "packs/ab/cd" is the file <dir>/packs/ab/cd. Folders are created as
// needed with mode 0700, files with mode 0600.
//
// Put writes a temporary file (".tmp-<base>-<random>") in the object's
// folder, fsyncs it, renames it over the object and fsyncs the folder, so a
// crash leaves either the old or the new object, plus at worst a temporary
// file that List ignores. Because objects are files, a name cannot be both
// an object and a folder of objects ("a" and "a/b"); the repository's names
// never are.
type Local struct {
	dir string
}

var _ Backend = (*Local)(nil)

// OpenLocal opens the local backend rooted at dir, creating dir (mode 0700,
// with its missing parents) if it does not exist.
func OpenLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: local: empty folder path")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("storage: local: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("storage: local: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("storage: local %s: not a folder", abs)
	}
	return &Local{dir: abs}, nil
}

// Dir returns the absolute path of the backend's folder.
func (l *Local) Dir() string { return l.dir }

// Location returns "local <dir>".
func (l *Local) Location() string { return "local " + l.dir }

// Close does nothing: Local holds no resources between calls.
func (l *Local) Close() error { return nil }

// path maps a checked object name to its file path.
func (l *Local) path(name string) string {
	return filepath.Join(l.dir, filepath.FromSlash(name))
}

// Put stores r as the object name, atomically (see Local). When size >= 0
// the reader must yield exactly size bytes, otherwise nothing is stored.
func (l *Local) Put(ctx context.Context, name string, r io.Reader, size int64) (err error) {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	dst := l.path(name)
	dir := filepath.Dir(dst)
	if err := l.mkdirAll(dir); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	base := filepath.Base(dst)
	base = base[:min(len(base), 100)] // keep within the 255-byte file name limit
	f, err := os.CreateTemp(dir, tempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; say so explicitly in case that changes.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		// Read one byte more than announced to notice a longer stream.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("storage: put %s: reader gave %s bytes, announced %d", name, countDesc(n, size), size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("storage: put %s: %w", name, err)
	}
	return nil
}

// countDesc describes a byte count that differs from the expected one,
// knowing that the copy stopped one byte past it.
func countDesc(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

// mkdirAll creates dir (inside l.dir) and its missing parents with mode
// 0700, fsyncing the folder that receives each new entry.
func (l *Local) mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a folder", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if dir == l.dir || parent == dir {
		return os.MkdirAll(dir, 0o700)
	}
	if err := l.mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir fsyncs a folder so that entries created or renamed in it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// open opens the object's file for reading and returns its size. A missing
// file, or a folder, is ErrNotExist.
func (l *Local) open(op, name string) (*os.File, int64, error) {
	if err := CheckName(name); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(l.path(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDir) {
			return nil, 0, fmt.Errorf("storage: %s %s: %w", op, name, ErrNotExist)
		}
		return nil, 0, fmt.Errorf("storage: %s %s: %w", op, name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("storage: %s %s: %w", op, name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("storage: %s %s: not a file: %w", op, name, ErrNotExist)
	}
	return f, fi.Size(), nil
}

// Get opens the object's file.
func (l *Local) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", name, err)
	}
	f, _, err := l.open("get", name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// GetRange opens length bytes of the object's file from off (see the
// package documentation for ranges past the end).
func (l *Local) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := checkRange(off, length); err != nil {
		return nil, fmt.Errorf("storage: get range %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: get range %s: %w", name, err)
	}
	f, size, err := l.open("get range", name)
	if err != nil {
		return nil, err
	}
	if off > size || (off == size && length > 0) {
		f.Close()
		return nil, fmt.Errorf("storage: get range %s: offset %d of a %d-byte object: %w", name, off, size, ErrInvalidRange)
	}
	length = min(length, size-off)
	return readCloser{io.NewSectionReader(f, off, length), f}, nil
}

// Stat returns the size of the object's file.
func (l *Local) Stat(ctx context.Context, name string) (int64, error) {
	if err := CheckName(name); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: stat %s: %w", name, err)
	}
	fi, err := os.Stat(l.path(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDir) {
			return 0, fmt.Errorf("storage: stat %s: %w", name, ErrNotExist)
		}
		return 0, fmt.Errorf("storage: stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("storage: stat %s: not a file: %w", name, ErrNotExist)
	}
	return fi.Size(), nil
}

// List walks the folder below prefix and calls fn for every object file
// whose name starts with prefix. Temporary files, and files whose names are
// not valid object names (left there by something else), are skipped.
func (l *Local) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	// Walk only the deepest folder that the prefix names completely.
	root := l.dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		root = l.path(prefix[:i])
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDir)) {
				return fs.SkipAll // nothing stored under this prefix
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), tempPrefix) && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) || CheckName(name) != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while we walked
			}
			return err
		}
		if err := fn(name, fi.Size()); err != nil {
			return &fnErr{err}
		}
		return nil
	})
	var fe *fnErr
	if errors.As(err, &fe) {
		return fe.err
	}
	if err != nil {
		return fmt.Errorf("storage: list %q: %w", prefix, err)
	}
	return nil
}

// fnErr carries the error of List's callback through WalkDir, so that List
// returns it unchanged.
type fnErr struct{ err error }

func (e *fnErr) Error() string { return fmt.Sprint(e.err) }

// Delete removes the object's file; a missing file is not an error.
func (l *Local) Delete(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: delete %s: %w", name, err)
	}
	p := l.path(name)
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, notDir) {
			return nil
		}
		return fmt.Errorf("storage: delete %s: %w", name, err)
	}
	if fi.IsDir() {
		return nil // a folder of objects is not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", name, err)
	}
	return nil
}
