// Package token issues and verifies the compact signed tokens carried by
// QR codes that grant something: check-in tickets, comandas and PDV tables.
//
// A token is an 18-byte payload followed by its 64-byte Ed25519 signature:
//
//	byte  0      format version (high 4 bits, = 1) | kind (low 4 bits)
//	byte  1      key id (kid) of the signing key
//	bytes 2..9   code id (caller's random id)
//	bytes 10..13 expiry, big-endian uint32 unix minutes (0 = no expiry)
//	bytes 14..17 scope, big-endian uint32 (caller-defined, e.g. a hash of
//	             the event id)
//
// The signature covers the domain-separation prefix "painel-qr-v1"
// followed by the payload. The 82 token bytes, read as one big-endian
// integer, are written as exactly 198 decimal digits (zero-padded), so
// the text is all digits and can be printed as a QR code in numeric mode:
// a ticket fits QR version 5 at level M (202 digits).
package token

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sizes of the token and its parts.
const (
	PayloadSize = 18                                  // bytes of signed payload
	RawSize     = PayloadSize + ed25519.SignatureSize // 82 bytes: payload || signature
	TextLen     = 198                                 // decimal digits in the text form
)

// formatVersion is the high nibble of byte 0.
const formatVersion = 1

// domain separates these signatures from any other use of the keys.
const domain = "painel-qr-v1"

// Kind says what a token grants.
type Kind uint8

// The kinds of token.
const (
	Checkin Kind = 1 // a check-in ticket
	Comanda Kind = 2 // a comanda (tab)
	Mesa    Kind = 3 // a PDV table
)

// String returns the kind's name as the API spells it.
func (k Kind) String() string {
	switch k {
	case Checkin:
		return "checkin"
	case Comanda:
		return "comanda"
	case Mesa:
		return "mesa-pdv"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k >= Checkin && k <= Mesa }

// Claims is what a token says.
type Claims struct {
	Kind  Kind
	KeyID uint8   // kid of the key that signed it; set by Verify, ignored by Sign
	ID    [8]byte // the caller's random code id
	// Expires is when the token stops being valid (it is refused from that
	// instant on). The zero time means no expiry. Tokens carry whole
	// minutes: Sign truncates to the minute and Verify returns UTC.
	Expires time.Time
	Scope   uint32 // caller-defined, e.g. a hash of the event id
}

// Errors returned by Verify; test with errors.Is.
var (
	// ErrMalformed: not 198 digits, a number too large for 82 bytes, an
	// unknown format version or an unknown kind.
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey: the token names a key id the keyring does not hold.
	ErrUnknownKey = errors.New("token: unknown key")
	// ErrBadSignature: the signature does not match the payload.
	ErrBadSignature = errors.New("token: bad signature")
	// ErrExpired: the token is authentic but expired. Verify returns the
	// claims along with it.
	ErrExpired = errors.New("token: expired")
)

// Preallocated so that rejecting garbage does not allocate.
var (
	errLength   = fmt.Errorf("%w: want %d digits", ErrMalformed, TextLen)
	errDigit    = fmt.Errorf("%w: non-digit character", ErrMalformed)
	errTooLarge = fmt.Errorf("%w: number too large", ErrMalformed)
	errVersion  = fmt.Errorf("%w: unknown format version", ErrMalformed)
	errKind     = fmt.Errorf("%w: unknown kind", ErrMalformed)
)

// Looks reports whether text has the shape of a token (198 ASCII digits).
// It says nothing about validity; use it to route scanned codes.
func Looks(text string) bool {
	if len(text) != TextLen {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return false
		}
	}
	return true
}

// maxMinutes is the last expiry minute a token can carry.
const maxMinutes = 1<<32 - 1

// expiryMinutes converts an expiry to the payload's unix minutes.
func expiryMinutes(t time.Time) (uint32, error) {
	if t.IsZero() {
		return 0, nil
	}
	sec := t.Unix()
	if sec < 60 {
		return 0, fmt.Errorf("token: expiry %s is before 1970-01-01T00:01Z", t.Format(time.RFC3339))
	}
	m := sec / 60
	if m > maxMinutes {
		return 0, fmt.Errorf("token: expiry %s is too far in the future", t.Format(time.RFC3339))
	}
	return uint32(m), nil
}

// putPayload writes the payload of c, signed by kid, into p.
func putPayload(p *[PayloadSize]byte, c *Claims, kid uint8, exp uint32) {
	p[0] = formatVersion<<4 | byte(c.Kind)
	p[1] = kid
	copy(p[2:10], c.ID[:])
	binary.BigEndian.PutUint32(p[10:14], exp)
	binary.BigEndian.PutUint32(p[14:18], c.Scope)
}

// parsePayload reads the claims from a payload, checking the format
// version and the kind.
func parsePayload(p []byte) (Claims, error) {
	if p[0]>>4 != formatVersion {
		return Claims{}, errVersion
	}
	c := Claims{Kind: Kind(p[0] & 0x0f), KeyID: p[1]}
	if !c.Kind.valid() {
		return Claims{}, errKind
	}
	copy(c.ID[:], p[2:10])
	if m := binary.BigEndian.Uint32(p[10:14]); m != 0 {
		c.Expires = time.Unix(int64(m)*60, 0).UTC()
	}
	c.Scope = binary.BigEndian.Uint32(p[14:18])
	return c, nil
}

// message returns the signed message: domain || payload.
func message(m *[len(domain) + PayloadSize]byte, payload []byte) []byte {
	copy(m[:], domain)
	copy(m[len(domain):], payload)
	return m[:]
}
