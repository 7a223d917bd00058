package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/painel-universal/painel/internal/backup/storage"
)

const manifestPrefix = "manifests/"

// CheckManifestName reports whether name is a valid manifest name:
// [a-z0-9-]{1,64}.
func CheckManifestName(name string) error {
	if len(name) < 1 || len(name) > 64 {
		return fmt.Errorf("repo: invalid manifest name %q: want 1 to 64 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("repo: invalid manifest name %q: character %q is not one of [a-z0-9-]", name, rune(c))
		}
	}
	return nil
}

// SaveManifest stores data as the manifest name ([a-z0-9-]{1,64}),
// compressed, encrypted when the repository is (bound to its name, so
// manifests cannot be swapped) and checksummed. It flushes pending chunks
// first, so that a stored manifest never refers to chunks that are not
// stored. An existing manifest of that name is replaced.
func (r *Repo) SaveManifest(ctx context.Context, name string, data []byte) error {
	if err := CheckManifestName(name); err != nil {
		return err
	}
	if err := r.Flush(ctx); err != nil {
		return err
	}
	obj := r.c.seal(kindManifest, manifestPrefix+name, data, true, r.c.encrypted())
	if err := putObject(ctx, r.be, manifestPrefix+name, obj); err != nil {
		return fmt.Errorf("repo: saving manifest %s: %w", name, err)
	}
	return nil
}

// LoadManifest returns the data of manifest name: ErrNotFound if there is
// none, ErrCorrupt if it fails its checksum or authentication.
func (r *Repo) LoadManifest(ctx context.Context, name string) ([]byte, error) {
	if err := CheckManifestName(name); err != nil {
		return nil, err
	}
	obj, err := getObject(ctx, r.be, manifestPrefix+name)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, fmt.Errorf("%w: manifest %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("repo: reading manifest %s: %w", name, err)
	}
	data, err := r.c.open(kindManifest, manifestPrefix+name, obj, r.c.encrypted())
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", name, err)
	}
	return data, nil
}

// ListManifests returns the names of the stored manifests, sorted.
func (r *Repo) ListManifests(ctx context.Context) ([]string, error) {
	_, names, err := r.listNames(ctx, manifestPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimPrefix(n, manifestPrefix)
		if CheckManifestName(n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// DeleteManifest removes manifest name; removing a missing one is not an
// error. Its chunks stay until Prune.
func (r *Repo) DeleteManifest(ctx context.Context, name string) error {
	if err := CheckManifestName(name); err != nil {
		return err
	}
	if err := r.be.Delete(ctx, manifestPrefix+name); err != nil {
		return fmt.Errorf("repo: deleting manifest %s: %w", name, err)
	}
	return nil
}
