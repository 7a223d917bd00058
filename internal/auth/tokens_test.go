package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/painel-universal/painel/internal/store"
)

// claimsFor returns valid claims for u at clk's time, for tests to spoil.
func claimsFor(s *Service, u User) accessClaims {
	now := s.now().Truncate(time.Second)
	return accessClaims{Papel: u.Papel, Versao: u.versao, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: s.opts.Issuer, Subject: strconv.FormatInt(u.ID, 10), ID: "jti-1",
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
	}}
}

// signWith signs claims with method and key, with header kid.
func signWith(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func flipChar(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestAccessTokenRejections(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	s := newService(t, st, clk)
	withAdmin(t, s)
	pair := mustLogin(t, s, adminEmail, adminSenha)
	if p, err := bearer(s, pair.AccessToken); err != nil || p.Email != adminEmail || p.Papel != RoleAdmin || p.Tipo != PrincipalUser {
		t.Fatalf("valid token: %+v, %v", p, err)
	}
	u, _ := s.userByEmail(context.Background(), adminEmail)
	kid := s.keys.active.kid
	priv := s.keys.active.priv
	good := claimsFor(s, u)
	parts := strings.Split(pair.AccessToken, ".")

	other := newService(t, st, clk) // its own generated key
	_, strangerKey, _ := ed25519.GenerateKey(nil)

	spoil := func(f func(c *accessClaims)) string {
		c := good
		f(&c)
		return signWith(t, jwt.SigningMethodEdDSA, priv, kid, c)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := strings.Replace(string(payload), `"papel":"admin"`, `"papel":"leitura"`, 1)

	cases := map[string]string{
		"tampered payload":          parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2],
		"tampered signature":        parts[0] + "." + parts[1] + "." + flipChar(parts[2], 5),
		"signature removed":         parts[0] + "." + parts[1] + ".",
		"wrong key":                 signWith(t, jwt.SigningMethodEdDSA, other.keys.active.priv, other.keys.active.kid, good),
		"stranger key, our kid":     signWith(t, jwt.SigningMethodEdDSA, strangerKey, kid, good),
		"unknown kid":               signWith(t, jwt.SigningMethodEdDSA, priv, "desconhecido", good),
		"no kid":                    signWith(t, jwt.SigningMethodEdDSA, priv, "", good),
		"alg none":                  signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, good),
		"HS256 with the public key": signWith(t, jwt.SigningMethodHS256, []byte(s.keys.active.pub), kid, good),
		"HS256 with the seed":       signWith(t, jwt.SigningMethodHS256, priv.Seed(), kid, good),
		"not yet valid":             spoil(func(c *accessClaims) { c.NotBefore = jwt.NewNumericDate(clk.Now().Add(time.Minute)) }),
		"issued in the future":      spoil(func(c *accessClaims) { c.IssuedAt = jwt.NewNumericDate(clk.Now().Add(time.Minute)) }),
		"no exp":                    spoil(func(c *accessClaims) { c.ExpiresAt = nil }),
		"no nbf":                    spoil(func(c *accessClaims) { c.NotBefore = nil }),
		"no iat":                    spoil(func(c *accessClaims) { c.IssuedAt = nil }),
		"wrong issuer":              spoil(func(c *accessClaims) { c.Issuer = "outro" }),
		"no jti":                    spoil(func(c *accessClaims) { c.ID = "" }),
		"bad subject":               spoil(func(c *accessClaims) { c.Subject = "01" }),
		"unknown user":              spoil(func(c *accessClaims) { c.Subject = "999" }),
		"role changed":              spoil(func(c *accessClaims) { c.Papel = RoleLeitura }),
		"unknown role":              spoil(func(c *accessClaims) { c.Papel = "root" }),
		"old session":               spoil(func(c *accessClaims) { c.Versao = 0 }),
		"empty":                     "",
		"one part":                  "abc",
		"two parts":                 "abc.def",
		"garbage":                   "a.b.c",
		"four parts":                pair.AccessToken + ".x",
		"padded":                    parts[0] + "=." + parts[1] + "." + parts[2],
		"huge":                      strings.Repeat("a", 10000),
	}
	for name, tok := range cases {
		p, err := bearer(s, tok)
		if err == nil || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: accepted (%+v, %v)", name, p, err)
		}
	}

	// Expired, by the fake clock.
	clk.Advance(s.opts.AccessTTL + clockLeeway + time.Second)
	if _, err := bearer(s, pair.AccessToken); err == nil || !strings.Contains(err.Error(), "expirado") {
		t.Errorf("expired token: %v", err)
	}
}

func TestAccessTokenRejectedWhenUserChanges(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		op := mustCreate(t, s, "op@exemplo.com.br", RoleOperador)
		fresh := func() string { return mustLogin(t, s, op.Email, "senha-de-"+op.Email).AccessToken }

		tok := fresh()
		if _, err := bearer(s, tok); err != nil {
			t.Fatal(err)
		}
		leitura := RoleLeitura
		if _, err := s.UpdateUser(ctx, op.ID, UserPatch{Papel: &leitura}); err != nil {
			t.Fatal(err)
		}
		if _, err := bearer(s, tok); err == nil {
			t.Error("token still valid after a role change")
		}

		tok = fresh()
		senha := "uma-senha-nova-1"
		if _, err := s.UpdateUser(ctx, op.ID, UserPatch{Senha: &senha}); err != nil {
			t.Fatal(err)
		}
		if _, err := bearer(s, tok); err == nil {
			t.Error("token still valid after a password change")
		}

		tok = mustLogin(t, s, op.Email, senha).AccessToken
		nome := "Outro Nome"
		if _, err := s.UpdateUser(ctx, op.ID, UserPatch{Nome: &nome}); err != nil {
			t.Fatal(err)
		}
		if p, err := bearer(s, tok); err != nil || p.Nome != nome {
			t.Errorf("after a name change: %+v, %v (want still valid, with the new name)", p, err)
		}

		off := false
		if _, err := s.UpdateUser(ctx, op.ID, UserPatch{Ativo: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := bearer(s, tok); err == nil {
			t.Error("token still valid after deactivation")
		}

		on := true
		if _, err := s.UpdateUser(ctx, op.ID, UserPatch{Ativo: &on}); err != nil {
			t.Fatal(err)
		}
		tok = mustLogin(t, s, op.Email, senha).AccessToken
		if err := s.DeleteUser(ctx, op.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := bearer(s, tok); err == nil {
			t.Error("token still valid after the user was deleted")
		}
	})
}

func TestKeyRotation(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	keyA, _ := GenerateSigningKey()
	keyB, _ := GenerateSigningKey()
	sA := newService(t, st, clk, func(o *Options) { o.SigningKey = keyA })
	withAdmin(t, sA)
	tokA := mustLogin(t, sA, adminEmail, adminSenha).AccessToken

	sB := newService(t, st, clk, func(o *Options) { o.SigningKey = keyB; o.PreviousKeys = []string{keyA} })
	if _, err := bearer(sB, tokA); err != nil {
		t.Fatalf("token of the previous key rejected: %v", err)
	}
	tokB := mustLogin(t, sB, adminEmail, adminSenha).AccessToken
	if kidOf(t, tokB) == kidOf(t, tokA) || kidOf(t, tokB) != sB.KeyID() {
		t.Fatalf("kids: A %s, B %s, active %s", kidOf(t, tokA), kidOf(t, tokB), sB.KeyID())
	}
	if _, err := bearer(sA, tokB); err == nil {
		t.Fatal("a service without key B accepted its token")
	}
	sOnlyB := newService(t, st, clk, func(o *Options) { o.SigningKey = keyB })
	if _, err := bearer(sOnlyB, tokA); err == nil {
		t.Fatal("a retired key still verifies")
	}
	if _, err := NewService(st, Options{SigningKey: "curta", Argon2: testArgon}, nil); err == nil {
		t.Fatal("bad signing key accepted")
	}
	if _, err := NewService(st, Options{Argon2: testArgon}, nil); err == nil {
		t.Fatal("no key and no data folder accepted")
	}
}

func kidOf(t testing.TB, tok string) string {
	t.Helper()
	tk, _, err := jwt.NewParser().ParseUnverified(tok, &accessClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tk.Header["kid"].(string)
	return kid
}

func TestKeyFile(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	dir := t.TempDir()
	s1 := newService(t, st, clk, func(o *Options) { o.DataDir = dir })
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	withAdmin(t, s1)
	tok1 := mustLogin(t, s1, adminEmail, adminSenha).AccessToken
	s2 := newService(t, st, clk, func(o *Options) { o.DataDir = dir })
	if s2.KeyID() != s1.KeyID() {
		t.Fatal("the key file was not reused")
	}
	kid, err := RotateKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	s3 := newService(t, st, clk, func(o *Options) { o.DataDir = dir })
	if s3.KeyID() != kid || kid == s1.KeyID() {
		t.Fatalf("after rotation the active key is %s, want %s", s3.KeyID(), kid)
	}
	if _, err := bearer(s3, tok1); err != nil {
		t.Fatalf("token of the rotated-out key rejected: %v", err)
	}
	for range maxKeysInFile + 2 {
		if _, err := RotateKeyFile(dir); err != nil {
			t.Fatal(err)
		}
	}
	seeds, err := readKeyFile(filepath.Join(dir, KeyFileName))
	if err != nil || len(seeds) != maxKeysInFile {
		t.Fatalf("after many rotations: %d keys, %v", len(seeds), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestKeyFileCreatedOnceUnderConcurrency(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "sub", KeyFileName)
		const n = 16
		var wg sync.WaitGroup
		got := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				seeds, _, err := loadOrCreateKeyFile(path)
				errs[i] = err
				if err == nil {
					got[i] = base64.RawURLEncoding.EncodeToString(seeds[0])
				}
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || got[i] != got[0] {
				t.Fatalf("round %d: process %d got key %q (%v), process 0 %q", round, i, got[i], errs[i], got[0])
			}
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Fatalf("round %d: temporary files left behind: %v", round, entries)
		}
	}
}

func TestKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	for _, content := range []string{"# only a comment\n", "not-base64!!\n", "c2hvcnQ\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadOrCreateKeyFile(path); err == nil {
			t.Errorf("key file %q accepted", content)
		}
	}
	for _, k := range []string{"", "abc", "###", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := ParseSigningKey(k); err == nil {
			t.Errorf("signing key %q accepted", k)
		}
	}
	seed := make([]byte, 32)
	seed[0] = 0xfb // '+' / '-' in base64
	for _, k := range []string{base64.StdEncoding.EncodeToString(seed), base64.URLEncoding.EncodeToString(seed),
		base64.RawStdEncoding.EncodeToString(seed), " " + base64.RawURLEncoding.EncodeToString(seed) + "\n"} {
		if got, err := ParseSigningKey(k); err != nil || got[0] != 0xfb {
			t.Errorf("signing key %q: %v", k, err)
		}
	}
}
