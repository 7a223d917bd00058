// Package storage holds the backends that the backup repository writes its
// objects to: a local folder (Local) and an S3-compatible bucket (S3).
//
// Objects are named by slash-separated relative paths made of the
// characters [a-z0-9._/-], for example "config", "keys/<hex>",
// "packs/ab/<64hex>", "index/<64hex>", "manifests/<id>" or "locks/<id>".
// CheckName gives the exact rules. Every backend behaves the same way; the
// shared conformance tests in this package check that:
//
//   - Put is atomic: a reader sees the whole new content, or the old content
//     (or no object), never a prefix. A Put whose reader fails, or whose
//     reader yields a different number of bytes than the size announced,
//     leaves no new object behind.
//   - Get, GetRange and Stat of a missing object return an error wrapping
//     ErrNotExist; Delete of a missing object returns nil.
//   - GetRange(off, length) reads the bytes [off, off+length) of the object.
//     A range that runs past the end is cut short at the end of the object
//     (a short read, not an error); an off at or beyond the end with
//     length > 0 is an error wrapping ErrInvalidRange. length == 0 gives an
//     empty reader for any off <= size.
//   - List calls fn once for every object whose name starts with prefix, in
//     no particular order, and stops at the first error fn returns, which it
//     returns unchanged.
//
// The backends do not verify what they read back beyond what the transport
// does: the repository layer hashes every chunk and object it reads.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotExist is wrapped by the errors of Get, GetRange and Stat when the
// object does not exist. Test for it with errors.Is.
var ErrNotExist = errors.New("storage: object does not exist")

// ErrInvalidName is wrapped by the errors returned for an object name (or a
// List prefix) that CheckName refuses.
var ErrInvalidName = errors.New("storage: invalid object name")

// ErrInvalidRange is wrapped by the error of GetRange when off is at or
// beyond the end of the object (and length > 0), or off or length is
// negative.
var ErrInvalidRange = errors.New("storage: invalid range")

// Backend stores named objects. Names are slash-separated relative paths of
// [a-z0-9._/-] ("config", "keys/<hex>", "packs/ab/<64hex>", "index/<64hex>",
// "manifests/<id>", "locks/<id>"). Implementations are safe for concurrent
// use.
type Backend interface {
	// Put stores the object atomically: readers see the whole new content
	// or the old/none, never a prefix (local: temp file + fsync + rename +
	// dir fsync; S3: PutObject). size may be -1 if unknown. Put must not use
	// r after it returns (the caller reuses the bytes behind it), retries
	// included: an implementation that needs to reread keeps its own copy.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	// Get opens the whole object. A missing object gives ErrNotExist.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// GetRange opens length bytes of the object starting at off (cut short
	// at the end of the object). A missing object gives ErrNotExist; off at
	// or beyond the end (with length > 0) gives ErrInvalidRange.
	GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error)
	// Stat returns the size of the object. A missing object gives
	// ErrNotExist.
	Stat(ctx context.Context, name string) (size int64, err error)
	// List calls fn for every object whose name starts with prefix, in any
	// order; it stops at fn's error and returns it.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error
	// Delete removes the object; it returns nil if the object is absent.
	Delete(ctx context.Context, name string) error
	// Location describes where the objects are, for people; it holds no
	// secrets.
	Location() string
	// Close releases the backend's resources.
	Close() error
}

// MaxNameLen is the longest object name accepted, in bytes.
const MaxNameLen = 512

// tempPrefix starts the base name of the local backend's temporary files.
// No object name has a segment starting with it, so List can skip them.
const tempPrefix = ".tmp-"

// CheckName reports whether name is a valid object name: non-empty, at most
// MaxNameLen bytes, only the characters [a-z0-9._/-], relative (no leading
// "/"), no empty segment ("a//b", trailing "/"), no ".." anywhere, no "."
// segment, and no segment starting with ".tmp-" (reserved for temporary
// files). The error wraps ErrInvalidName and says what is wrong.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	if err := checkChars(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "/") {
		return fmt.Errorf("%w %q: absolute path", ErrInvalidName, name)
	}
	for seg := range strings.SplitSeq(name, "/") {
		if err := checkSegment(name, seg); err != nil {
			return err
		}
	}
	return nil
}

// checkPrefix validates a List prefix: "" (everything), a name, or the
// beginning of one ("packs/", "packs/a"). It follows CheckName's rules
// except that it may be empty, may end with "/" and its last segment may be
// partial.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%w: prefix %q: absolute path", ErrInvalidName, prefix)
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		if i == len(segs)-1 {
			// A trailing "/" leaves an empty last segment; a partial last
			// segment such as "." or ".t" may still begin a valid name.
			if strings.HasPrefix(seg, tempPrefix) {
				return fmt.Errorf("%w: prefix %q: segment %q is reserved for temporary files", ErrInvalidName, prefix, seg)
			}
			continue
		}
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	return nil
}

func checkChars(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w %.40q...: longer than %d bytes", ErrInvalidName, name, MaxNameLen)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w %q: contains \"..\"", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '/', c == '-':
		case c == '\\':
			return fmt.Errorf("%w %q: contains a backslash", ErrInvalidName, name)
		default:
			return fmt.Errorf("%w %q: character %q at byte %d is not one of [a-z0-9._/-]", ErrInvalidName, name, rune(c), i)
		}
	}
	return nil
}

func checkSegment(name, seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("%w %q: empty path segment", ErrInvalidName, name)
	case seg == ".":
		return fmt.Errorf("%w %q: \".\" path segment", ErrInvalidName, name)
	case strings.HasPrefix(seg, tempPrefix):
		return fmt.Errorf("%w %q: segment %q is reserved for temporary files", ErrInvalidName, name, seg)
	}
	return nil
}

// checkRange validates GetRange's arguments.
func checkRange(off, length int64) error {
	if off < 0 || length < 0 {
		return fmt.Errorf("%w: off %d, length %d", ErrInvalidRange, off, length)
	}
	return nil
}

// ctxReader fails reads once ctx is done, so a long copy stops when the
// caller gives up.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readCloser joins a reader with the closer of what it reads from.
type readCloser struct {
	io.Reader
	io.Closer
}
