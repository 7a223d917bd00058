package repo

import (
	"errors"
	"fmt"
)

var (
	// ErrWrongKey is returned by Open when no key of the repository opens with
	// the given passphrase. ErrPassphraseRequired also matches it.
	ErrWrongKey = errors.New("repo: wrong passphrase: no key of this repository opens with it")

	// ErrNotInitialised is returned by Open when the backend holds no
	// repository (no "config" object).
	ErrNotInitialised = errors.New("repo: repository not initialised")

	// ErrAlreadyInitialised is returned by Init when the backend already holds
	// a repository.
	ErrAlreadyInitialised = errors.New("repo: repository already initialised")

	// ErrCorrupt is wrapped by every error about stored data that fails its
	// checks (checksum, authentication tag, format). The wrapping error names
	// the object and, for chunks, the chunk.
	ErrCorrupt = errors.New("repo: data corrupt")

	// ErrNotFound is wrapped when a chunk or manifest does not exist.
	ErrNotFound = errors.New("repo: not found")

	// ErrPassphraseRequired is returned by Open for an encrypted repository
	// when Options.Passphrase is empty. errors.Is(ErrPassphraseRequired,
	// ErrWrongKey) is true.
	ErrPassphraseRequired error = passphraseRequiredError{}
)

type passphraseRequiredError struct{}

func (passphraseRequiredError) Error() string {
	return "repo: the repository is encrypted and no passphrase was given"
}

func (passphraseRequiredError) Is(target error) bool { return target == ErrWrongKey }

// corruptf returns an error wrapping ErrCorrupt with the given details.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
