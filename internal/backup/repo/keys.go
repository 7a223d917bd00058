package repo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// KDFParams are the argon2id parameters that turn a passphrase into the key
// that wraps the master key.
type KDFParams struct {
	Algorithm string `json:"algorithm"` // "argon2id"
	Time      uint32 `json:"time"`      // passes
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF is what Init uses: argon2id, 3 passes over 64 MiB with 2
// threads. Deriving a key costs about 0.15-0.3 s on a current server core
// pair, which bounds Open's time.
var DefaultKDF = KDFParams{Algorithm: "argon2id", Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// kdfForInit is DefaultKDF; tests lower it to keep thousands of Opens fast.
var kdfForInit = DefaultKDF

func (p KDFParams) check() error {
	if p.Algorithm != "argon2id" {
		return fmt.Errorf("unsupported key derivation %q", p.Algorithm)
	}
	if p.Time < 1 || p.Time > 100 || p.MemoryKiB < 8 || p.MemoryKiB > 4<<20 || p.Threads < 1 {
		return fmt.Errorf("argon2id parameters out of range: time %d, memory %d KiB, threads %d", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

func (p KDFParams) derive(passphrase string, salt []byte) []byte {
	return argon2.IDKey([]byte(passphrase), salt, p.Time, p.MemoryKiB, p.Threads, 32)
}

// keyFile is the JSON payload of a keys/<id> object.
type keyFile struct {
	Created time.Time `json:"created"`
	KDF     KDFParams `json:"kdf"`
	Salt    []byte    `json:"salt"` // 16 random bytes
	// Data is nonce || AES-256-GCM(kek, master key), with the additional
	// data "painel-backup key " + repository ID + " " + object name.
	Data []byte `json:"data"`
}

func keyAD(repoID, name string) []byte {
	return []byte("painel-backup key " + repoID + " " + name)
}

// newKeyObject wraps masterKey with passphrase and returns the object name
// and bytes.
func newKeyObject(c *codec, repoID string, masterKey []byte, passphrase string, p KDFParams) (string, []byte, error) {
	var rnd [32]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", nil, err
	}
	name := "keys/" + ID(rnd).String()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", nil, err
	}
	kek, err := newAEAD(p.derive(passphrase, salt))
	if err != nil {
		return "", nil, err
	}
	kf := keyFile{Created: time.Now().UTC(), KDF: p, Salt: salt, Data: sealAEAD(kek, masterKey, keyAD(repoID, name))}
	js, err := json.Marshal(kf)
	if err != nil {
		return "", nil, err
	}
	return name, c.seal(kindKey, name, js, false, false), nil
}

// parseKeyObject checks a key object's envelope and JSON.
func parseKeyObject(c *codec, name string, obj []byte) (keyFile, error) {
	var kf keyFile
	payload, err := c.open(kindKey, name, obj, false)
	if err != nil {
		return kf, err
	}
	if err := json.Unmarshal(payload, &kf); err != nil {
		return kf, corruptf("invalid JSON: %v", err)
	}
	if err := kf.KDF.check(); err != nil {
		return kf, corruptf("%v", err)
	}
	if len(kf.Salt) < 8 || len(kf.Data) != nonceSize+32+tagSize {
		return kf, corruptf("salt or wrapped key of the wrong length")
	}
	return kf, nil
}

// unlock tries every key object with the passphrase and returns the master
// key. Corrupt key objects are skipped but reported when no key opens.
func unlock(ctx context.Context, be storage.Backend, c *codec, repoID, passphrase string) ([]byte, error) {
	var names []string
	err := be.List(ctx, "keys/", func(name string, _ int64) error {
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: listing keys: %w", err)
	}
	if len(names) == 0 {
		return nil, corruptf("the repository is encrypted but %s holds no key object (keys/)", be.Location())
	}
	var corrupt []error
	tried := 0
	for _, name := range names {
		obj, err := getObject(ctx, be, name)
		if err != nil {
			if errors.Is(err, storage.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("repo: reading %s: %w", name, err)
		}
		kf, err := parseKeyObject(c, name, obj)
		if err != nil {
			corrupt = append(corrupt, fmt.Errorf("%s: %w", name, err))
			continue
		}
		tried++
		kek, err := newAEAD(kf.KDF.derive(passphrase, kf.Salt))
		if err != nil {
			return nil, err
		}
		mk, err := openAEAD(kek, kf.Data, keyAD(repoID, name))
		if err == nil {
			return mk, nil
		}
	}
	if tried == 0 && len(corrupt) > 0 {
		return nil, fmt.Errorf("repo: no usable key in %s: %w", be.Location(), errors.Join(corrupt...))
	}
	if len(corrupt) > 0 {
		return nil, fmt.Errorf("%w (repository %s; %d key(s) tried; also: %v)", ErrWrongKey, be.Location(), tried, errors.Join(corrupt...))
	}
	return nil, fmt.Errorf("%w (repository %s; %d key(s) tried)", ErrWrongKey, be.Location(), tried)
}
