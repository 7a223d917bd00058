package auth

import (
	"net"
	"net/http"
	"time"
)

// Clock tells the time; tests pass a fake one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure a Service. The zero value of every field is a safe
// default.
type Options struct {
	// DataDir is where the signing key file is generated when SigningKey
	// is empty (see KeyFileName).
	DataDir string
	// SigningKey is the active Ed25519 signing key: its 32-byte seed in
	// base64 (standard or URL alphabet, padding optional). Empty means the
	// key file in DataDir, generated on first start.
	SigningKey string
	// PreviousKeys are older signing keys (same format) that still verify
	// tokens, so a rotation does not log anybody out.
	PreviousKeys []string
	// Issuer is the "iss" claim; default "painel".
	Issuer string
	// AccessTTL is the access token lifetime; default 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the refresh token lifetime; default 7 days.
	RefreshTTL time.Duration
	// Argon2 are the password hashing parameters; default
	// DefaultArgon2Params(). Stored hashes with other parameters are
	// rehashed at the next successful login.
	Argon2 Argon2Params
	// Guard configures the login guard; zero fields take
	// DefaultGuardOptions()' values.
	Guard GuardOptions
	// Clock tells the time; default the system clock.
	Clock Clock
	// ClientIP returns the client address of a request, for the login
	// guard and the audit log; default the host part of r.RemoteAddr.
	// Behind a reverse proxy, the integrator decides which header to trust.
	ClientIP func(r *http.Request) string
	// CacheTTL is how long user and API key lookups made to check a
	// credential are cached; default 5 seconds. Changes made through this
	// Service take effect at once; changes made by another instance within
	// CacheTTL.
	CacheTTL time.Duration
	// MaxHashing caps the password hashes computed at the same time (each
	// takes Argon2.MemoryKiB of memory); default 4.
	MaxHashing int
}

// Defaults.
const (
	DefaultIssuer     = "painel"
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 7 * 24 * time.Hour
	DefaultCacheTTL   = 5 * time.Second
	DefaultMaxHashing = 4
)

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.AccessTTL <= 0 {
		o.AccessTTL = DefaultAccessTTL
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2Params()
	}
	o.Guard = o.Guard.withDefaults()
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.ClientIP == nil {
		o.ClientIP = RemoteIP
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.MaxHashing <= 0 {
		o.MaxHashing = DefaultMaxHashing
	}
	return o
}

// RemoteIP returns the host part of r.RemoteAddr (the peer of the
// connection), or RemoteAddr itself when it has no port.
func RemoteIP(r *http.Request) string { return RemoteHost(r.RemoteAddr) }

// RemoteHost returns the host part of a connection's address ("[::1]:5000" -> "::1"), or the
// address itself when it has no port.
func RemoteHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
