package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzService is a service with an admin, a valid access token and a
// valid API key (the only credentials that may verify).
func fuzzService(f *testing.F) (*Service, string, string) {
	f.Helper()
	s := newService(f, openStore(f, ""), newClock())
	withAdmin(f, s)
	tok := mustLogin(f, s, adminEmail, adminSenha).AccessToken
	_, key, err := s.CreateAPIKey(context.Background(), APIKeyInput{Nome: "fuzz", Escopos: []Permission{PermQRLer}})
	if err != nil {
		f.Fatal(err)
	}
	return s, tok, key
}

// tokenSeeds are access tokens that must not verify, built around good.
func tokenSeeds(f *testing.F, s *Service, good string) []string {
	u, _ := s.userByEmail(context.Background(), adminEmail)
	c := claimsFor(s, u)
	parts := strings.Split(good, ".")
	return []string{
		good[:len(good)-2] + "AA", parts[0] + "." + parts[1] + ".", parts[1] + "." + parts[0] + "." + parts[2],
		signWith(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, s.KeyID(), c),
		signWith(f, jwt.SigningMethodHS256, []byte(s.keys.active.pub), s.KeyID(), c),
		"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 5000),
	}
}

func FuzzParseAccessToken(f *testing.F) {
	s, good, _ := fuzzService(f)
	f.Add(good)
	for _, seed := range tokenSeeds(f, s, good) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, _, err := s.parseAccessToken(tok)
		if err == nil && tok != good {
			t.Fatalf("a token the signer did not produce verified: %q", tok)
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("error is not an AuthError: %v", err)
		}
	})
}

func FuzzAuthenticateHeader(f *testing.F) {
	s, good, key := fuzzService(f)
	f.Add("Bearer "+good, "", "")
	f.Add("Bearer "+key, "", "")
	f.Add("", key, "")
	f.Add("", "", good)
	f.Add("", "", key)
	f.Add("Basic YWRtaW46c2VuaGE=", key, good)
	f.Add("Bearer", "", "")
	f.Add("Bearer pnk_", "pnk_x", "pnk_")
	f.Add("bearer  "+good+" ", "", "")
	f.Add("", key[:len(key)-1]+"B", "")
	for _, seed := range tokenSeeds(f, s, good) {
		f.Add("Bearer "+seed, "", seed)
	}
	valid := map[string]bool{good: true, key: true}
	f.Fuzz(func(t *testing.T, authorization, apiKey, token string) {
		h := http.Header{}
		h.Set("Authorization", authorization)
		h.Set("X-API-Key", apiKey)
		p, err := s.authenticate(context.Background(), h.Get, func(name string) string {
			if name == "token" {
				return token
			}
			return ""
		})
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("error is not an AuthError with a reason: %v", err)
			}
			return
		}
		_, bearerTok, _ := strings.Cut(strings.TrimSpace(authorization), " ")
		if !valid[strings.TrimSpace(bearerTok)] && !valid[strings.TrimSpace(apiKey)] && !valid[token] {
			t.Fatalf("authenticated %+v from %q / %q / %q", p, authorization, apiKey, token)
		}
	})
}

func FuzzLogin(f *testing.F) {
	st := openStore(f, "")
	fx := newFixture(f, st, func(o *Options) {
		// Keep the guard out of the way so the password path is exercised.
		o.Guard = GuardOptions{MaxFailures: 1 << 30, MaxFailuresIP: 1 << 30}
	})
	json := "application/json"
	form := "application/x-www-form-urlencoded"
	f.Add(json, []byte(`{"email":"`+adminEmail+`","senha":"`+adminSenha+`"}`))
	f.Add(json, []byte(`{"email":"`+adminEmail+`","senha":"errada"}`))
	f.Add(json, []byte(`{"email":"ninguem@x.com","senha":"x"}`))
	f.Add(json, []byte(`{"email":null,"senha":1}`))
	f.Add(json, []byte(`{"email":"a\u0000","senha":"\ud800"}`))
	f.Add(json, []byte(`[{}]`))
	f.Add(json, []byte(``))
	f.Add("application/problem+json", []byte(`{}`))
	f.Add("application/json; charset=utf-8", []byte(`{"email":"a@b","senha":"c"}`))
	f.Add(form, []byte("grant_type=password&username="+adminEmail+"&password="+adminSenha))
	f.Add(form, []byte("username=%&password=%"))
	f.Add(form, []byte("grant_type=refresh_token&refresh_token=pnr_x"))
	f.Add("multipart/form-data; boundary=x", []byte("--x--"))
	f.Add("", []byte(`{"email":"a@b.com","senha":"s"}`))
	f.Add("text/plain; ;", []byte("x"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if strings.ContainsAny(contentType, "\r\n\x00") {
			return // not a valid header value: net/http would refuse the request
		}
		w := fx.do(t, http.MethodPost, "/auth/login", body, "Content-Type", contentType)
		switch w.Code {
		case 200, 400, 401, 413, 415, 422, 429:
		default:
			t.Fatalf("Content-Type %q body %q: status %d: %s", contentType, body, w.Code, w.Body)
		}
	})
}
