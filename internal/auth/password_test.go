package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestHashAndVerifyPassword(t *testing.T) {
	phc, err := HashPassword("correta-cavalo-bateria", testArgon)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string %q", phc)
	}
	ok, p, err := VerifyPassword("correta-cavalo-bateria", phc)
	if err != nil || !ok || p != testArgon {
		t.Fatalf("Verify right password = %v, %+v, %v", ok, p, err)
	}
	if ok, _, err := VerifyPassword("correta-cavalo-bateri4", phc); err != nil || ok {
		t.Fatalf("Verify wrong password = %v, %v", ok, err)
	}
	again, _ := HashPassword("correta-cavalo-bateria", testArgon)
	if again == phc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	if _, err := HashPassword("x", Argon2Params{MemoryKiB: 64, Iterations: 0, Parallelism: 1}); err == nil {
		t.Fatal("zero iterations accepted")
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	good, _ := HashPassword("senha-boa-123", testArgon)
	parts := strings.Split(good, "$")
	for _, phc := range []string{
		"", "$", "$$$$$", "senha", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$t=1,m=64,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=1,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1000000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=256$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=-64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=064,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5] + "=",
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5] + "$",
		"$argon2id$v=19$m=64,t=1,p=1$!!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5][:10],
		"x" + good,
	} {
		ok, _, err := VerifyPassword("senha-boa-123", phc)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", phc, ok, err)
		}
	}
}

func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword("senha-boa-123", testArgon)
	f.Add(good)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, phc string) {
		p, _, _, err := parsePHC(phc)
		if err != nil {
			return
		}
		// Whatever parses must be cheap enough to verify and within bounds.
		if p.MemoryKiB > maxArgon2MemoryKiB || p.Iterations > maxArgon2Iterations || p.Parallelism == 0 {
			t.Fatalf("out-of-bounds parameters accepted: %+v", p)
		}
		if p.MemoryKiB <= 1024 && p.Iterations <= 4 {
			_, _, _ = VerifyPassword("x", phc)
		}
	})
}

func TestRehashOnLoginWhenParametersChange(t *testing.T) {
	st := openStore(t, "")
	clk := newClock()
	s1 := newService(t, st, clk)
	withAdmin(t, s1)
	stored := func() string {
		var h string
		if err := st.DB.QueryRow(`SELECT senha_hash FROM auth_usuarios WHERE email = $1`, adminEmail).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := stored()
	// Same parameters: no rehash.
	mustLogin(t, s1, adminEmail, adminSenha)
	if stored() != before {
		t.Fatal("rehashed with unchanged parameters")
	}
	stronger := Argon2Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1}
	s2 := newService(t, st, clk, func(o *Options) { o.Argon2 = stronger })
	// A wrong password does not rehash.
	if _, err := s2.Login(context.Background(), adminEmail, "errada-123", "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if stored() != before {
		t.Fatal("rehashed on a failed login")
	}
	mustLogin(t, s2, adminEmail, adminSenha)
	after := stored()
	if !strings.HasPrefix(after, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("after login with new parameters the hash is %q", after)
	}
	// Both services still log in with the rehashed password.
	mustLogin(t, s1, adminEmail, adminSenha)
}
