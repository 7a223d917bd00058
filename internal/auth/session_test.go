package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

func TestRefreshRotationAndReuse(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		p1 := mustLogin(t, s, adminEmail, adminSenha)
		if !strings.HasPrefix(p1.RefreshToken, RefreshPrefix) || len(p1.RefreshToken) != 47 || p1.TokenType != "bearer" || p1.ExpiresIn != 900 {
			t.Fatalf("pair %+v", p1)
		}
		var stored int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM auth_refresh_tokens WHERE hash = $1`, p1.RefreshToken).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("refresh token stored in clear (%d, %v)", stored, err)
		}
		p2, err := s.Refresh(ctx, p1.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if p2.RefreshToken == p1.RefreshToken || p2.AccessToken == p1.AccessToken {
			t.Fatal("refresh did not rotate")
		}
		if _, err := bearer(s, p2.AccessToken); err != nil {
			t.Fatalf("refreshed access token: %v", err)
		}
		p3, err := s.Refresh(ctx, p2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		// A second session of the same user is not touched by what follows.
		other := mustLogin(t, s, adminEmail, adminSenha)

		// p1's token was rotated: presenting it again revokes the family.
		if _, err := s.Refresh(ctx, p1.RefreshToken); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("reuse: %v, want ErrRefreshReused", err)
		}
		if _, err := s.Refresh(ctx, p3.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
			t.Fatalf("newest token of a revoked family: %v, want ErrRefreshInvalid", err)
		}
		if _, err := s.Refresh(ctx, p1.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
			t.Fatalf("reuse after revocation: %v", err)
		}
		if _, err := s.Refresh(ctx, other.RefreshToken); err != nil {
			t.Fatalf("another session was revoked too: %v", err)
		}
		for _, bad := range []string{"", "pnr_", "pnr_x", p1.RefreshToken + "x", "pnr_" + strings.Repeat("A", 43), strings.Replace(p3.RefreshToken, "pnr_", "xyz_", 1)} {
			if _, err := s.Refresh(ctx, bad); !errors.Is(err, ErrRefreshInvalid) {
				t.Errorf("Refresh(%q) = %v", bad, err)
			}
		}
		acts := strings.Join(auditActions(t, s), " ")
		if !strings.Contains(acts, "auth.refresh.reuso/negado") {
			t.Errorf("reuse not audited: %s", acts)
		}
	})
}

func TestRefreshConcurrentUseRevokes(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		p := mustLogin(t, s, adminEmail, adminSenha)
		const n = 8
		var wg sync.WaitGroup
		results := make([]error, n)
		pairs := make([]TokenPair, n)
		for i := range n {
			wg.Go(func() { pairs[i], results[i] = s.Refresh(ctx, p.RefreshToken) })
		}
		wg.Wait()
		ok := 0
		for i, err := range results {
			switch {
			case err == nil:
				ok++
				if _, err := s.Refresh(ctx, pairs[i].RefreshToken); err == nil {
					t.Error("the winner's new token survived the concurrent reuse")
				}
			case !errors.Is(err, ErrRefreshReused) && !errors.Is(err, ErrRefreshInvalid):
				t.Errorf("concurrent refresh: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent refreshes of one token succeeded, want 1", ok)
		}
	})
}

func TestRefreshExpiryAndPrune(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	s := newService(t, st, clk, func(o *Options) { o.RefreshTTL = time.Hour })
	withAdmin(t, s)
	p := mustLogin(t, s, adminEmail, adminSenha)
	clk.Advance(time.Hour + time.Second)
	if _, err := s.Refresh(context.Background(), p.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
		t.Fatalf("expired refresh token: %v", err)
	}
	count := func(table string) int {
		var n int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.Prune(context.Background()); err != nil || count("auth_refresh_tokens") != 1 {
		t.Fatalf("prune within the grace period removed the token (%v)", err)
	}
	clk.Advance(pruneGrace)
	if err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, m := count("auth_refresh_tokens"), count("auth_refresh_familias"); n != 0 || m != 0 {
		t.Fatalf("after prune: %d tokens, %d families", n, m)
	}
}

func TestLogoutAndPasswordChangeRevoke(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		u := mustCreate(t, s, "caixa@exemplo.com.br", RoleOperador)
		senha := "senha-de-" + u.Email

		p := mustLogin(t, s, u.Email, senha)
		if err := s.Logout(ctx, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Refresh(ctx, p.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
			t.Fatalf("refresh after logout: %v", err)
		}
		if err := s.Logout(ctx, p.RefreshToken); err != nil {
			t.Fatalf("second logout: %v", err)
		}
		if err := s.Logout(ctx, "pnr_desconhecido"); err != nil {
			t.Fatalf("logout of garbage: %v", err)
		}

		a, b := mustLogin(t, s, u.Email, senha), mustLogin(t, s, u.Email, senha)
		nova := "outra-senha-boa"
		if _, err := s.UpdateUser(ctx, u.ID, UserPatch{Senha: &nova}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []TokenPair{a, b} {
			if _, err := s.Refresh(ctx, p.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
				t.Errorf("refresh after password change: %v", err)
			}
			if _, err := bearer(s, p.AccessToken); err == nil {
				t.Error("access token after password change accepted")
			}
		}
		if _, err := s.Login(ctx, u.Email, senha, "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("old password: %v", err)
		}
		c := mustLogin(t, s, u.Email, nova)
		operador := RoleLeitura
		if _, err := s.UpdateUser(ctx, u.ID, UserPatch{Papel: &operador}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Refresh(ctx, c.RefreshToken); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("refresh after role change: %v", err)
		}
		acts := strings.Join(auditActions(t, s), " ")
		if !strings.Contains(acts, "auth.logout/sucesso") || !strings.Contains(acts, "usuarios.alterar/sucesso") {
			t.Errorf("audit: %s", acts)
		}
	})
}

func TestLoginFailuresAndTiming(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	s := newService(t, st, clk)
	withAdmin(t, s)
	ctx := context.Background()
	u := mustCreate(t, s, "inativo@exemplo.com.br", RoleLeitura)
	off := false
	if _, err := s.UpdateUser(ctx, u.ID, UserPatch{Ativo: &off}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ email, senha string }{
		{adminEmail, "errada"}, {"ninguem@exemplo.com.br", adminSenha}, {u.Email, "senha-de-" + u.Email},
	} {
		if _, err := s.Login(ctx, c.email, c.senha, "192.0.2.50"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%s) = %v", c.email, err)
		}
	}
	// Case and spaces in the email do not matter.
	mustLogin(t, s, "  ADMIN@Exemplo.com.BR ", adminSenha)
	acts := strings.Join(auditActions(t, s), " ")
	if strings.Count(acts, "auth.login/falha") != 3 || !strings.Contains(acts, "auth.login/sucesso") {
		t.Errorf("audit: %s", acts)
	}
}

func TestUnknownEmailTakesAsLong(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	st := openStore(t, "")
	params := Argon2Params{MemoryKiB: 8 * 1024, Iterations: 2, Parallelism: 1}
	s := newService(t, st, newClock(), func(o *Options) {
		o.Argon2 = params
		o.Guard = GuardOptions{MaxFailures: 1000, MaxFailuresIP: 1000}
	})
	withAdmin(t, s)
	ctx := context.Background()
	measure := func(email string) time.Duration {
		best := time.Hour
		for range 5 {
			start := time.Now()
			_, _ = s.Login(ctx, email, "senha-errada-1", "192.0.2.1")
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := measure(adminEmail), measure("ninguem@exemplo.com.br")
	t.Logf("wrong password for a known email %v, unknown email %v", known, unknown)
	if unknown < known/2 {
		t.Errorf("unknown email answered in %v, a known one in %v: user enumeration by timing", unknown, known)
	}
}

// TestConcurrentGuessesAreLocked: a burst of concurrent wrong passwords gets no more password
// checks than the lockout threshold (attempts in flight count), not one per request.
func TestConcurrentGuessesAreLocked(t *testing.T) {
	st := openStore(t, "")
	s := newService(t, st, newClock())
	withAdmin(t, s)
	var wg sync.WaitGroup
	var checked, locked atomic.Int64
	for i := range 60 {
		wg.Go(func() {
			_, err := s.Login(context.Background(), adminEmail, fmt.Sprintf("errada-%d", i), "198.51.100.7")
			var le *LockedError
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				checked.Add(1)
			case errors.As(err, &le):
				locked.Add(1)
			default:
				t.Errorf("login: %v", err)
			}
		})
	}
	wg.Wait()
	if max := int64(DefaultGuardOptions().MaxFailures); checked.Load() > max {
		t.Fatalf("%d of 60 concurrent guesses had their password checked, want at most %d (locked: %d)", checked.Load(), max, locked.Load())
	}
	if checked.Load() == 0 {
		t.Fatal("no guess was checked at all")
	}
	t.Logf("60 concurrent guesses: %d checked, %d refused as locked", checked.Load(), locked.Load())
}
