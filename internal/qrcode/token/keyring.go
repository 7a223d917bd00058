package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KeysDir is the folder, inside the directory given to LoadOrCreate, that
// holds the signing keys, one <kid>.key file each.
const KeysDir = "qr-keys"

// Keyring holds the Ed25519 keys that sign and verify tokens, by key id
// (1..255). One of them, the active key, signs; all of them verify, so
// tokens signed before a rotation stay valid. It is safe for concurrent
// use.
type Keyring struct {
	mu     sync.RWMutex
	active uint8
	priv   [256]ed25519.PrivateKey // nil where there is no key
	pub    [256]ed25519.PublicKey
	dir    string // the qr-keys folder when loaded from disk, else ""
}

// NewKeyring makes an in-memory keyring from 32-byte Ed25519 seeds by key
// id; active names the signing key. Key id 0 is reserved.
func NewKeyring(active uint8, seeds map[uint8][]byte) (*Keyring, error) {
	k := &Keyring{}
	for kid, seed := range seeds {
		if kid == 0 {
			return nil, errors.New("token: key id 0 is reserved")
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("token: key %d: seed has %d bytes, want %d", kid, len(seed), ed25519.SeedSize)
		}
		k.set(kid, seed)
	}
	if k.priv[active] == nil {
		return nil, fmt.Errorf("token: active key %d is not in the keyring", active)
	}
	k.active = active
	return k, nil
}

func (k *Keyring) set(kid uint8, seed []byte) {
	priv := ed25519.NewKeyFromSeed(seed)
	k.priv[kid] = priv
	k.pub[kid] = priv.Public().(ed25519.PublicKey)
}

// Active returns the key id that signs new tokens.
func (k *Keyring) Active() uint8 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active
}

// KeyIDs returns the key ids in the keyring, in increasing order.
func (k *Keyring) KeyIDs() []uint8 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var ids []uint8
	for kid := 1; kid < len(k.priv); kid++ {
		if k.priv[kid] != nil {
			ids = append(ids, uint8(kid))
		}
	}
	return ids
}

// LoadOrCreate loads the keys in dir/qr-keys, creating the folder (0700)
// and key 1 when there are none yet (created is then true). Each key is a
// file <kid>.key (kid 1..255, mode 0600 or stricter) holding the 32-byte
// seed in hex; the highest kid is the active one. It refuses, with an
// error naming the file, a folder or key file that group or others can
// access, a key file that is not a regular file, a badly named *.key file
// and content that is not a hex seed. Files not ending in ".key" are
// ignored.
func LoadOrCreate(dir string) (kr *Keyring, created bool, err error) {
	kdir := filepath.Join(dir, KeysDir)
	if err := os.MkdirAll(kdir, 0o700); err != nil {
		return nil, false, fmt.Errorf("token: creating key folder: %w", err)
	}
	fi, err := os.Stat(kdir)
	if err != nil {
		return nil, false, fmt.Errorf("token: key folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, false, fmt.Errorf("token: %s is not a folder", kdir)
	}
	if err := checkPerm("key folder", kdir, fi.Mode(), 0o700); err != nil {
		return nil, false, err
	}
	entries, err := os.ReadDir(kdir)
	if err != nil {
		return nil, false, fmt.Errorf("token: reading key folder: %w", err)
	}
	kr = &Keyring{dir: kdir}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".key") {
			continue
		}
		path := filepath.Join(kdir, name)
		kid, ok := parseKid(strings.TrimSuffix(name, ".key"))
		if !ok {
			return nil, false, fmt.Errorf("token: key file %s: name must be <kid>.key with kid 1..255", path)
		}
		seed, err := readKey(path)
		if err != nil {
			return nil, false, err
		}
		kr.set(kid, seed)
		kr.active = max(kr.active, kid)
	}
	if kr.active == 0 {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, false, fmt.Errorf("token: generating key: %w", err)
		}
		if err := writeKey(kdir, 1, seed); err != nil {
			return nil, false, err
		}
		kr.set(1, seed)
		kr.active = 1
		created = true
	}
	return kr, created, nil
}

// Rotate adds a new key and makes it the active one; the old keys keep
// verifying. A keyring loaded by LoadOrCreate writes the new key to its
// folder before using it. The new kid is one more than the highest; Rotate
// fails once kid 255 is in use.
func (k *Keyring) Rotate() (kid uint8, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var highest uint8
	for i := len(k.priv) - 1; i > 0; i-- {
		if k.priv[i] != nil {
			highest = uint8(i)
			break
		}
	}
	if highest == 255 {
		return 0, errors.New("token: keyring is full (key id 255 is in use)")
	}
	kid = highest + 1
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return 0, fmt.Errorf("token: generating key: %w", err)
	}
	if k.dir != "" {
		if err := writeKey(k.dir, kid, seed); err != nil {
			return 0, err
		}
	}
	k.set(kid, seed)
	k.active = kid
	return kid, nil
}

// parseKid reads a key id in canonical decimal (no sign, no leading zero).
func parseKid(s string) (uint8, bool) {
	if s == "" || s[0] == '0' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint8(n), true
}

// checkPerm refuses a file or folder that group or others can access.
// Windows has no such permission bits, so nothing is checked there.
func checkPerm(what, path string, mode fs.FileMode, want fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if mode.Perm()&0o077 != 0 {
		return fmt.Errorf("token: %s %s has mode %#o; it must not be accessible to group or others (chmod %o %s)", what, path, mode.Perm(), want, path)
	}
	return nil
}

func readKey(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("token: key file %s is not a regular file", path)
	}
	if err := checkPerm("key file", path, fi.Mode(), 0o600); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("token: key file %s must hold a %d-byte seed as %d hex digits", path, ed25519.SeedSize, 2*ed25519.SeedSize)
	}
	return seed, nil
}

// writeKey creates kdir/<kid>.key (0600) without replacing an existing
// file.
func writeKey(kdir string, kid uint8, seed []byte) error {
	path := filepath.Join(kdir, strconv.Itoa(int(kid))+".key")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("token: creating key file: %w", err)
	}
	data := []byte(hex.EncodeToString(seed) + "\n")
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("token: writing key file: %w", err)
	}
	return nil
}

// Sign returns the text of a token with claims c, signed by the active
// key (c.KeyID is ignored). It fails for an unknown kind or an expiry
// outside what a token can carry (1970-01-01T00:01Z to year 10136).
func (k *Keyring) Sign(c Claims) (string, error) {
	if !c.Kind.valid() {
		return "", fmt.Errorf("token: cannot sign %s", c.Kind)
	}
	exp, err := expiryMinutes(c.Expires)
	if err != nil {
		return "", err
	}
	k.mu.RLock()
	kid, priv := k.active, k.priv[k.active]
	k.mu.RUnlock()
	if priv == nil {
		return "", errors.New("token: keyring has no signing key")
	}
	var raw [RawSize]byte
	p := (*[PayloadSize]byte)(raw[:PayloadSize])
	putPayload(p, &c, kid, exp)
	var m [len(domain) + PayloadSize]byte
	copy(raw[PayloadSize:], ed25519.Sign(priv, message(&m, p[:])))
	return encodeDigits(&raw), nil
}

// Verify checks a token's text and returns its claims. It checks, in
// order: the shape (ErrMalformed), the key id (ErrUnknownKey), the
// signature (ErrBadSignature) and the expiry against now (ErrExpired). An
// expired token is returned with its claims and ErrExpired; on any other
// error the claims are zero.
func (k *Keyring) Verify(text string, now time.Time) (Claims, error) {
	var raw [RawSize]byte
	if err := decodeDigits(text, &raw); err != nil {
		return Claims{}, err
	}
	c, err := parsePayload(raw[:PayloadSize])
	if err != nil {
		return Claims{}, err
	}
	k.mu.RLock()
	pub := k.pub[c.KeyID]
	k.mu.RUnlock()
	if pub == nil {
		return Claims{}, ErrUnknownKey
	}
	var m [len(domain) + PayloadSize]byte
	if !ed25519.Verify(pub, message(&m, raw[:PayloadSize]), raw[PayloadSize:]) {
		return Claims{}, ErrBadSignature
	}
	if !c.Expires.IsZero() && !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}
