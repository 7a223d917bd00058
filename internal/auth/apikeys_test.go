package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

func TestAPIKeys(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		clk := newClock()
		s := newService(t, st, clk)
		admin := &Principal{Tipo: PrincipalUser, ID: "1", Nome: "Admin", Papel: RoleAdmin}
		ctx := WithPrincipal(context.Background(), admin)
		k, secret, err := s.CreateAPIKey(ctx, APIKeyInput{Nome: "Leitor portão 2", Escopos: []Permission{PermQRLer, PermQRValidar, PermQRLer}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, APIKeyPrefix+k.ID+"_") || len(secret) != apiKeyLen {
			t.Fatalf("secret %q for id %s", secret, k.ID)
		}
		if !slices.Equal(k.Escopos, []Permission{PermQRLer, PermQRValidar}) || k.CriadaPor != "usuario:1" {
			t.Fatalf("key %+v", k)
		}
		var n int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM auth_chaves WHERE segredo_hash = $1 OR segredo_hash LIKE $2`,
			secret, "%"+secret[len(secret)-20:]+"%").Scan(&n); err != nil || n != 0 {
			t.Fatalf("secret stored in clear (%d, %v)", n, err)
		}

		for name, set := range map[string]func(r *http.Request){
			"bearer":       func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) },
			"header":       func(r *http.Request) { r.Header.Set("X-API-Key", secret) },
			"query":        func(r *http.Request) { r.URL.RawQuery = "token=" + secret },
			"lower bearer": func(r *http.Request) { r.Header.Set("Authorization", "bearer  "+secret) },
		} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			set(r)
			p, err := s.Authenticate(context.Background(), r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.Tipo != PrincipalAPIKey || p.ID != k.ID || !p.Can(PermQRValidar) || !p.Can(PermAuthProprio) || p.Can(PermQRGerar) || p.Can(PermUsuariosAdmin) {
				t.Fatalf("%s: principal %+v", name, p)
			}
		}

		wrong := secret[:len(secret)-2] + "AA"
		if wrong == secret {
			wrong = secret[:len(secret)-2] + "BA"
		}
		for _, bad := range []string{wrong, APIKeyPrefix + "0000000000000000_" + secret[len(secret)-43:], secret[:len(secret)-1], secret + "A",
			strings.ToUpper(secret), "pnk_"} {
			if _, err := s.authenticate(context.Background(), func(h string) string {
				if h == "X-API-Key" {
					return bad
				}
				return ""
			}, func(string) string { return "" }); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("key %q: %v", bad, err)
			}
		}

		page, err := s.ListAPIKeys(ctx, 0, "")
		if err != nil || len(page.Chaves) != 1 || page.Chaves[0].ID != k.ID || page.Chaves[0].UltimoUsoEm == nil {
			t.Fatalf("list: %+v, %v", page, err)
		}

		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := bearer(s, secret); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("revoked key: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatalf("revoke twice: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, "0123456789abcdef"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		page, _ = s.ListAPIKeys(ctx, 0, "")
		if page.Chaves[0].RevogadaEm == nil {
			t.Fatal("list does not show the revocation")
		}
		acts := strings.Join(auditActions(t, s), " ")
		if !strings.Contains(acts, "chaves.criar/sucesso") || !strings.Contains(acts, "chaves.revogar/sucesso") {
			t.Errorf("audit: %s", acts)
		}
	})
}

func TestAPIKeyScopes(t *testing.T) {
	st := openStore(t, "")
	s := newService(t, st, newClock())
	ctx := context.Background()
	for name, in := range map[string]APIKeyInput{
		"unknown": {Nome: "x", Escopos: []Permission{PermQRLer, "qr:tudo"}},
		"none":    {Nome: "x"},
	} {
		var fe *FieldError
		if _, _, err := s.CreateAPIKey(ctx, in); !errors.As(err, &fe) || fe.Field != "escopos" {
			t.Errorf("%s scopes: %v", name, err)
		}
	}
	op := WithPrincipal(ctx, &Principal{Tipo: PrincipalUser, ID: "2", Papel: RoleOperador})
	if _, _, err := s.CreateAPIKey(op, APIKeyInput{Nome: "x", Escopos: []Permission{PermBackupAdmin}}); !errors.Is(err, ErrScopeNotHeld) {
		t.Fatalf("escalation: %v", err)
	}
	if _, _, err := s.CreateAPIKey(op, APIKeyInput{Nome: "x", Escopos: []Permission{PermQRValidar}}); err != nil {
		t.Fatalf("scope the creator holds: %v", err)
	}
}

func TestAPIKeyLastUseThrottled(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	s := newService(t, st, clk)
	_, secret, err := s.CreateAPIKey(context.Background(), APIKeyInput{Nome: "PDV 1", Escopos: []Permission{PermComandaMovimentar}})
	if err != nil {
		t.Fatal(err)
	}
	lastUse := func() int64 {
		var v *int64
		if err := st.DB.QueryRow(`SELECT ultimo_uso_em FROM auth_chaves`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v == nil {
			return 0
		}
		return *v
	}
	if lastUse() != 0 {
		t.Fatal("used before use")
	}
	t0 := clk.Now().UnixMilli()
	if _, err := bearer(s, secret); err != nil {
		t.Fatal(err)
	}
	if lastUse() != t0 {
		t.Fatalf("ultimo_uso_em %d, want %d", lastUse(), t0)
	}
	for range 10 {
		clk.Advance(5 * time.Second)
		if _, err := bearer(s, secret); err != nil {
			t.Fatal(err)
		}
	}
	if lastUse() != t0 {
		t.Fatal("ultimo_uso_em written within a minute")
	}
	// Another instance (its own throttle map) does not write either.
	s2 := newService(t, st, clk)
	if _, err := bearer(s2, secret); err != nil || lastUse() != t0 {
		t.Fatalf("second instance wrote within a minute (%v)", err)
	}
	clk.Advance(11 * time.Second)
	if _, err := bearer(s, secret); err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().UnixMilli(); lastUse() != want {
		t.Fatalf("ultimo_uso_em %d after a minute, want %d", lastUse(), want)
	}
}

func TestRolesAndPrincipal(t *testing.T) {
	for _, p := range AllPermissions() {
		if !RoleAdmin.Has(p) || !p.Valid() {
			t.Errorf("admin lacks %s", p)
		}
	}
	for _, r := range Roles() {
		if !r.Has(PermAuthProprio) {
			t.Errorf("%s lacks auth:proprio", r)
		}
	}
	op := &Principal{Tipo: PrincipalUser, Papel: RoleOperador}
	for p, want := range map[Permission]bool{PermQRGerar: true, PermQRValidar: true, PermQRRevogar: false, PermComandaMovimentar: true,
		PermCacheGravar: true, PermCacheAdmin: false, PermMonitorAlterar: false, PermBackupListar: true, PermBackupAdmin: false,
		PermMetricasLer: true, PermUsuariosAdmin: false, PermAuditoriaLer: false} {
		if op.Can(p) != want {
			t.Errorf("operador Can(%s) = %v", p, !want)
		}
	}
	ro := &Principal{Tipo: PrincipalUser, Papel: RoleLeitura}
	for p, want := range map[Permission]bool{PermMonitorLer: true, PermCacheEstatisticas: true, PermBackupListar: true,
		PermMetricasLer: true, PermCacheLer: false, PermQRLer: false} {
		if ro.Can(p) != want {
			t.Errorf("leitura Can(%s) = %v", p, !want)
		}
	}
	var nobody *Principal
	if nobody.Can(PermAuthProprio) || (&Principal{Tipo: "outro", Papel: RoleAdmin}).Can(PermQRLer) || op.Can("") {
		t.Error("nil / unknown principal or empty permission allowed")
	}
	if Permission("qr:tudo").Valid() || Role("root").Valid() || Role("root").Permissions() != nil {
		t.Error("unknown permission or role valid")
	}
	ctx := WithPrincipal(context.Background(), op)
	if PrincipalFrom(ctx) != op || PrincipalFrom(context.Background()) != nil {
		t.Error("principal context")
	}
}
