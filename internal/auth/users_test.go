package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

func TestEnsureAdmin(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		var fe *FieldError
		if _, err := s.EnsureAdmin(ctx, "nao-e-email", adminSenha); !errors.As(err, &fe) || fe.Field != "email" {
			t.Fatalf("bad email: %v", err)
		}
		if _, err := s.EnsureAdmin(ctx, adminEmail, "curta"); !errors.As(err, &fe) || fe.Field != "senha" {
			t.Fatalf("short password: %v", err)
		}
		// Several instances starting together create one admin.
		var wg sync.WaitGroup
		created := make([]bool, 4)
		for i := range created {
			wg.Go(func() {
				ok, err := s.EnsureAdmin(ctx, fmt.Sprintf("admin%d@exemplo.com.br", i), adminSenha)
				if err != nil {
					t.Error(err)
				}
				created[i] = ok
			})
		}
		wg.Wait()
		n := 0
		for _, c := range created {
			if c {
				n++
			}
		}
		page, err := s.ListUsers(ctx, 0, "")
		if err != nil || n != 1 || len(page.Usuarios) != 1 || page.Usuarios[0].Papel != RoleAdmin || !page.Usuarios[0].Ativo {
			t.Fatalf("created %d admins; users %+v, %v", n, page.Usuarios, err)
		}
		if ok, err := s.EnsureAdmin(ctx, "outro@exemplo.com.br", adminSenha); ok || err != nil {
			t.Fatalf("EnsureAdmin with a user present = %v, %v", ok, err)
		}
	})
}

func TestUserValidationAndUniqueness(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		u, err := s.CreateUser(ctx, UserInput{Nome: "  Maria  ", Email: " Maria@Exemplo.com.BR ", Papel: RoleOperador, Senha: "senha-boa-1"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Nome != "Maria" || u.Email != "maria@exemplo.com.br" || !u.Ativo || u.ID == 0 || u.CriadoEm.IsZero() {
			t.Fatalf("created %+v", u)
		}
		if _, err := s.CreateUser(ctx, UserInput{Nome: "Outra", Email: "MARIA@exemplo.com.br", Papel: RoleLeitura, Senha: "senha-boa-2"}); !errors.Is(err, ErrEmailTaken) {
			t.Fatalf("duplicate email in other case: %v", err)
		}
		for field, in := range map[string]UserInput{
			"nome":  {Nome: " ", Email: "a@b.com", Papel: RoleLeitura, Senha: "senha-boa-1"},
			"email": {Nome: "A", Email: "a@b.com\x00", Papel: RoleLeitura, Senha: "senha-boa-1"},
			"papel": {Nome: "A", Email: "a@b.com", Papel: "root", Senha: "senha-boa-1"},
			"senha": {Nome: "A", Email: "a@b.com", Papel: RoleLeitura, Senha: strings.Repeat("x", 1025)},
		} {
			var fe *FieldError
			if _, err := s.CreateUser(ctx, in); !errors.As(err, &fe) || fe.Field != field {
				t.Errorf("%s: %v", field, err)
			}
		}
		b := mustCreate(t, s, "b@exemplo.com.br", RoleLeitura)
		email := "maria@exemplo.com.br"
		if _, err := s.UpdateUser(ctx, b.ID, UserPatch{Email: &email}); !errors.Is(err, ErrEmailTaken) {
			t.Fatalf("update to a taken email: %v", err)
		}
		if _, err := s.UpdateUser(ctx, 9999, UserPatch{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update unknown: %v", err)
		}
		if err := s.DeleteUser(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete unknown: %v", err)
		}
		if _, err := s.GetUser(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}
	})
}

func TestLastAdminIsKept(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		admin, _ := s.userByEmail(ctx, adminEmail)
		op, off, on := RoleOperador, false, true
		if _, err := s.UpdateUser(ctx, admin.ID, UserPatch{Papel: &op}); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("demote last admin: %v", err)
		}
		if _, err := s.UpdateUser(ctx, admin.ID, UserPatch{Ativo: &off}); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("deactivate last admin: %v", err)
		}
		if err := s.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("delete last admin: %v", err)
		}
		// An inactive admin does not count.
		second := mustCreate(t, s, "admin2@exemplo.com.br", RoleAdmin)
		if _, err := s.UpdateUser(ctx, second.ID, UserPatch{Ativo: &off}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, admin.ID); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("delete last active admin: %v", err)
		}
		if _, err := s.UpdateUser(ctx, second.ID, UserPatch{Ativo: &on}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, admin.ID); err != nil {
			t.Fatalf("delete with another admin: %v", err)
		}
		if _, err := s.UpdateUser(ctx, second.ID, UserPatch{Papel: &op}); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("demote the new last admin: %v", err)
		}
		acts := strings.Join(auditActions(t, s), " ")
		for _, want := range []string{"usuarios.criar/sucesso", "usuarios.remover/sucesso", "usuarios.remover/negado", "usuarios.alterar/negado"} {
			if !strings.Contains(acts, want) {
				t.Errorf("audit lacks %s: %s", want, acts)
			}
		}
	})
}

func TestLastAdminUnderConcurrency(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newService(t, st, newClock())
		withAdmin(t, s)
		var ids []int64
		for i := range 3 {
			ids = append(ids, mustCreate(t, s, fmt.Sprintf("adm%d@exemplo.com.br", i), RoleAdmin).ID)
		}
		first, _ := s.userByEmail(ctx, adminEmail)
		ids = append(ids, first.ID)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				err := s.DeleteUser(ctx, id)
				if err != nil && !errors.Is(err, ErrLastAdmin) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var n int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM auth_usuarios WHERE papel = 'admin' AND ativo = 1`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d active admins left (%v), want exactly 1", n, err)
		}
	})
}

func TestListUsersPagination(t *testing.T) {
	st := openStore(t, "")
	s := newService(t, st, newClock())
	ctx := context.Background()
	for i := range 7 {
		mustCreate(t, s, fmt.Sprintf("u%d@exemplo.com.br", i), RoleLeitura)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.ListUsers(ctx, 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Usuarios {
			seen = append(seen, u.Email)
		}
		if p.ProximoCursor == "" {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
		cursor = p.ProximoCursor
	}
	if len(seen) != 7 || seen[0] != "u0@exemplo.com.br" || seen[6] != "u6@exemplo.com.br" {
		t.Fatalf("pages: %v", seen)
	}
	var fe *FieldError
	if _, err := s.ListUsers(ctx, 3, "abc"); !errors.As(err, &fe) || fe.Field != "cursor" {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestCacheIgnoresReadsOlderThanADrop: a value read from the store before a change, and put in
// the cache after the change dropped its entry, is not cached (it would serve the old row).
func TestCacheIgnoresReadsOlderThanADrop(t *testing.T) {
	c := newTTLCache[int64, string](time.Minute, 10)
	now := time.Now()
	gen := c.generation() // a reader starts loading row 1
	c.drop(1)             // meanwhile an update commits and drops it
	c.put(1, "velho", now, gen)
	if v, ok := c.get(1, now); ok {
		t.Fatalf("the stale read %q was cached", v)
	}
	c.put(1, "novo", now, c.generation())
	if v, ok := c.get(1, now); !ok || v != "novo" {
		t.Fatalf("a fresh read: %q %v", v, ok)
	}
}
