package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	MemoryKiB   uint32 // memory in KiB
	Iterations  uint32 // passes over the memory
	Parallelism uint8  // lanes (threads)
}

// DefaultArgon2Params returns OWASP's recommended minimum for argon2id
// (19 MiB, 2 passes, 1 lane): a few tens of milliseconds per hash on a
// current server core.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}
}

// Bounds on parameters read from a stored hash, so a corrupt or hostile
// row cannot make a login allocate gigabytes or spin for minutes.
const (
	maxArgon2MemoryKiB  = 1 << 20 // 1 GiB
	maxArgon2Iterations = 64
	saltLen             = 16
	hashLen             = 32
	maxPasswordBytes    = 1024
)

// ErrMalformedHash reports a stored password hash that is not an argon2id
// PHC string this package can verify.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// validate checks that p can be used to hash.
func (p Argon2Params) validate() error {
	switch {
	case p.MemoryKiB < 8*uint32(max(p.Parallelism, 1)) || p.MemoryKiB > maxArgon2MemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of range [8×parallelism, %d]", p.MemoryKiB, maxArgon2MemoryKiB)
	case p.Iterations < 1 || p.Iterations > maxArgon2Iterations:
		return fmt.Errorf("argon2 iterations %d out of range [1, %d]", p.Iterations, maxArgon2Iterations)
	case p.Parallelism < 1:
		return errors.New("argon2 parallelism must be at least 1")
	}
	return nil
}

// HashPassword hashes password with argon2id and a random salt, in the PHC
// string format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded
// standard base64).
func HashPassword(password string, p Argon2Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, hashLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations,
		p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string phc, and
// returns the parameters phc was made with (to decide on a rehash). A
// malformed phc is ErrMalformedHash, never a panic.
func VerifyPassword(password, phc string) (bool, Argon2Params, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, p, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, p, nil
}

// parsePHC splits an argon2id PHC string into its parameters, salt and
// hash, checking every part.
func parsePHC(phc string) (p Argon2Params, salt, hash []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	if p, err = parseArgon2Params(parts[3]); err != nil {
		return p, nil, nil, err
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	hash, err = b64.DecodeString(parts[5])
	if err != nil || len(hash) < 16 || len(hash) > 128 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, hash, nil
}

// parseArgon2Params parses "m=19456,t=2,p=1" (exactly these keys, in this
// order, as the reference implementation writes them).
func parseArgon2Params(s string) (Argon2Params, error) {
	var p Argon2Params
	kv := strings.Split(s, ",")
	if len(kv) != 3 {
		return p, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return p, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, ErrMalformedHash
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, ErrMalformedHash
	}
	p = Argon2Params{MemoryKiB: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}
	if p.validate() != nil {
		return p, ErrMalformedHash
	}
	return p, nil
}
