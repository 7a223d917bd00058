package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/store"
	"github.com/painel-universal/painel/internal/testenv"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testArgon are cheap parameters, so tests (under -race too) stay fast.
var testArgon = Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

const (
	adminEmail = "admin@exemplo.com.br"
	adminSenha = "senha-do-admin-1"
)

// openStore opens and migrates the store at url ("" is SQLite in a
// temporary folder).
func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// engines runs fn on SQLite and, when PAINEL_TEST_POSTGRES_URL is set, on
// a fresh PostgreSQL schema (failing instead of skipping under
// PAINEL_REQUIRE_SERVICES=1).
func engines(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, openStore(t, "")) })
	t.Run("postgres", func(t *testing.T) {
		testenv.PostgresURL(t)
		fn(t, openStore(t, testenv.FreshPostgresURL(t)))
	})
}

// newService returns a service over st with a fake clock and cheap
// hashing; mod adjusts the options.
func newService(t testing.TB, st *store.Store, clk *fakeClock, mod ...func(*Options)) *Service {
	t.Helper()
	o := Options{DataDir: t.TempDir(), Argon2: testArgon, Clock: clk}
	for _, m := range mod {
		m(&o)
	}
	s, err := NewService(st, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withAdmin creates the first admin.
func withAdmin(t testing.TB, s *Service) {
	t.Helper()
	if ok, err := s.EnsureAdmin(context.Background(), adminEmail, adminSenha); err != nil || !ok {
		t.Fatalf("EnsureAdmin = %v, %v", ok, err)
	}
}

// mustCreate creates a user.
func mustCreate(t testing.TB, s *Service, email string, papel Role) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), UserInput{Nome: "Pessoa " + email, Email: email, Papel: papel, Senha: "senha-de-" + email})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mustLogin logs a user in.
func mustLogin(t testing.TB, s *Service, email, senha string) TokenPair {
	t.Helper()
	p, err := s.Login(context.Background(), email, senha, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login(%s): %v", email, err)
	}
	return p
}

// bearer authenticates a request carrying tok as a bearer token.
func bearer(s *Service, tok string) (*Principal, error) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return s.Authenticate(context.Background(), r)
}

// fixture is the HTTP API over a service, with the permission middleware
// wired as the integrator will.
type fixture struct {
	s   *Service
	st  *store.Store
	clk *fakeClock
	h   http.Handler
	api huma.API
}

func newFixture(t testing.TB, st *store.Store, mod ...func(*Options)) *fixture {
	t.Helper()
	clk := newClock()
	s := newService(t, st, clk, mod...)
	withAdmin(t, s)
	srv := httpapi.New(httpapi.Options{})
	AddSecuritySchemes(srv.API.OpenAPI())
	perms := OperationPermissions()
	srv.API.UseMiddleware(s.Middleware(srv.API, func(op *huma.Operation) Permission { return perms[op.OperationID] }))
	Register(srv.API, s, nil)
	return &fixture{s: s, st: st, clk: clk, h: srv.Handler(), api: srv.API}
}

// do sends a request; body is a string or marshalled to JSON; hdr are
// header name/value pairs.
func (f *fixture) do(t testing.TB, method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
		ct = ""
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, path, rd)
	r.RemoteAddr = "192.0.2.10:40000"
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
		} else {
			r.Header.Set(hdr[i], hdr[i+1])
		}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// login logs in over HTTP and returns the pair.
func (f *fixture) login(t testing.TB, email, senha string) TokenPair {
	t.Helper()
	w := f.do(t, http.MethodPost, "/auth/login", map[string]string{"email": email, "senha": senha})
	if w.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, w.Code, w.Body)
	}
	var p TokenPair
	decode(t, w, &p)
	return p
}

func decode(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %q: %v", w.Body, err)
	}
}

// problem is the part of a problem document the tests look at.
type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

// expectProblem checks the status and, when loc is set, that an error
// names it.
func expectProblem(t testing.TB, w *httptest.ResponseRecorder, status int, loc string) problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	var p problem
	decode(t, w, &p)
	if loc == "" {
		return p
	}
	for _, e := range p.Errors {
		if e.Location == loc {
			return p
		}
	}
	t.Fatalf("no error at %s: %s", loc, w.Body)
	return p
}

// auditActions returns the actions in the audit log, oldest first.
func auditActions(t testing.TB, s *Service) []string {
	t.Helper()
	p, err := s.ListAudit(context.Background(), AuditFilter{Limite: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(p.Entradas) - 1; i >= 0; i-- {
		e := p.Entradas[i]
		out = append(out, e.Acao+"/"+e.Resultado)
	}
	return out
}
