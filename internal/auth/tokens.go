package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxTokenLen bounds the access tokens the parser looks at; ours are
// about 400 bytes.
const maxTokenLen = 4096

// clockLeeway tolerates clock skew between instances when checking exp,
// nbf and iat.
const clockLeeway = 5 * time.Second

// accessClaims are the claims of an access token: the registered ones
// (sub = user id, exp, iat, nbf, iss, jti) plus the role and the user's
// session version at issue time.
type accessClaims struct {
	Papel  Role  `json:"papel"`
	Versao int64 `json:"ver"`
	jwt.RegisteredClaims
}

// newParser returns the access token parser: EdDSA only, issuer, exp, nbf
// and iat required and checked against clock, strict base64.
func newParser(issuer string, clock Clock) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(clock.Now),
		jwt.WithLeeway(clockLeeway),
		jwt.WithStrictDecoding(),
	)
}

// randomToken returns n random bytes in base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueAccessToken signs an access token for u with the active key.
func (s *Service) issueAccessToken(u User) (string, error) {
	now := s.now().Truncate(time.Second)
	c := accessClaims{
		Papel:  u.Papel,
		Versao: u.versao,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.opts.Issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.AccessTTL)),
			ID:        randomToken(16),
		},
	}
	return s.sign(c)
}

// sign signs claims with the active key, naming it in the kid header.
func (s *Service) sign(c accessClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = s.keys.active.kid
	return t.SignedString(s.keys.active.priv)
}

// keyFunc picks the verifying key named by the token's kid header.
func (s *Service) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if pub, ok := s.keys.publicKey(kid); ok {
		return pub, nil
	}
	return nil, errors.New("unknown signing key")
}

// parseAccessToken checks an access token's signature, algorithm, key and
// times, and returns its claims, with the user id parsed. It does not look
// at the store (see authenticateJWT). Errors are *AuthError.
func (s *Service) parseAccessToken(tok string) (*accessClaims, int64, error) {
	if tok == "" || len(tok) > maxTokenLen {
		return nil, 0, badCredentials("token malformado")
	}
	var c accessClaims
	if _, err := s.parser.ParseWithClaims(tok, &c, s.keyFunc); err != nil {
		return nil, 0, badCredentials(tokenErrorReason(err))
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != c.Subject || c.IssuedAt == nil || c.ID == "" || !c.Papel.Valid() {
		return nil, 0, badCredentials("token inválido")
	}
	return &c, id, nil
}

// tokenErrorReason turns a parse error into a reason safe to show.
func tokenErrorReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expirado"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token ainda não válido"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token malformado"
	}
	return "token inválido"
}

// userPrincipal describes a user as a principal.
func userPrincipal(u User) *Principal {
	return &Principal{Tipo: PrincipalUser, ID: strconv.FormatInt(u.ID, 10), Nome: u.Nome, Email: u.Email,
		Papel: u.Papel, Escopos: u.Papel.Permissions()}
}
