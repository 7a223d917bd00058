package token

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSeed returns a fixed seed that differs by n.
func testSeed(n byte) []byte {
	return bytes.Repeat([]byte{n}, ed25519.SeedSize)
}

func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	kr, err := NewKeyring(2, map[uint8][]byte{1: testSeed(1), 2: testSeed(2)})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func testClaims() Claims {
	return Claims{
		Kind:    Checkin,
		ID:      [8]byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04},
		Expires: testNow.Add(24 * time.Hour).Truncate(time.Minute),
		Scope:   0xcafef00d,
	}
}

func mustSign(t testing.TB, kr *Keyring, c Claims) string {
	t.Helper()
	text, err := kr.Sign(c)
	if err != nil {
		t.Fatalf("Sign(%+v): %v", c, err)
	}
	return text
}

func TestRoundTrip(t *testing.T) {
	kr := testKeyring(t)
	for _, kind := range []Kind{Checkin, Comanda, Mesa} {
		for _, exp := range []time.Time{{}, testNow.Add(time.Hour).Truncate(time.Minute)} {
			c := Claims{Kind: kind, KeyID: 99, ID: [8]byte{1, 2, 3, 4, 5, 6, 7, byte(kind)}, Expires: exp, Scope: uint32(kind) * 0x01010101}
			text := mustSign(t, kr, c)
			if len(text) != TextLen || !Looks(text) {
				t.Fatalf("%s: text %q is not %d digits", kind, text, TextLen)
			}
			got, err := kr.Verify(text, testNow)
			if err != nil {
				t.Fatalf("%s: Verify: %v", kind, err)
			}
			want := c
			want.KeyID = 2 // Sign ignores c.KeyID and uses the active key
			if got != want {
				t.Fatalf("%s: Verify = %+v, want %+v", kind, got, want)
			}
		}
	}
}

func TestSignDeterministic(t *testing.T) {
	kr := testKeyring(t)
	a, b := mustSign(t, kr, testClaims()), mustSign(t, kr, testClaims())
	if a != b {
		t.Fatal("Sign is not deterministic")
	}
}

func TestExpiresTruncatedToMinute(t *testing.T) {
	kr := testKeyring(t)
	c := testClaims()
	loc := time.FixedZone("BRT", -3*3600)
	c.Expires = time.Date(2026, 3, 15, 12, 34, 56, 789, loc)
	got, err := kr.Verify(mustSign(t, kr, c), testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 15, 15, 34, 0, 0, time.UTC)
	if !got.Expires.Equal(want) || got.Expires.Location() != time.UTC {
		t.Fatalf("Expires = %v, want %v", got.Expires, want)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Checkin: "checkin", Comanda: "comanda", Mesa: "mesa-pdv", 0: "kind(0)", 9: "kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// TestDigits checks the text conversion against math/big.
func TestDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := [][RawSize]byte{{}, {}}
	for i := range cases[1] {
		cases[1][i] = 0xff
	}
	for range 200 {
		var r [RawSize]byte
		for i := range r {
			r[i] = byte(rng.Uint32())
		}
		// Some with leading zero bytes.
		clear(r[:rng.IntN(RawSize)/4])
		cases = append(cases, r)
	}
	for _, raw := range cases {
		text := encodeDigits(&raw)
		want := new(big.Int).SetBytes(raw[:]).String()
		want = strings.Repeat("0", TextLen-len(want)) + want
		if text != want {
			t.Fatalf("encodeDigits(%x) = %s, want %s", raw, text, want)
		}
		var back [RawSize]byte
		if err := decodeDigits(text, &back); err != nil || back != raw {
			t.Fatalf("decodeDigits(%s) = %x, %v; want %x", text, back, err, raw)
		}
	}
	// 2^656 - 1 is the largest; 2^656 and 10^198 - 1 are too large.
	limit := new(big.Int).Lsh(big.NewInt(1), 8*RawSize)
	for _, n := range []*big.Int{limit, new(big.Int).Add(limit, big.NewInt(12345)), new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(TextLen), nil), big.NewInt(1))} {
		s := n.String()
		s = strings.Repeat("0", TextLen-len(s)) + s
		var raw [RawSize]byte
		if err := decodeDigits(s, &raw); !errors.Is(err, ErrMalformed) {
			t.Fatalf("decodeDigits(%s) = %v, want ErrMalformed", s, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	kr := testKeyring(t)
	valid := mustSign(t, kr, testClaims())
	for name, text := range map[string]string{
		"empty":     "",
		"short":     valid[:TextLen-1],
		"long":      valid + "0",
		"letter":    valid[:100] + "a" + valid[101:],
		"space":     " " + valid[1:],
		"minus":     "-" + valid[1:],
		"non-ascii": valid[:TextLen-2] + "é",
		"too large": strings.Repeat("9", TextLen),
	} {
		if Looks(text) && name != "too large" {
			t.Errorf("%s: Looks = true", name)
		}
		if c, err := kr.Verify(text, testNow); !errors.Is(err, ErrMalformed) || c != (Claims{}) {
			t.Errorf("%s: Verify = %+v, %v; want ErrMalformed", name, c, err)
		}
	}
	// Unknown format version or kind, checked before the key and signature.
	for name, b0 := range map[string]byte{"version 0": 0x01, "version 2": 0x21, "version 15": 0xf1, "kind 0": 0x10, "kind 4": 0x14, "kind 15": 0x1f} {
		var raw [RawSize]byte
		raw[0], raw[1] = b0, 200 // also an unknown key
		if _, err := kr.Verify(encodeDigits(&raw), testNow); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify = %v, want ErrMalformed", name, err)
		}
	}
}

// TestEveryDigitChange changes each of the 198 digits of a valid token to
// every other digit: none may verify.
func TestEveryDigitChange(t *testing.T) {
	kr := testKeyring(t)
	text := mustSign(t, kr, testClaims())
	b := []byte(text)
	counts := map[error]int{}
	for i := range b {
		orig := b[i]
		for d := byte('0'); d <= '9'; d++ {
			if d == orig {
				continue
			}
			b[i] = d
			c, err := kr.Verify(string(b), testNow)
			kind := sentinel(err)
			if kind == nil || kind == ErrExpired {
				t.Fatalf("digit %d changed %c→%c: Verify = %+v, %v", i, orig, d, c, err)
			}
			if c != (Claims{}) {
				t.Fatalf("digit %d changed: claims %+v returned with %v", i, c, err)
			}
			counts[kind]++
		}
		b[i] = orig
	}
	t.Logf("outcomes of %d changes: malformed %d, unknown key %d, bad signature %d",
		9*TextLen, counts[ErrMalformed], counts[ErrUnknownKey], counts[ErrBadSignature])
	if counts[ErrBadSignature] < 1000 {
		t.Errorf("only %d changes reached the signature check", counts[ErrBadSignature])
	}
}

// sentinel returns which of the exported errors err is, or nil.
func sentinel(err error) error {
	for _, e := range []error{ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrExpired} {
		if errors.Is(err, e) {
			return e
		}
	}
	return nil
}

// TestEveryBitFlip flips each of the 656 bits of a valid token.
func TestEveryBitFlip(t *testing.T) {
	kr := testKeyring(t)
	text := mustSign(t, kr, testClaims())
	var raw [RawSize]byte
	if err := decodeDigits(text, &raw); err != nil {
		t.Fatal(err)
	}
	for i := range 8 * RawSize {
		flipped := raw
		flipped[i/8] ^= 0x80 >> (i % 8)
		c, err := kr.Verify(encodeDigits(&flipped), testNow)
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("bit %d flipped: Verify = %+v, %v", i, c, err)
		}
		if i >= 8*PayloadSize && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("signature bit %d flipped: %v, want ErrBadSignature", i, err)
		}
	}
}

func TestOtherKey(t *testing.T) {
	kr := testKeyring(t)
	// Same kid, different key: bad signature.
	impostor, err := NewKeyring(2, map[uint8][]byte{2: testSeed(42)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Verify(mustSign(t, impostor, testClaims()), testNow); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("impostor with kid 2: %v, want ErrBadSignature", err)
	}
	// A kid the keyring does not have: unknown key.
	stranger, err := NewKeyring(7, map[uint8][]byte{7: testSeed(7)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Verify(mustSign(t, stranger, testClaims()), testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("kid 7: %v, want ErrUnknownKey", err)
	}
	// And the other way round: kid 2 of kr is unknown to stranger.
	if _, err := stranger.Verify(mustSign(t, kr, testClaims()), testNow); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("stranger verifying kid 2: %v, want ErrUnknownKey", err)
	}
}

func TestExpired(t *testing.T) {
	kr := testKeyring(t)
	c := testClaims()
	text := mustSign(t, kr, c)
	want := c
	want.KeyID = 2
	if got, err := kr.Verify(text, c.Expires.Add(-time.Nanosecond)); err != nil || got != want {
		t.Fatalf("just before expiry: %+v, %v", got, err)
	}
	for _, now := range []time.Time{c.Expires, c.Expires.Add(time.Second), c.Expires.AddDate(1, 0, 0)} {
		got, err := kr.Verify(text, now)
		if !errors.Is(err, ErrExpired) {
			t.Fatalf("at %v: err = %v, want ErrExpired", now, err)
		}
		if got != want {
			t.Fatalf("at %v: claims = %+v, want %+v", now, got, want)
		}
	}
	// No expiry: valid forever.
	c.Expires = time.Time{}
	if _, err := kr.Verify(mustSign(t, kr, c), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("no expiry: %v", err)
	}
}

// TestCheckOrder: the signature is checked before the expiry, the key
// before the signature.
func TestCheckOrder(t *testing.T) {
	kr := testKeyring(t)
	c := testClaims()
	text := mustSign(t, kr, c)
	var raw [RawSize]byte
	if err := decodeDigits(text, &raw); err != nil {
		t.Fatal(err)
	}
	late := c.Expires.Add(time.Hour)

	badSig := raw
	badSig[RawSize-1] ^= 1
	if got, err := kr.Verify(encodeDigits(&badSig), late); !errors.Is(err, ErrBadSignature) || got != (Claims{}) {
		t.Fatalf("expired with bad signature: %+v, %v; want ErrBadSignature", got, err)
	}
	unknown := raw
	unknown[1] = 9
	if _, err := kr.Verify(encodeDigits(&unknown), late); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("expired with unknown key: %v; want ErrUnknownKey", err)
	}
	// Distinct sentinels.
	all := []error{ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrExpired}
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Fatalf("errors.Is(%v, %v) = %v", a, b, !(i == j))
			}
		}
	}
}

func TestSignErrors(t *testing.T) {
	kr := testKeyring(t)
	for name, c := range map[string]Claims{
		"kind 0":      {Kind: 0},
		"kind 4":      {Kind: 4},
		"kind 16":     {Kind: 16}, // would spill into the version nibble
		"before 1970": {Kind: Checkin, Expires: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		"minute 0":    {Kind: Checkin, Expires: time.Unix(30, 0)},
		"year 10137":  {Kind: Checkin, Expires: time.Date(10137, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if text, err := kr.Sign(c); err == nil {
			t.Errorf("%s: Sign = %q, want error", name, text)
		}
	}
	// The extremes that do fit.
	for _, exp := range []time.Time{time.Unix(60, 0), time.Unix(maxMinutes*60+59, 0)} {
		c := Claims{Kind: Mesa, Expires: exp}
		got, err := kr.Verify(mustSign(t, kr, c), time.Unix(0, 0))
		if err != nil || !got.Expires.Equal(exp.Truncate(time.Minute)) {
			t.Errorf("expiry %v: %+v, %v", exp, got, err)
		}
	}
}

func TestNewKeyringErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		active uint8
		seeds  map[uint8][]byte
	}{
		"no keys":        {1, nil},
		"active missing": {3, map[uint8][]byte{1: testSeed(1)}},
		"kid 0":          {1, map[uint8][]byte{0: testSeed(0), 1: testSeed(1)}},
		"short seed":     {1, map[uint8][]byte{1: testSeed(1)[:31]}},
		"long seed":      {1, map[uint8][]byte{1: append(testSeed(1), 0)}},
	} {
		if _, err := NewKeyring(tc.active, tc.seeds); err == nil {
			t.Errorf("%s: NewKeyring succeeded", name)
		}
	}
}

func TestNewKeyringCopiesSeeds(t *testing.T) {
	seed := testSeed(5)
	kr, err := NewKeyring(5, map[uint8][]byte{5: seed})
	if err != nil {
		t.Fatal(err)
	}
	text := mustSign(t, kr, testClaims())
	clear(seed)
	if again := mustSign(t, kr, testClaims()); again != text {
		t.Fatal("keyring changed when the caller's seed slice did")
	}
}

func TestRotate(t *testing.T) {
	kr := testKeyring(t)
	old := mustSign(t, kr, testClaims())
	kid, err := kr.Rotate()
	if err != nil || kid != 3 || kr.Active() != 3 {
		t.Fatalf("Rotate = %d, %v; active %d", kid, err, kr.Active())
	}
	if got := kr.KeyIDs(); !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Fatalf("KeyIDs = %v", got)
	}
	newer := mustSign(t, kr, testClaims())
	if c, err := kr.Verify(old, testNow); err != nil || c.KeyID != 2 {
		t.Fatalf("old token after rotation: %+v, %v", c, err)
	}
	if c, err := kr.Verify(newer, testNow); err != nil || c.KeyID != 3 {
		t.Fatalf("new token: %+v, %v", c, err)
	}

	full, err := NewKeyring(255, map[uint8][]byte{255: testSeed(9)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := full.Rotate(); err == nil {
		t.Fatal("Rotate past kid 255 succeeded")
	}
}

func TestConcurrent(t *testing.T) {
	kr := testKeyring(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				c := testClaims()
				c.Scope = uint32(g)
				text, err := kr.Sign(c)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := kr.Verify(text, testNow); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := kr.Rotate(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	kr, created, err := LoadOrCreate(dir)
	if err != nil || !created || kr.Active() != 1 {
		t.Fatalf("first LoadOrCreate = %v, %v, active %d", created, err, kr.Active())
	}
	kdir := filepath.Join(dir, KeysDir)
	assertMode(t, kdir, 0o700|os.ModeDir)
	assertMode(t, filepath.Join(kdir, "1.key"), 0o600)
	content, err := os.ReadFile(filepath.Join(kdir, "1.key"))
	if err != nil || len(content) != 65 || content[64] != '\n' {
		t.Fatalf("1.key content %q, %v", content, err)
	}
	text := mustSign(t, kr, testClaims())

	kr2, created, err := LoadOrCreate(dir)
	if err != nil || created || kr2.Active() != 1 {
		t.Fatalf("reload = %v, %v, active %d", created, err, kr2.Active())
	}
	// Same key: Ed25519 is deterministic, so the same claims give the same text.
	if again := mustSign(t, kr2, testClaims()); again != text {
		t.Fatal("reloaded key signs differently")
	}

	// Rotation persists, and the highest kid is active after a reload.
	kid, err := kr2.Rotate()
	if err != nil || kid != 2 {
		t.Fatalf("Rotate = %d, %v", kid, err)
	}
	assertMode(t, filepath.Join(kdir, "2.key"), 0o600)
	newer := mustSign(t, kr2, testClaims())
	kr3, created, err := LoadOrCreate(dir)
	if err != nil || created || kr3.Active() != 2 {
		t.Fatalf("reload after rotate = %v, %v, active %d", created, err, kr3.Active())
	}
	for _, s := range []string{text, newer} {
		if _, err := kr3.Verify(s, testNow); err != nil {
			t.Fatalf("after reload: %v", err)
		}
	}
	// The first keyring does not know key 2 (it was not reloaded), and a
	// rotation there must not clobber 2.key.
	if _, err := kr.Rotate(); err == nil {
		t.Fatal("Rotate over an existing 2.key succeeded")
	}
	if _, err := kr3.Verify(newer, testNow); err != nil {
		t.Fatalf("2.key was replaced: %v", err)
	}
	// Other files are ignored.
	if err := os.WriteFile(filepath.Join(kdir, "README"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dir); err != nil {
		t.Fatalf("with README: %v", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Fatalf("%s: mode %v, want %v", path, fi.Mode(), want)
	}
}

func TestLoadOrCreateRefuses(t *testing.T) {
	goodSeed := strings.Repeat("ab", 32) + "\n"
	for name, tc := range map[string]struct {
		setup   func(kdir string) error
		wantMsg string
	}{
		"key 0644": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "1.key"), goodSeed, 0o644)
		}, "mode 0644"},
		"key 0640": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "1.key"), goodSeed, 0o640)
		}, "mode 0640"},
		"folder 0755": {func(kdir string) error {
			return os.Chmod(kdir, 0o755)
		}, "mode 0755"},
		"not hex": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "1.key"), strings.Repeat("zz", 32), 0o600)
		}, "hex"},
		"short seed": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "1.key"), strings.Repeat("ab", 31), 0o600)
		}, "hex"},
		"empty": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "1.key"), "", 0o600)
		}, "hex"},
		"kid 0": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "0.key"), goodSeed, 0o600)
		}, "kid 1..255"},
		"kid 256": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "256.key"), goodSeed, 0o600)
		}, "kid 1..255"},
		"leading zero": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "01.key"), goodSeed, 0o600)
		}, "kid 1..255"},
		"name": {func(kdir string) error {
			return writeFile(filepath.Join(kdir, "main.key"), goodSeed, 0o600)
		}, "kid 1..255"},
		"directory": {func(kdir string) error {
			return os.Mkdir(filepath.Join(kdir, "1.key"), 0o700)
		}, "not a regular file"},
		"symlink": {func(kdir string) error {
			target := filepath.Join(kdir, "seed.txt")
			if err := writeFile(target, goodSeed, 0o600); err != nil {
				return err
			}
			return os.Symlink(target, filepath.Join(kdir, "1.key"))
		}, "not a regular file"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			kdir := filepath.Join(dir, KeysDir)
			if err := os.Mkdir(kdir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.setup(kdir); err != nil {
				t.Fatal(err)
			}
			kr, _, err := LoadOrCreate(dir)
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded, active %d", kr.Active())
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not mention %q", err, tc.wantMsg)
			}
			t.Log(err)
		})
	}
}

func TestLoadOrCreateAcceptsReadOnlyKey(t *testing.T) {
	dir := t.TempDir()
	kdir := filepath.Join(dir, KeysDir)
	if err := os.Mkdir(kdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(filepath.Join(kdir, "4.key"), strings.Repeat("01", 32), 0o400); err != nil {
		t.Fatal(err)
	}
	kr, created, err := LoadOrCreate(dir)
	if err != nil || created || kr.Active() != 4 {
		t.Fatalf("LoadOrCreate = %v, %v", created, err)
	}
	want, _ := NewKeyring(4, map[uint8][]byte{4: testSeed(1)})
	if mustSign(t, kr, testClaims()) != mustSign(t, want, testClaims()) {
		t.Fatal("loaded the wrong seed")
	}
}

// writeFile writes a file with exactly mode perm, whatever the umask.
func writeFile(path, content string, perm os.FileMode) error {
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		return err
	}
	return os.Chmod(path, perm)
}

// FuzzVerify: Verify never panics, and accepts only what Sign produces:
// whenever it returns claims, signing them with the same key gives back
// exactly the text (Ed25519 and the encoding are deterministic).
func FuzzVerify(f *testing.F) {
	kr := testKeyring(f)
	signers := map[uint8]*Keyring{}
	for _, kid := range []uint8{1, 2} {
		s, err := NewKeyring(kid, map[uint8][]byte{1: testSeed(1), 2: testSeed(2)})
		if err != nil {
			f.Fatal(err)
		}
		signers[kid] = s
	}
	for _, kid := range []uint8{1, 2} {
		for _, k := range []Kind{Checkin, Comanda, Mesa} {
			c := testClaims()
			c.Kind = k
			f.Add(mustSign(f, signers[kid], c))
			c.Expires = testNow.Add(-time.Hour) // expired
			f.Add(mustSign(f, signers[kid], c))
			c.Expires = time.Time{}
			f.Add(mustSign(f, signers[kid], c))
		}
	}
	f.Add("")
	f.Add(strings.Repeat("0", TextLen))
	f.Add(strings.Repeat("9", TextLen))
	f.Fuzz(func(t *testing.T, text string) {
		c, err := kr.Verify(text, testNow)
		if err != nil && !errors.Is(err, ErrExpired) {
			if c != (Claims{}) {
				t.Fatalf("claims %+v returned with %v", c, err)
			}
			for _, e := range []error{ErrMalformed, ErrUnknownKey, ErrBadSignature} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if !Looks(text) {
			t.Fatalf("verified %q, which does not look like a token", text)
		}
		s := signers[c.KeyID]
		if s == nil {
			t.Fatalf("verified with kid %d, which is not in the keyring", c.KeyID)
		}
		again, serr := s.Sign(c)
		if serr != nil {
			t.Fatalf("Sign(%+v): %v", c, serr)
		}
		if again != text {
			t.Fatalf("verified text is not what Sign makes:\n%s\n%s", text, again)
		}
		c2, err2 := kr.Verify(again, testNow)
		if c2 != c || !errors.Is(err2, ErrExpired) && err2 != nil || (err == nil) != (err2 == nil) {
			t.Fatalf("re-verify: %+v, %v; first %+v, %v", c2, err2, c, err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	kr := testKeyring(b)
	c := testClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	kr := testKeyring(b)
	text := mustSign(b, kr, testClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(text, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMalformed(b *testing.B) {
	kr := testKeyring(b)
	text := strings.Repeat("9", TextLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(text, testNow); err == nil {
			b.Fatal("verified")
		}
	}
}

func BenchmarkDigits(b *testing.B) {
	var raw [RawSize]byte
	for i := range raw {
		raw[i] = byte(i * 37)
	}
	text := encodeDigits(&raw)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeDigits(&raw)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		var out [RawSize]byte
		for b.Loop() {
			if err := decodeDigits(text, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
