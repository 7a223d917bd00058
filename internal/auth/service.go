package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/painel-universal/painel/internal/store"
)

// Service is the auth module: users, sessions, API keys, the login guard
// and the audit log. It is safe for concurrent use.
type Service struct {
	st     *store.Store
	log    *slog.Logger
	opts   Options
	keys   *keyring
	parser *jwt.Parser
	guard  *LoginGuard

	hashing   chan struct{} // semaphore bounding concurrent argon2 work
	dummyHash string        // hashed for unknown emails, so they take as long

	users   *ttlCache[int64, User]
	apiKeys *ttlCache[string, apiKeyRow]

	touchMu sync.Mutex
	touched map[string]time.Time // API key id -> last ultimo_uso_em write

	lastPrune atomic.Int64 // unix ms of the last Prune run by Login

	peerIP bool // Options.ClientIP is the default: the client is the connection's peer
}

// NewService returns the auth service over a migrated store. Without
// Options.SigningKey it loads, or generates once, the key file in
// Options.DataDir.
func NewService(st *store.Store, opts Options, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	peerIP := opts.ClientIP == nil // the default: the connection's peer
	opts = opts.withDefaults()
	if err := opts.Argon2.validate(); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	keys, created, err := loadKeyring(opts)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if created {
		log.Warn("auth: generated a token signing key; set one in production so every instance shares it",
			"file", filepath.Join(opts.DataDir, KeyFileName), "kid", keys.active.kid)
	} else if opts.SigningKey == "" {
		warnLoosePermissions(log, filepath.Join(opts.DataDir, KeyFileName))
	}
	dummy, err := HashPassword("painel-dummy-password", opts.Argon2)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s := &Service{
		st: st, log: log, opts: opts, keys: keys,
		parser:    newParser(opts.Issuer, opts.Clock),
		guard:     NewLoginGuard(opts.Guard, opts.Clock),
		hashing:   make(chan struct{}, opts.MaxHashing),
		dummyHash: dummy,
		users:     newTTLCache[int64, User](opts.CacheTTL, 10000),
		apiKeys:   newTTLCache[string, apiKeyRow](opts.CacheTTL, 10000),
		touched:   map[string]time.Time{},
		peerIP:    peerIP,
	}
	return s, nil
}

// warnLoosePermissions logs a warning when the key file can be read by
// others than its owner.
func warnLoosePermissions(log *slog.Logger, path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("auth: the signing key file is readable by others; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
}

// now returns the service's current time.
func (s *Service) now() time.Time { return s.opts.Clock.Now() }

// nowMS returns the service's current time in unix milliseconds.
func (s *Service) nowMS() int64 { return s.now().UnixMilli() }

// Guard returns the login guard, so other entry points (a CLI) can share it.
func (s *Service) Guard() *LoginGuard { return s.guard }

// KeyID returns the id of the active signing key.
func (s *Service) KeyID() string { return s.keys.active.kid }

// AccessTTL returns the access token lifetime.
func (s *Service) AccessTTL() time.Duration { return s.opts.AccessTTL }

// hash runs fn while holding a hashing slot, so at most MaxHashing argon2
// computations (each holding Argon2.MemoryKiB) run at once.
func (s *Service) hash(ctx context.Context, fn func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	fn()
	return nil
}

// hashPassword hashes a password with the current parameters.
func (s *Service) hashPassword(ctx context.Context, senha string) (string, error) {
	var h string
	var err error
	if herr := s.hash(ctx, func() { h, err = HashPassword(senha, s.opts.Argon2) }); herr != nil {
		return "", herr
	}
	return h, err
}

// verifyPassword checks senha against phc; a malformed phc is logged and
// counts as a mismatch.
func (s *Service) verifyPassword(ctx context.Context, senha, phc string) (ok, rehash bool, err error) {
	var p Argon2Params
	var verr error
	if err := s.hash(ctx, func() { ok, p, verr = VerifyPassword(senha, phc) }); err != nil {
		return false, false, err
	}
	if errors.Is(verr, ErrMalformedHash) {
		s.log.Error("auth: stored password hash is malformed")
		return false, false, nil
	}
	return ok, ok && p != s.opts.Argon2, verr
}

// ttlCache is a small map whose entries expire after ttl, bounded to max
// entries (when full, expired entries go, and if none did, everything).
type ttlCache[K comparable, V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[K]ttlEntry[V]
	gen uint64 // incremented by every drop
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, m: map[K]ttlEntry[V]{}}
}

// get returns the value cached for k when it is younger than ttl at now.
func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// generation returns a token to pass to put: a value read from the store after it was taken
// is only cached if nothing was dropped meanwhile (the read may predate the change the drop
// announced).
func (c *ttlCache[K, V]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches v for k at now, unless an entry was dropped since generation gen.
func (c *ttlCache[K, V]) put(k K, v V, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= c.max {
		for key, e := range c.m {
			if now.Sub(e.at) >= c.ttl {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = ttlEntry[V]{v: v, at: now}
}

// drop forgets k.
func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.gen++
	c.mu.Unlock()
}
