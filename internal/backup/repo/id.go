package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ID names a chunk: the SHA-256 of its plaintext. It also names packs (the
// SHA-256 of the pack object's bytes).
type ID [32]byte

// String returns the ID as 64 lower-case hexadecimal digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses the 64 hexadecimal digits that String returns.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("repo: invalid ID %q: want %d hexadecimal digits, got %d characters", s, 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("repo: invalid ID %q: %v", s, err)
	}
	return id, nil
}

// Hash returns the ID of a chunk: the SHA-256 of data.
func Hash(data []byte) ID { return sha256.Sum256(data) }

// isLowerHex reports whether s is made of lower-case hexadecimal digits only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseLowerHexID parses a 64-digit lower-case hexadecimal ID, as used in
// object names; other spellings are refused so that one object has one name.
func parseLowerHexID(s string) (ID, bool) {
	if len(s) != 64 || !isLowerHex(s) {
		return ID{}, false
	}
	id, err := ParseID(s)
	return id, err == nil
}
