// Package config holds the service's settings: their defaults, how they are
// read from PAINEL_* environment variables and matching command-line flags,
// and the checks that refuse a bad or unsafe configuration with a message
// naming the setting at fault.
//
// Precedence, lowest first: built-in default, environment variable, flag.
package config

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Config is the effective configuration of the service.
type Config struct {
	Addr              string
	DataDir           string
	DatabaseURL       string
	LogFormat         string
	LogLevel          slog.Level
	Env               string
	CORSOrigins       []string
	ShutdownTimeout   time.Duration
	ShutdownDelay     time.Duration
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// QRKeys holds the Ed25519 seeds that sign QR tokens, by key id; the
	// active (signing) one is QRActiveKey. Empty: keys live in the data folder.
	QRKeys      map[uint8][]byte
	QRActiveKey uint8
	qrKeysRaw   string
	// RedisURL enables the shared cache tier and cross-instance
	// invalidation; empty: in-process cache only.
	RedisURL           string
	CacheBudgetBytes   int64
	CacheOptimiseEvery time.Duration
	// MonitorInterval is how often host metrics are sampled (at least 250ms).
	MonitorInterval time.Duration
	// SMTP server for alert e-mails; SMTPAddr empty disables e-mail.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string
	// BackupStore is where backups go: empty for <data>/backups, a folder, or
	// s3://KEY:SECRET@host:port/bucket[/prefix][?ssl=true&region=r].
	BackupStore      string
	BackupPassphrase string
	BackupRestoreDir string
	// AdminEmail and AdminPassword create the first admin on a start that
	// finds no user (nothing happens once a user exists).
	AdminEmail    string
	AdminPassword string
	// AuthSigningKey is the Ed25519 seed (base64) that signs access tokens;
	// empty: a key generated once into the data folder.
	AuthSigningKey string
	// AuthPreviousKeys are older signing keys (comma-separated seeds) that still verify
	// tokens, so that rotating AuthSigningKey logs nobody out.
	AuthPreviousKeys string
	// MetricsToken lets a Prometheus scraper read /metrics with
	// "Authorization: Bearer <token>" and no user; empty: a role is needed.
	MetricsToken string
	// AuditRetention is how long audit entries are kept (0: forever).
	AuditRetention time.Duration
	// RateLimit is the requests per second each client IP, and each user
	// or API key, may make (bursts of twice that); 0 turns it off.
	RateLimit float64
	// BackupCompression is the zstd level of new backup data, one of
	// BackupCompressionLevels' names.
	BackupCompression string
}

// BackupCompressionLevels are the accepted PAINEL_BACKUP_COMPRESSION names, from the
// fastest to the smallest (zstd levels 1 to 4 of klauspost/compress).
var BackupCompressionLevels = []string{"fastest", "default", "better", "best"}

// setting describes one configuration value: its flag and environment
// names, its default, what it accepts, and how it is read and shown.
type setting struct {
	flag    string
	env     string
	def     string
	usage   string
	accepts string
	secret  bool
	// redact hides a secret value; nil means Redact (URL passwords).
	redact func(string) string
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

// settings lists every setting, in the order help and `painel config` show them.
func settings() []setting {
	return []setting{
		{
			flag: "addr", env: "PAINEL_ADDR", def: ":8000",
			usage:   "address the HTTP server listens on",
			accepts: "host:port, e.g. :8000 or 127.0.0.1:8080 (port 0 picks a free port)",
			set: func(c *Config, v string) error {
				host, port, err := net.SplitHostPort(v)
				if err != nil {
					return err
				}
				if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
					return fmt.Errorf("bad host %q", host)
				}
				if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
					return fmt.Errorf("bad port %q", port)
				}
				c.Addr = v
				return nil
			},
			get: func(c *Config) string { return c.Addr },
		},
		{
			flag: "data-dir", env: "PAINEL_DATA_DIR", def: "./data",
			usage:   "folder for the database, keys and local backups (created if missing)",
			accepts: "a folder path",
			set: func(c *Config, v string) error {
				if strings.TrimSpace(v) == "" {
					return errors.New("empty path")
				}
				c.DataDir = filepath.Clean(v)
				return nil
			},
			get: func(c *Config) string { return c.DataDir },
		},
		{
			flag: "database-url", env: "PAINEL_DATABASE_URL", def: "",
			usage:   "database: empty for SQLite at <data-dir>/painel.db, sqlite://PATH, or postgres://...",
			accepts: "empty, sqlite://PATH (sqlite:///abs/path) or postgres://user:pass@host:port/db",
			secret:  true,
			set: func(c *Config, v string) error {
				if _, _, err := ParseDatabaseURL(v, "."); err != nil {
					return err
				}
				c.DatabaseURL = v
				return nil
			},
			get: func(c *Config) string { return c.DatabaseURL },
		},
		{
			flag: "log-format", env: "PAINEL_LOG_FORMAT", def: "text",
			usage: "log format", accepts: "text or json",
			set: func(c *Config, v string) error {
				v = strings.ToLower(v)
				if v != "text" && v != "json" {
					return errors.New("unknown format")
				}
				c.LogFormat = v
				return nil
			},
			get: func(c *Config) string { return c.LogFormat },
		},
		{
			flag: "log-level", env: "PAINEL_LOG_LEVEL", def: "info",
			usage: "minimum log level", accepts: "debug, info, warn or error",
			set: func(c *Config, v string) error {
				var l slog.Level
				if err := l.UnmarshalText([]byte(v)); err != nil {
					return errors.New("unknown level")
				}
				c.LogLevel = l
				return nil
			},
			get: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
		},
		{
			flag: "env", env: "PAINEL_ENV", def: Development,
			usage:   "environment; production refuses unsafe development defaults",
			accepts: "development or production",
			set: func(c *Config, v string) error {
				v = strings.ToLower(v)
				if v != Development && v != Production {
					return errors.New("unknown environment")
				}
				c.Env = v
				return nil
			},
			get: func(c *Config) string { return c.Env },
		},
		{
			flag: "cors-origins", env: "PAINEL_CORS_ORIGINS", def: "",
			usage:   "origins allowed to call the API from a browser (empty: same origin only)",
			accepts: "comma-separated origins like https://app.example.com, or *",
			set: func(c *Config, v string) error {
				var out []string
				for _, o := range strings.Split(v, ",") {
					o = strings.TrimSpace(o)
					if o == "" {
						continue
					}
					if o != "*" {
						u, err := url.Parse(o)
						if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
							(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
							return fmt.Errorf("bad origin %q", o)
						}
						o = u.Scheme + "://" + u.Host
					}
					out = append(out, o)
				}
				c.CORSOrigins = out
				return nil
			},
			get: func(c *Config) string { return strings.Join(c.CORSOrigins, ",") },
		},
		durationSetting("shutdown-timeout", "PAINEL_SHUTDOWN_TIMEOUT", "15s",
			"how long in-flight requests and workers may take to finish on shutdown",
			func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		durationSetting("shutdown-delay", "PAINEL_SHUTDOWN_DELAY", "0s",
			"how long /readyz answers 503 before the listener closes (lets a load balancer drain)",
			func(c *Config) *time.Duration { return &c.ShutdownDelay }),
		{
			flag: "max-body", env: "PAINEL_MAX_BODY", def: "10MiB",
			usage:   "largest request body accepted by any route (larger gets 413); JSON routes take at most 1MiB, uploads (QR photos, cache values) up to this",
			accepts: "a size like 1048576, 512KiB, 1MiB or 10MB",
			set: func(c *Config, v string) error {
				n, err := ParseSize(v)
				if err != nil {
					return err
				}
				if n < 1024 {
					return errors.New("must be at least 1KiB")
				}
				c.MaxBodyBytes = n
				return nil
			},
			get: func(c *Config) string { return FormatSize(c.MaxBodyBytes) },
		},
		durationSetting("read-header-timeout", "PAINEL_READ_HEADER_TIMEOUT", "10s",
			"how long a client may take to send request headers",
			func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }),
		durationSetting("read-timeout", "PAINEL_READ_TIMEOUT", "60s",
			"how long a client may take to send a whole request",
			func(c *Config) *time.Duration { return &c.ReadTimeout }),
		durationSetting("write-timeout", "PAINEL_WRITE_TIMEOUT", "60s",
			"how long writing a response may take (streams and WebSockets lift it for themselves)",
			func(c *Config) *time.Duration { return &c.WriteTimeout }),
		durationSetting("idle-timeout", "PAINEL_IDLE_TIMEOUT", "120s",
			"how long an idle keep-alive connection stays open",
			func(c *Config) *time.Duration { return &c.IdleTimeout }),
		{
			flag: "qr-signing-keys", env: "PAINEL_QR_SIGNING_KEYS", def: "",
			usage: "Ed25519 seeds that sign QR tokens; the last is the signing key, the others still verify " +
				"(empty: generated once into <data-dir>/qr-keys; production and several instances need them set)",
			accepts: "comma-separated KID:SEED with KID 1-255 and SEED 64 hex digits, e.g. 1:9f86...,2:60303...",
			secret:  true,
			redact:  redactKeys,
			set: func(c *Config, v string) error {
				keys, active, err := ParseQRKeys(v)
				if err != nil {
					return err
				}
				c.QRKeys, c.QRActiveKey, c.qrKeysRaw = keys, active, v
				return nil
			},
			get: func(c *Config) string { return c.qrKeysRaw },
		},
		{
			flag: "redis-url", env: "PAINEL_REDIS_URL", def: "",
			usage:   "Redis for the shared cache tier and invalidations between instances (empty: in-process cache only)",
			accepts: "empty or redis://[user:pass@]host:port/db (rediss:// for TLS)",
			secret:  true,
			set: func(c *Config, v string) error {
				if v != "" {
					u, err := url.Parse(v)
					if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
						return errors.New("not a redis:// URL")
					}
				}
				c.RedisURL = v
				return nil
			},
			get: func(c *Config) string { return c.RedisURL },
		},
		{
			flag: "cache-budget", env: "PAINEL_CACHE_BUDGET", def: "256MiB",
			usage:   "global byte budget shared by the cache areas",
			accepts: "a size like 64MiB or 1GiB (at least 1MiB)",
			set: func(c *Config, v string) error {
				n, err := ParseSize(v)
				if err != nil {
					return err
				}
				if n < 1<<20 {
					return errors.New("must be at least 1MiB")
				}
				c.CacheBudgetBytes = n
				return nil
			},
			get: func(c *Config) string { return FormatSize(c.CacheBudgetBytes) },
		},
		durationSetting("cache-optimise-every", "PAINEL_CACHE_OPTIMISE_EVERY", "0s",
			"how often the cache optimiser runs by itself (0s: only on POST /cache/otimizar)",
			func(c *Config) *time.Duration { return &c.CacheOptimiseEvery }),
		{
			flag: "monitor-interval", env: "PAINEL_MONITOR_INTERVAL", def: "1s",
			usage:   "how often host metrics are sampled and alert rules evaluated",
			accepts: "a duration of at least 250ms, like 1s or 5s",
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil {
					return errors.New("not a duration")
				}
				if d < 250*time.Millisecond || d > time.Hour {
					return errors.New("must be between 250ms and 1h")
				}
				c.MonitorInterval = d
				return nil
			},
			get: func(c *Config) string { return c.MonitorInterval.String() },
		},
		{
			flag: "smtp-addr", env: "PAINEL_SMTP_ADDR", def: "",
			usage:   "SMTP server for alert e-mails (empty: e-mail channels are off)",
			accepts: "empty or host:port",
			set: func(c *Config, v string) error {
				if v != "" {
					host, port, err := net.SplitHostPort(v)
					if err != nil || host == "" || port == "" {
						return errors.New("not host:port")
					}
				}
				c.SMTPAddr = v
				return nil
			},
			get: func(c *Config) string { return c.SMTPAddr },
		},
		plainSetting("smtp-from", "PAINEL_SMTP_FROM", "painel@localhost", "sender address of alert e-mails", "an e-mail address",
			func(c *Config) *string { return &c.SMTPFrom }, false),
		plainSetting("smtp-user", "PAINEL_SMTP_USER", "", "SMTP user (empty: no authentication)", "any text",
			func(c *Config) *string { return &c.SMTPUser }, false),
		plainSetting("smtp-password", "PAINEL_SMTP_PASSWORD", "", "SMTP password", "any text",
			func(c *Config) *string { return &c.SMTPPassword }, true),
		{
			flag: "backup-store", env: "PAINEL_BACKUP_STORE", def: "",
			usage:   "where backups are stored (empty: <data-dir>/backups)",
			accepts: "empty, an absolute folder, or s3://KEY:SECRET@host:port/bucket[/prefix][?ssl=true&region=R]",
			secret:  true,
			set: func(c *Config, v string) error {
				if v != "" {
					if strings.HasPrefix(v, "s3://") {
						u, err := url.Parse(v)
						if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" || u.User == nil {
							return errors.New("not an s3://KEY:SECRET@host:port/bucket URL")
						}
					} else if !filepath.IsAbs(v) {
						return errors.New("not an absolute folder or s3:// URL")
					}
				}
				c.BackupStore = v
				return nil
			},
			get: func(c *Config) string { return c.BackupStore },
		},
		plainSetting("backup-passphrase", "PAINEL_BACKUP_PASSPHRASE", "",
			"passphrase that encrypts backups at rest (AES-256-GCM, key via argon2id; empty: not encrypted)", "any text",
			func(c *Config) *string { return &c.BackupPassphrase }, true),
		plainSetting("backup-restore-dir", "PAINEL_BACKUP_RESTORE_DIR", "",
			"folder under which restore destinations are resolved (empty: <data-dir>/restauracoes)", "a folder path",
			func(c *Config) *string { return &c.BackupRestoreDir }, false),
		{
			flag: "admin-email", env: "PAINEL_ADMIN_EMAIL", def: "",
			usage:   "e-mail of the first admin, created on a start that finds no user (with PAINEL_ADMIN_PASSWORD)",
			accepts: "empty or an e-mail address",
			set: func(c *Config, v string) error {
				v = strings.TrimSpace(v)
				if v != "" && (!strings.Contains(v, "@") || len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>")) {
					return errors.New("not an e-mail address")
				}
				c.AdminEmail = v
				return nil
			},
			get: func(c *Config) string { return c.AdminEmail },
		},
		plainSetting("admin-password", "PAINEL_ADMIN_PASSWORD", "",
			"password of the first admin (at least 8 characters; only read when no user exists)", "any text",
			func(c *Config) *string { return &c.AdminPassword }, true),
		plainSetting("auth-signing-key", "PAINEL_AUTH_SIGNING_KEY", "",
			"Ed25519 seed (base64, 32 bytes) that signs access tokens (empty: generated once into <data-dir>)", "empty or base64 of 32 bytes",
			func(c *Config) *string { return &c.AuthSigningKey }, true),
		plainSetting("auth-previous-keys", "PAINEL_AUTH_PREVIOUS_KEYS", "",
			"older access-token signing keys that still verify (comma-separated; for a rotation: the old key here for 15 minutes)", "empty or base64 seeds separated by commas",
			func(c *Config) *string { return &c.AuthPreviousKeys }, true),
		plainSetting("metrics-token", "PAINEL_METRICS_TOKEN", "",
			"bearer token that lets a scraper read /metrics without a user (empty: a role with metricas:ler is needed)", "any text",
			func(c *Config) *string { return &c.MetricsToken }, true),
		{
			flag: "audit-retention", env: "PAINEL_AUDIT_RETENTION", def: "8760h0m0s",
			usage:   "how long audit log entries are kept (pruned daily; 0s: forever)",
			accepts: "a duration of 0s, or from 24h to 87600h",
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil {
					return err
				}
				if d != 0 && (d < 24*time.Hour || d > 87600*time.Hour) {
					return errors.New("must be 0s or between 24h and 87600h")
				}
				c.AuditRetention = d
				return nil
			},
			get: func(c *Config) string { return c.AuditRetention.String() },
		},
		{
			flag: "rate-limit", env: "PAINEL_RATE_LIMIT", def: "50",
			usage:   "requests per second each client IP, and each user or API key, may make (bursts of twice that; 0: off)",
			accepts: "a number from 0 to 100000",
			set: func(c *Config, v string) error {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 100000 || f != f {
					return errors.New("not a number from 0 to 100000")
				}
				c.RateLimit = f
				return nil
			},
			get: func(c *Config) string { return strconv.FormatFloat(c.RateLimit, 'g', -1, 64) },
		},
		{
			flag: "backup-compression", env: "PAINEL_BACKUP_COMPRESSION", def: "fastest",
			usage: "zstd level of new backup data: fastest uses the least CPU on the host the service runs on " +
				"(about 7% more bytes than default on a SQLite database), best the least space",
			accepts: "fastest, default, better or best",
			set: func(c *Config, v string) error {
				v = strings.ToLower(strings.TrimSpace(v))
				if !slices.Contains(BackupCompressionLevels, v) {
					return errors.New("not fastest, default, better or best")
				}
				c.BackupCompression = v
				return nil
			},
			get: func(c *Config) string { return c.BackupCompression },
		},
	}
}

// plainSetting is a free-text setting without control characters.
func plainSetting(flagName, env, def, usage, accepts string, field func(*Config) *string, secret bool) setting {
	st := setting{
		flag: flagName, env: env, def: def, usage: usage, accepts: accepts, secret: secret,
		set: func(c *Config, v string) error {
			if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) || !utf8.ValidString(v) {
				return errors.New("contains control characters")
			}
			*field(c) = v
			return nil
		},
		get: func(c *Config) string { return *field(c) },
	}
	if secret {
		st.redact = func(v string) string {
			if v == "" {
				return ""
			}
			return "xxxxx"
		}
	}
	return st
}

// redactKeys shows the key ids of a key list, never the seeds.
func redactKeys(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		kid, _, _ := strings.Cut(strings.TrimSpace(part), ":")
		if len(kid) > 3 {
			kid = "?"
		}
		out = append(out, kid+":xxxxx")
	}
	return strings.Join(out, ",")
}

// ParseQRKeys reads "KID:SEEDHEX[,KID:SEEDHEX...]"; the last key listed is
// the active one. Empty input gives no keys.
func ParseQRKeys(v string) (map[uint8][]byte, uint8, error) {
	if strings.TrimSpace(v) == "" {
		return nil, 0, nil
	}
	keys := map[uint8][]byte{}
	var active uint8
	for _, part := range strings.Split(v, ",") {
		kidStr, seedHex, ok := strings.Cut(strings.TrimSpace(part), ":")
		kid, err := strconv.Atoi(kidStr)
		if !ok || err != nil || kid < 1 || kid > 255 {
			return nil, 0, errors.New("each key needs a KID from 1 to 255 before the colon")
		}
		seed, err := hex.DecodeString(seedHex)
		if err != nil || len(seed) != 32 {
			return nil, 0, fmt.Errorf("key %d: the seed must be 64 hex digits", kid)
		}
		if _, dup := keys[uint8(kid)]; dup {
			return nil, 0, fmt.Errorf("key %d listed twice", kid)
		}
		keys[uint8(kid)] = seed
		active = uint8(kid)
	}
	return keys, active, nil
}

func durationSetting(flagName, env, def, usage string, field func(*Config) *time.Duration) setting {
	accepts := "a positive duration like 500ms, 15s or 2m"
	if def == "0s" {
		accepts = "a duration like 0s, 500ms or 5s"
	}
	return setting{
		flag: flagName, env: env, def: def, usage: usage,
		accepts: accepts,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("not a duration")
			}
			if d < 0 || (d == 0 && def != "0s") {
				return errors.New("must be positive")
			}
			*field(c) = d
			return nil
		},
		get: func(c *Config) string { return field(c).String() },
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// Error is a configuration error: it names the setting at fault and says
// what the setting accepts.
type Error struct {
	Source  string // "PAINEL_ADDR" or "-addr"
	Value   string
	Reason  string
	Accepts string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("invalid %s=%q: %s", e.Source, e.Value, e.Reason)
	if e.Accepts != "" {
		msg += "; accepts " + e.Accepts
	}
	return msg
}

// flagValue binds a setting to a flag.FlagSet so that flags go through the
// same parsing and checks as environment variables.
type flagValue struct {
	s   setting
	cfg *Config
}

func (f flagValue) String() string {
	if f.cfg == nil || f.s.get == nil {
		return ""
	}
	return f.s.get(f.cfg)
}

func (f flagValue) Set(v string) error {
	if err := f.s.set(f.cfg, v); err != nil {
		return fmt.Errorf("%s; accepts %s", err, f.s.accepts)
	}
	return nil
}

// Defaults returns the configuration with every setting at its default.
func Defaults() *Config {
	c := &Config{}
	for _, s := range settings() {
		if err := s.set(c, s.def); err != nil {
			panic(fmt.Sprintf("config: bad default for %s: %v", s.env, err))
		}
	}
	return c
}

// Bind prepares fs for the settings: it returns the configuration with the
// defaults and the environment applied (an error names a bad variable) and
// registers one flag per setting that, when parsed, overrides it.
func Bind(fs *flag.FlagSet, getenv func(string) string) (*Config, error) {
	c := Defaults()
	var errs []error
	for _, s := range settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(c, v); err != nil {
				errs = append(errs, &Error{Source: s.env, Value: shown(s, v), Reason: err.Error(), Accepts: s.accepts})
			}
		}
		fs.Var(flagValue{s: s, cfg: c}, s.flag, s.usage)
	}
	return c, errors.Join(errs...)
}

func (s setting) redacted(v string) string {
	if s.redact != nil {
		return s.redact(v)
	}
	return Redact(v)
}

func shown(s setting, v string) string {
	if s.secret {
		return s.redacted(v)
	}
	return v
}

// Validate checks the settings together, and refuses in production the
// development defaults that are unsafe there.
func (c *Config) Validate() error {
	var errs []error
	if c.Env == Production {
		if len(c.QRKeys) == 0 {
			errs = append(errs, &Error{Source: "PAINEL_QR_SIGNING_KEYS", Value: "",
				Reason:  "production needs the QR signing keys set (a key generated per instance would not verify on the others)",
				Accepts: "comma-separated KID:SEED; generate a seed with: openssl rand -hex 32"})
		}
		if c.AuthSigningKey == "" {
			errs = append(errs, &Error{Source: "PAINEL_AUTH_SIGNING_KEY", Value: "",
				Reason:  "production needs the access-token signing key set (a key generated per instance would not verify on the others)",
				Accepts: "base64 of a 32-byte seed; generate one with: openssl rand -base64 32"})
		}
		if !filepath.IsAbs(c.DataDir) {
			errs = append(errs, &Error{Source: "PAINEL_DATA_DIR", Value: c.DataDir,
				Reason: "production needs an absolute path (a relative one depends on the working folder)", Accepts: "an absolute folder path"})
		}
		for _, o := range c.CORSOrigins {
			if o == "*" {
				errs = append(errs, &Error{Source: "PAINEL_CORS_ORIGINS", Value: strings.Join(c.CORSOrigins, ","),
					Reason: "production refuses the wildcard origin", Accepts: "an explicit list of origins"})
			}
		}
		if kind, dsn, err := ParseDatabaseURL(c.DatabaseURL, c.DataDir); err == nil && kind == Postgres {
			if u, err := url.Parse(dsn); err == nil && u.Query().Get("sslmode") == "disable" && !isLoopback(postgresHost(u)) {
				errs = append(errs, &Error{Source: "PAINEL_DATABASE_URL", Value: Redact(c.DatabaseURL),
					Reason: "production refuses sslmode=disable to a host other than loopback", Accepts: "sslmode=require or verify-full"})
			}
		}
	}
	if c.ShutdownDelay >= c.ShutdownTimeout {
		errs = append(errs, &Error{Source: "PAINEL_SHUTDOWN_DELAY", Value: c.ShutdownDelay.String(),
			Reason: "must be shorter than PAINEL_SHUTDOWN_TIMEOUT (" + c.ShutdownTimeout.String() + ")", Accepts: "a duration below the shutdown timeout"})
	}
	return errors.Join(errs...)
}

// postgresHost is the host a PostgreSQL URL connects to: a host query
// parameter overrides the one in the authority.
func postgresHost(u *url.URL) string {
	if h := u.Query().Get("host"); h != "" {
		return h
	}
	return u.Hostname()
}

func isLoopback(host string) bool {
	if host == "localhost" || host == "" || strings.HasPrefix(host, "/") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Database kinds.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ParseDatabaseURL tells which engine a database URL names and returns what
// to open: a file path for SQLite (relative to dataDir when the URL is
// empty), or the URL itself for PostgreSQL.
func ParseDatabaseURL(raw, dataDir string) (kind, target string, err error) {
	switch {
	case raw == "":
		return SQLite, filepath.Join(dataDir, "painel.db"), nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			return "", "", errors.New("sqlite:// URLs take a path only, no options")
		}
		if p == "" {
			return "", "", errors.New("sqlite:// needs a path")
		}
		return SQLite, filepath.Clean(p), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", errors.New("malformed URL")
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return "", "", errors.New("postgres URL needs a host")
		}
		return Postgres, raw, nil
	default:
		return "", "", errors.New("unknown database scheme")
	}
}

// Redact hides the password of a URL-like value, in the userinfo or in a
// password query parameter. A value it cannot take apart that might hold a
// password (an @ or the word password) is hidden whole.
func Redact(v string) string {
	mayHoldSecret := strings.Contains(v, "@") || strings.Contains(strings.ToLower(v), "password")
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		if mayHoldSecret {
			return "xxxxx"
		}
		return v
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil && strings.Contains(strings.ToLower(u.RawQuery), "password") {
		return "xxxxx"
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		}
	}
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return v
	}
	return u.String()
}

// Entry is one line of the effective configuration.
type Entry struct {
	Env, Flag, Value, Default, Usage, Accepts string
}

// Effective lists every setting with its effective value, secrets redacted.
func (c *Config) Effective() []Entry {
	var out []Entry
	for _, s := range settings() {
		v := s.get(c)
		if s.secret {
			v = s.redacted(v)
		}
		out = append(out, Entry{Env: s.env, Flag: "-" + s.flag, Value: v, Default: s.def, Usage: s.usage, Accepts: s.accepts})
	}
	return out
}

// PrintSettings writes a table of every setting: flag, environment
// variable, default and description.
func PrintSettings(w io.Writer) {
	for _, e := range Defaults().Effective() {
		fmt.Fprintf(w, "  %s, %s (default %q)\n        %s; accepts %s\n", e.Flag, e.Env, e.Default, e.Usage, e.Accepts)
	}
}

// ParseSize reads a byte size: a plain number, or one with a unit (B, KB,
// MB, GB, KiB, MiB, GiB; case-insensitive).
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("not a size")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, errors.New("size too large")
	}
	mult := map[string]int64{"": 1, "b": 1, "kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
		"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}
	m, ok := mult[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", strings.TrimSpace(s[i:]))
	}
	if n > (1<<62)/m {
		return 0, errors.New("size too large")
	}
	return n * m, nil
}

// FormatSize writes a size the way ParseSize reads it back.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}

// RedactArgs returns msg with the value of every secret setting given in
// args (as -flag=value, --flag=value or -flag value) replaced by its
// redacted form, so that a flag error never prints a password.
func RedactArgs(msg string, args []string) string {
	for _, s := range settings() {
		if !s.secret {
			continue
		}
		for i, a := range args {
			name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !strings.HasPrefix(a, "-") || name != s.flag {
				continue
			}
			if !hasVal {
				if i+1 >= len(args) {
					continue
				}
				val = args[i+1]
			}
			if val != "" {
				msg = strings.ReplaceAll(msg, val, s.redacted(val))
			}
		}
	}
	return msg
}
