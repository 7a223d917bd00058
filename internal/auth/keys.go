package auth

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the signing key file generated in the data folder when no
// key is configured. It holds one base64url Ed25519 seed per line: the
// first signs, the others only verify. Lines starting with # are comments.
const KeyFileName = "auth-ed25519.keys"

// maxKeysInFile is how many keys RotateKeyFile keeps (the new one and the
// newest older ones).
const maxKeysInFile = 4

// signingKey is one Ed25519 key with its id.
type signingKey struct {
	kid  string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newSigningKey(seed []byte) *signingKey {
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &signingKey{kid: KeyID(pub), priv: priv, pub: pub}
}

// KeyID returns the "kid" of a public key: the first 12 bytes of its
// SHA-256 in base64url (16 characters).
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// keyring signs with one active key and verifies with it and older ones.
type keyring struct {
	active *signingKey
	byKID  map[string]ed25519.PublicKey
}

func newKeyring(active []byte, older ...[]byte) *keyring {
	k := &keyring{active: newSigningKey(active), byKID: map[string]ed25519.PublicKey{}}
	k.byKID[k.active.kid] = k.active.pub
	for _, seed := range older {
		sk := newSigningKey(seed)
		k.byKID[sk.kid] = sk.pub
	}
	return k
}

// publicKey returns the verifying key named kid.
func (k *keyring) publicKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := k.byKID[kid]
	return pub, ok
}

// GenerateSigningKey returns a new random signing key in the format of
// Options.SigningKey.
func GenerateSigningKey() (string, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(seed), nil
}

// ParseSigningKey decodes a signing key: a 32-byte Ed25519 seed in base64,
// standard or URL alphabet, with or without padding.
func ParseSigningKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != ed25519.SeedSize {
				return nil, fmt.Errorf("signing key has %d bytes, want %d (a base64 Ed25519 seed)", len(b), ed25519.SeedSize)
			}
			return b, nil
		}
	}
	return nil, errors.New("signing key is not base64 (want a base64 Ed25519 seed of 32 bytes)")
}

// loadKeyring builds the keyring from the options, or from the key file in
// the data folder, creating it when missing. created reports a new file.
func loadKeyring(o Options) (k *keyring, created bool, err error) {
	var older [][]byte
	for i, s := range o.PreviousKeys {
		seed, err := ParseSigningKey(s)
		if err != nil {
			return nil, false, fmt.Errorf("previous key %d: %w", i+1, err)
		}
		older = append(older, seed)
	}
	if o.SigningKey != "" {
		seed, err := ParseSigningKey(o.SigningKey)
		if err != nil {
			return nil, false, err
		}
		return newKeyring(seed, older...), false, nil
	}
	if o.DataDir == "" {
		return nil, false, errors.New("no signing key: set a signing key or a data folder to generate one in")
	}
	seeds, created, err := loadOrCreateKeyFile(filepath.Join(o.DataDir, KeyFileName))
	if err != nil {
		return nil, false, err
	}
	return newKeyring(seeds[0], append(seeds[1:], older...)...), created, nil
}

const keyFileHeader = "# Painel Universal: Ed25519 keys that sign access tokens (base64url seeds).\n" +
	"# The first key signs; the others only verify. Keep this file secret.\n"

// loadOrCreateKeyFile reads the key file at path, or creates it with one
// new key. Creation is atomic: the key is written to a temporary file that
// is then hard-linked to path, which fails when path exists, so processes
// starting together all end up with the winner's key and nobody ever reads
// a half-written file.
func loadOrCreateKeyFile(path string) (seeds [][]byte, created bool, err error) {
	if seeds, err := readKeyFile(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return seeds, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, false, fmt.Errorf("create data folder: %w", err)
	}
	key, err := GenerateSigningKey()
	if err != nil {
		return nil, false, err
	}
	tmp, err := writeTempKeyFile(filepath.Dir(path), keyFileHeader+key+"\n")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp)
	switch err := os.Link(tmp, path); {
	case err == nil:
		created = true
		syncDir(filepath.Dir(path))
	case !errors.Is(err, fs.ErrExist):
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	seeds, err = readKeyFile(path)
	return seeds, created, err
}

// writeTempKeyFile writes content to a new 0600 file in dir, synced to
// disk, and returns its path.
func writeTempKeyFile(dir, content string) (string, error) {
	f, err := os.CreateTemp(dir, ".auth-keys-*")
	if err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write key file: %w", err)
	}
	return name, nil
}

// syncDir flushes a folder's entries to disk (best effort: not every
// platform can open a folder for syncing).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// readKeyFile parses the key file at path.
func readKeyFile(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var seeds [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		seed, err := ParseSigningKey(line)
		if err != nil {
			return nil, fmt.Errorf("key file %s line %d: %w", path, n, err)
		}
		seeds = append(seeds, seed)
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("key file %s holds no key", path)
	}
	return seeds, nil
}

// RotateKeyFile puts a new active key at the top of the key file in
// dataDir (creating it when missing), keeping the newest older keys so
// tokens they signed still verify, and returns the new key's id. Running
// instances pick it up when they restart.
func RotateKeyFile(dataDir string) (string, error) {
	path := filepath.Join(dataDir, KeyFileName)
	old, _, err := loadOrCreateKeyFile(path)
	if err != nil {
		return "", err
	}
	key, err := GenerateSigningKey()
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(keyFileHeader + key + "\n")
	for i, seed := range old {
		if i == maxKeysInFile-1 {
			break
		}
		sb.WriteString(base64.RawURLEncoding.EncodeToString(seed) + "\n")
	}
	tmp, err := writeTempKeyFile(dataDir, sb.String())
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("replace key file: %w", err)
	}
	syncDir(dataDir)
	seed, _ := ParseSigningKey(key)
	return newSigningKey(seed).kid, nil
}
