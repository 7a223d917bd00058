package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envNames lists every PAINEL_* variable, in settings() order. FuzzBindEnv
// takes one argument per entry; TestEnvNamesMatchSettings keeps it in sync.
var envNames = []string{
	"PAINEL_ADDR",
	"PAINEL_DATA_DIR",
	"PAINEL_DATABASE_URL",
	"PAINEL_LOG_FORMAT",
	"PAINEL_LOG_LEVEL",
	"PAINEL_ENV",
	"PAINEL_CORS_ORIGINS",
	"PAINEL_SHUTDOWN_TIMEOUT",
	"PAINEL_SHUTDOWN_DELAY",
	"PAINEL_MAX_BODY",
	"PAINEL_READ_HEADER_TIMEOUT",
	"PAINEL_READ_TIMEOUT",
	"PAINEL_WRITE_TIMEOUT",
	"PAINEL_IDLE_TIMEOUT",
	"PAINEL_QR_SIGNING_KEYS",
	"PAINEL_REDIS_URL",
	"PAINEL_CACHE_BUDGET",
	"PAINEL_CACHE_OPTIMISE_EVERY",
	"PAINEL_MONITOR_INTERVAL",
	"PAINEL_SMTP_ADDR",
	"PAINEL_SMTP_FROM",
	"PAINEL_SMTP_USER",
	"PAINEL_SMTP_PASSWORD",
	"PAINEL_BACKUP_STORE",
	"PAINEL_BACKUP_PASSPHRASE",
	"PAINEL_BACKUP_RESTORE_DIR",
	"PAINEL_ADMIN_EMAIL",
	"PAINEL_ADMIN_PASSWORD",
	"PAINEL_AUTH_SIGNING_KEY",
	"PAINEL_AUTH_PREVIOUS_KEYS",
	"PAINEL_METRICS_TOKEN",
	"PAINEL_AUDIT_RETENTION",
	"PAINEL_RATE_LIMIT",
	"PAINEL_BACKUP_COMPRESSION",
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func bind(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Bind(newFlagSet(), mapEnv(env))
}

// configErrors flattens err (a single *Error or an errors.Join of them) and
// fails the test if any part is not an *Error.
func configErrors(t testing.TB, err error) []*Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	var out []*Error
	for _, p := range parts {
		var ce *Error
		if !errors.As(p, &ce) {
			t.Fatalf("error part %v (%T) is not a *config.Error", p, p)
		}
		out = append(out, ce)
	}
	return out
}

func TestEnvNamesMatchSettings(t *testing.T) {
	var got []string
	for _, s := range settings() {
		got = append(got, s.env)
	}
	if !reflect.DeepEqual(got, envNames) {
		t.Fatalf("settings env names = %v, test list = %v", got, envNames)
	}
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Addr", c.Addr, ":8000"},
		{"DataDir", c.DataDir, "data"},
		{"DatabaseURL", c.DatabaseURL, ""},
		{"LogFormat", c.LogFormat, "text"},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"Env", c.Env, Development},
		{"CORSOrigins", len(c.CORSOrigins), 0},
		{"ShutdownTimeout", c.ShutdownTimeout, 15 * time.Second},
		{"ShutdownDelay", c.ShutdownDelay, time.Duration(0)},
		{"MaxBodyBytes", c.MaxBodyBytes, int64(10 << 20)},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout, 10 * time.Second},
		{"ReadTimeout", c.ReadTimeout, 60 * time.Second},
		{"WriteTimeout", c.WriteTimeout, 60 * time.Second},
		{"IdleTimeout", c.IdleTimeout, 120 * time.Second},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("Defaults().%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Defaults().Validate() = %v, want nil", err)
	}
}

func TestBindEmptyEnvGivesDefaults(t *testing.T) {
	c, err := bind(t, nil)
	if err != nil {
		t.Fatalf("Bind with empty env: %v", err)
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Fatalf("Bind with empty env = %+v, want defaults %+v", c, Defaults())
	}
}

func TestBindAppliesEnv(t *testing.T) {
	tests := []struct {
		env   string
		value string
		check func(*Config) bool
	}{
		{"PAINEL_ADDR", "127.0.0.1:8080", func(c *Config) bool { return c.Addr == "127.0.0.1:8080" }},
		{"PAINEL_ADDR", ":0", func(c *Config) bool { return c.Addr == ":0" }},
		{"PAINEL_ADDR", "[::1]:9000", func(c *Config) bool { return c.Addr == "[::1]:9000" }},
		{"PAINEL_ADDR", "painel.example.com:443", func(c *Config) bool { return c.Addr == "painel.example.com:443" }},
		{"PAINEL_DATA_DIR", "/var/lib/painel/", func(c *Config) bool { return c.DataDir == "/var/lib/painel" }},
		{"PAINEL_DATA_DIR", "./x/../y", func(c *Config) bool { return c.DataDir == "y" }},
		{"PAINEL_DATABASE_URL", "sqlite:///srv/p.db", func(c *Config) bool { return c.DatabaseURL == "sqlite:///srv/p.db" }},
		{"PAINEL_DATABASE_URL", "postgres://u:p@db:5432/painel", func(c *Config) bool { return c.DatabaseURL == "postgres://u:p@db:5432/painel" }},
		{"PAINEL_LOG_FORMAT", "JSON", func(c *Config) bool { return c.LogFormat == "json" }},
		{"PAINEL_LOG_LEVEL", "debug", func(c *Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"PAINEL_LOG_LEVEL", "WARN", func(c *Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"PAINEL_LOG_LEVEL", "error", func(c *Config) bool { return c.LogLevel == slog.LevelError }},
		{"PAINEL_ENV", "Production", func(c *Config) bool { return c.Env == Production }},
		{"PAINEL_CORS_ORIGINS", "https://a.example.com, http://b.example.com:8080/ ,", func(c *Config) bool {
			return reflect.DeepEqual(c.CORSOrigins, []string{"https://a.example.com", "http://b.example.com:8080"})
		}},
		{"PAINEL_CORS_ORIGINS", "*", func(c *Config) bool { return reflect.DeepEqual(c.CORSOrigins, []string{"*"}) }},
		{"PAINEL_SHUTDOWN_TIMEOUT", "30s", func(c *Config) bool { return c.ShutdownTimeout == 30*time.Second }},
		{"PAINEL_SHUTDOWN_DELAY", "0s", func(c *Config) bool { return c.ShutdownDelay == 0 }},
		{"PAINEL_SHUTDOWN_DELAY", "2s", func(c *Config) bool { return c.ShutdownDelay == 2*time.Second }},
		{"PAINEL_MAX_BODY", "512KiB", func(c *Config) bool { return c.MaxBodyBytes == 512<<10 }},
		{"PAINEL_MAX_BODY", "10MB", func(c *Config) bool { return c.MaxBodyBytes == 10_000_000 }},
		{"PAINEL_MAX_BODY", "1024", func(c *Config) bool { return c.MaxBodyBytes == 1024 }},
		{"PAINEL_READ_HEADER_TIMEOUT", "500ms", func(c *Config) bool { return c.ReadHeaderTimeout == 500*time.Millisecond }},
		{"PAINEL_READ_TIMEOUT", "2m", func(c *Config) bool { return c.ReadTimeout == 2*time.Minute }},
		{"PAINEL_WRITE_TIMEOUT", "90s", func(c *Config) bool { return c.WriteTimeout == 90*time.Second }},
		{"PAINEL_IDLE_TIMEOUT", "1h", func(c *Config) bool { return c.IdleTimeout == time.Hour }},
		{"PAINEL_BACKUP_COMPRESSION", " Best ", func(c *Config) bool { return c.BackupCompression == "best" }},
		{"PAINEL_BACKUP_COMPRESSION", "default", func(c *Config) bool { return c.BackupCompression == "default" }},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			c, err := bind(t, map[string]string{tt.env: tt.value})
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			if !tt.check(c) {
				t.Fatalf("Bind(%s=%q) gave %+v", tt.env, tt.value, c)
			}
		})
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	tests := []struct {
		env, envValue string
		args          []string
		check         func(*Config) bool
	}{
		{"PAINEL_ADDR", ":9000", []string{"-addr", "127.0.0.1:7000"}, func(c *Config) bool { return c.Addr == "127.0.0.1:7000" }},
		{"PAINEL_LOG_FORMAT", "json", []string{"-log-format=text"}, func(c *Config) bool { return c.LogFormat == "text" }},
		{"PAINEL_LOG_LEVEL", "error", []string{"-log-level", "debug"}, func(c *Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"PAINEL_SHUTDOWN_TIMEOUT", "30s", []string{"-shutdown-timeout", "5s"}, func(c *Config) bool { return c.ShutdownTimeout == 5*time.Second }},
		{"PAINEL_MAX_BODY", "2MiB", []string{"-max-body", "4KiB"}, func(c *Config) bool { return c.MaxBodyBytes == 4<<10 }},
		{"PAINEL_DATA_DIR", "/env/dir", []string{"-data-dir", "/flag/dir/"}, func(c *Config) bool { return c.DataDir == "/flag/dir" }},
		{"PAINEL_CORS_ORIGINS", "https://env.example.com", []string{"-cors-origins", "https://flag.example.com"}, func(c *Config) bool {
			return reflect.DeepEqual(c.CORSOrigins, []string{"https://flag.example.com"})
		}},
		// Without the flag, the env value stays.
		{"PAINEL_ADDR", ":9000", nil, func(c *Config) bool { return c.Addr == ":9000" }},
	}
	for _, tt := range tests {
		t.Run(tt.env+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			fs := newFlagSet()
			c, err := Bind(fs, mapEnv(map[string]string{tt.env: tt.envValue}))
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if !tt.check(c) {
				t.Fatalf("after env %s=%q and flags %q: %+v", tt.env, tt.envValue, tt.args, c)
			}
		})
	}
}

func TestBadFlagIsRefused(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"-addr", "nope"}, "accepts host:port"},
		{[]string{"-max-body", "12"}, "at least 1KiB"},
		{[]string{"-log-format", "xml"}, "accepts text or json"},
		{[]string{"-read-timeout", "-1s"}, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := newFlagSet()
			before, err := Bind(fs, mapEnv(nil))
			if err != nil {
				t.Fatal(err)
			}
			snapshot := *before
			err = fs.Parse(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tt.args, err, tt.want)
			}
			if !reflect.DeepEqual(*before, snapshot) {
				t.Fatalf("a refused flag changed the config: %+v", before)
			}
		})
	}
}

func TestBadEnvValues(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		value   string
		accepts string // a part of what the message says the variable accepts
	}{
		{"addr without port", "PAINEL_ADDR", "localhost", "host:port"},
		{"addr port out of range", "PAINEL_ADDR", ":70000", "host:port"},
		{"addr negative port", "PAINEL_ADDR", ":-1", "host:port"},
		{"addr port not a number", "PAINEL_ADDR", ":http", "host:port"},
		{"addr empty port", "PAINEL_ADDR", "127.0.0.1:", "host:port"},
		{"addr bad host", "PAINEL_ADDR", "bad_host!:80", "host:port"},
		{"data dir blank", "PAINEL_DATA_DIR", "   ", "a folder path"},
		{"log format", "PAINEL_LOG_FORMAT", "xml", "text or json"},
		{"log level", "PAINEL_LOG_LEVEL", "verbose", "debug, info, warn or error"},
		{"env", "PAINEL_ENV", "staging", "development or production"},
		{"duration", "PAINEL_SHUTDOWN_TIMEOUT", "15", "positive duration"},
		{"duration word", "PAINEL_READ_TIMEOUT", "soon", "positive duration"},
		{"negative duration", "PAINEL_WRITE_TIMEOUT", "-5s", "positive duration"},
		{"zero timeout", "PAINEL_IDLE_TIMEOUT", "0s", "positive duration"},
		{"negative delay", "PAINEL_SHUTDOWN_DELAY", "-1s", "a duration like 0s"},
		{"delay not a duration", "PAINEL_SHUTDOWN_DELAY", "later", "a duration like 0s"},
		{"header timeout", "PAINEL_READ_HEADER_TIMEOUT", "1x", "positive duration"},
		{"cors origin with path", "PAINEL_CORS_ORIGINS", "https://app.example.com/app", "comma-separated origins"},
		{"cors ftp scheme", "PAINEL_CORS_ORIGINS", "ftp://files.example.com", "comma-separated origins"},
		{"cors no scheme", "PAINEL_CORS_ORIGINS", "app.example.com", "comma-separated origins"},
		{"cors query", "PAINEL_CORS_ORIGINS", "https://a.example.com?x=1", "comma-separated origins"},
		{"cors fragment", "PAINEL_CORS_ORIGINS", "https://a.example.com#x", "comma-separated origins"},
		{"cors userinfo", "PAINEL_CORS_ORIGINS", "https://u@a.example.com", "comma-separated origins"},
		{"cors one bad among good", "PAINEL_CORS_ORIGINS", "https://ok.example.com,http://", "comma-separated origins"},
		{"size", "PAINEL_MAX_BODY", "big", "a size like"},
		{"size unit", "PAINEL_MAX_BODY", "10TB", "a size like"},
		{"size too small", "PAINEL_MAX_BODY", "1000", "a size like"},
		{"size too small with unit", "PAINEL_MAX_BODY", "1KB", "a size like"},
		{"size negative", "PAINEL_MAX_BODY", "-1MiB", "a size like"},
		{"size overflow", "PAINEL_MAX_BODY", "99999999999999999999", "a size like"},
		{"database scheme", "PAINEL_DATABASE_URL", "mysql://u@h/db", "sqlite://PATH"},
		{"sqlite no path", "PAINEL_DATABASE_URL", "sqlite://", "sqlite://PATH"},
		{"sqlite options", "PAINEL_DATABASE_URL", "sqlite:///x.db?mode=ro", "sqlite://PATH"},
		{"postgres no host", "PAINEL_DATABASE_URL", "postgres:///painel", "postgres://"},
		{"postgres malformed", "PAINEL_DATABASE_URL", "postgres://h:port/db", "postgres://"},
		{"compression level number", "PAINEL_BACKUP_COMPRESSION", "3", "fastest, default, better or best"},
		{"compression unknown", "PAINEL_BACKUP_COMPRESSION", "max", "fastest, default, better or best"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := bind(t, map[string]string{tt.env: tt.value})
			if err == nil {
				t.Fatalf("Bind(%s=%q) = nil error, config %+v", tt.env, tt.value, c)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Bind error %v (%T) is not a *config.Error", err, err)
			}
			if ce.Source != tt.env {
				t.Errorf("Error.Source = %q, want %q", ce.Source, tt.env)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.env) {
				t.Errorf("message %q does not name %s", msg, tt.env)
			}
			if !strings.Contains(msg, "accepts ") || !strings.Contains(msg, tt.accepts) {
				t.Errorf("message %q does not say it accepts %q", msg, tt.accepts)
			}
			if ce.Reason == "" {
				t.Errorf("Error.Reason is empty: %q", msg)
			}
			if n := len(configErrors(t, err)); n != 1 {
				t.Errorf("got %d errors for one bad variable: %v", n, err)
			}
			// The bad value leaves the default in place.
			if !reflect.DeepEqual(c, Defaults()) {
				t.Errorf("a refused value changed the config: %+v", c)
			}
		})
	}
}

func TestSeveralBadVariablesAllReported(t *testing.T) {
	env := map[string]string{
		"PAINEL_ADDR":         ":70000",
		"PAINEL_LOG_FORMAT":   "xml",
		"PAINEL_ENV":          "staging",
		"PAINEL_MAX_BODY":     "tiny",
		"PAINEL_READ_TIMEOUT": "-1s",
		"PAINEL_LOG_LEVEL":    "info", // good: not reported
	}
	_, err := bind(t, env)
	if err == nil {
		t.Fatal("Bind with several bad variables = nil error")
	}
	got := map[string]bool{}
	for _, ce := range configErrors(t, err) {
		if got[ce.Source] {
			t.Errorf("%s reported twice", ce.Source)
		}
		got[ce.Source] = true
	}
	want := map[string]bool{"PAINEL_ADDR": true, "PAINEL_LOG_FORMAT": true, "PAINEL_ENV": true, "PAINEL_MAX_BODY": true, "PAINEL_READ_TIMEOUT": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reported %v, want %v", got, want)
	}
	for name := range want {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("joined message does not name %s: %q", name, err.Error())
		}
	}
}

func TestSecretNeverShown(t *testing.T) {
	const pw = "S3cr3tPassw0rd"
	tests := []struct {
		name  string
		url   string
		valid bool // Bind accepts it
	}{
		{"userinfo", "postgres://painel:" + pw + "@db.example.com:5432/painel", true},
		{"postgresql scheme", "postgresql://painel:" + pw + "@db.example.com/painel?sslmode=require", true},
		{"query param", "postgres://painel@db.example.com/painel?password=" + pw, true},
		{"query param, no user", "postgres://db.example.com/painel?sslmode=require&password=" + pw, true},
		{"both", "postgres://painel:" + pw + "@db.example.com/painel?password=" + pw, true},
		{"no host", "postgres://painel:" + pw + "@/painel", false},
		{"no host, query param", "postgres:///painel?password=" + pw, false},
		{"malformed port", "postgres://painel:" + pw + "@db:port/painel", false},
		{"malformed port, query param", "postgres://db:port/painel?password=" + pw, false},
		{"unknown scheme", "mysql://painel:" + pw + "@db.example.com/painel", false},
		{"no scheme", "painel:" + pw + "@db.example.com/painel", false},
		{"key=value DSN", "host=db.example.com user=painel password=" + pw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := bind(t, map[string]string{"PAINEL_DATABASE_URL": tt.url})
			if tt.valid != (err == nil) {
				t.Fatalf("Bind(%q) error = %v, want valid=%v", tt.url, err, tt.valid)
			}
			if err != nil {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("Bind error shows the password: %q", err.Error())
				}
				for _, ce := range configErrors(t, err) {
					if strings.Contains(ce.Value, pw) {
						t.Errorf("Error.Value shows the password: %q", ce.Value)
					}
				}
				return
			}
			for _, e := range c.Effective() {
				if strings.Contains(e.Value, pw) {
					t.Errorf("Effective %s=%q shows the password", e.Env, e.Value)
				}
			}
			// Production refusing sslmode=disable must not show it either.
			c.Env = Production
			c.DataDir = "/srv/painel"
			if strings.Contains(tt.url, "?") {
				c.DatabaseURL = strings.Replace(tt.url, "?", "?sslmode=disable&", 1)
			} else {
				c.DatabaseURL = tt.url + "?sslmode=disable"
			}
			if err := c.Validate(); err == nil {
				t.Errorf("Validate accepted sslmode=disable to a remote host: %q", c.DatabaseURL)
			} else if strings.Contains(err.Error(), pw) {
				t.Errorf("Validate error shows the password: %q", err.Error())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	prod := func(mod func(c *Config)) *Config {
		c := Defaults()
		c.Env = Production
		c.DataDir = "/var/lib/painel"
		c.QRKeys, c.QRActiveKey = map[uint8][]byte{1: make([]byte, 32)}, 1
		c.AuthSigningKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		if mod != nil {
			mod(c)
		}
		return c
	}
	tests := []struct {
		name    string
		cfg     *Config
		sources []string // the settings named by the errors; nil means valid
	}{
		{"development defaults", Defaults(), nil},
		{"development allows relative dir and *", func() *Config {
			c := Defaults()
			c.CORSOrigins = []string{"*"}
			c.DatabaseURL = "postgres://u:p@db.example.com/x?sslmode=disable"
			return c
		}(), nil},
		{"production safe", prod(nil), nil},
		{"production without QR signing keys", prod(func(c *Config) { c.QRKeys = nil }), []string{"PAINEL_QR_SIGNING_KEYS"}},
		{"production without the token signing key", prod(func(c *Config) { c.AuthSigningKey = "" }), []string{"PAINEL_AUTH_SIGNING_KEY"}},
		{"production relative data dir", prod(func(c *Config) { c.DataDir = "data" }), []string{"PAINEL_DATA_DIR"}},
		{"production wildcard CORS", prod(func(c *Config) { c.CORSOrigins = []string{"https://a.example.com", "*"} }), []string{"PAINEL_CORS_ORIGINS"}},
		{"production explicit CORS", prod(func(c *Config) { c.CORSOrigins = []string{"https://a.example.com"} }), nil},
		{"production sslmode=disable remote", prod(func(c *Config) {
			c.DatabaseURL = "postgres://u:p@db.example.com:5432/painel?sslmode=disable"
		}), []string{"PAINEL_DATABASE_URL"}},
		{"production sslmode=disable remote IP", prod(func(c *Config) {
			c.DatabaseURL = "postgresql://u:p@10.0.0.5/painel?sslmode=disable"
		}), []string{"PAINEL_DATABASE_URL"}},
		{"production sslmode=disable, host in query", prod(func(c *Config) {
			c.DatabaseURL = "postgres:///painel?host=db.example.com&sslmode=disable"
		}), []string{"PAINEL_DATABASE_URL"}},
		{"production sslmode=disable, query host overrides URL host", prod(func(c *Config) {
			c.DatabaseURL = "postgres://localhost/painel?host=db.example.com&sslmode=disable"
		}), []string{"PAINEL_DATABASE_URL"}},
		{"production sslmode=disable localhost", prod(func(c *Config) {
			c.DatabaseURL = "postgres://u:p@localhost:5432/painel?sslmode=disable"
		}), nil},
		{"production sslmode=disable 127.0.0.1", prod(func(c *Config) {
			c.DatabaseURL = "postgres://u:p@127.0.0.1/painel?sslmode=disable"
		}), nil},
		{"production sslmode=disable ::1", prod(func(c *Config) {
			c.DatabaseURL = "postgres://u:p@[::1]:5432/painel?sslmode=disable"
		}), nil},
		{"production sslmode=disable unix socket", prod(func(c *Config) {
			c.DatabaseURL = "postgres:///painel?host=/var/run/postgresql&sslmode=disable"
		}), nil},
		{"production sslmode=require remote", prod(func(c *Config) {
			c.DatabaseURL = "postgres://u:p@db.example.com/painel?sslmode=require"
		}), nil},
		{"production sqlite", prod(func(c *Config) { c.DatabaseURL = "sqlite:///srv/painel.db" }), nil},
		{"delay equal to timeout", func() *Config {
			c := Defaults()
			c.ShutdownDelay = c.ShutdownTimeout
			return c
		}(), []string{"PAINEL_SHUTDOWN_DELAY"}},
		{"delay above timeout", func() *Config {
			c := Defaults()
			c.ShutdownTimeout, c.ShutdownDelay = 5*time.Second, 10*time.Second
			return c
		}(), []string{"PAINEL_SHUTDOWN_DELAY"}},
		{"delay below timeout", func() *Config {
			c := Defaults()
			c.ShutdownDelay = 14 * time.Second
			return c
		}(), nil},
		{"production, everything wrong", prod(func(c *Config) {
			c.DataDir = "./data"
			c.CORSOrigins = []string{"*"}
			c.DatabaseURL = "postgres://db.example.com/x?sslmode=disable"
			c.ShutdownDelay = time.Minute
		}), []string{"PAINEL_DATA_DIR", "PAINEL_CORS_ORIGINS", "PAINEL_DATABASE_URL", "PAINEL_SHUTDOWN_DELAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			for _, ce := range configErrors(t, err) {
				got = append(got, ce.Source)
				if !strings.Contains(ce.Error(), ce.Source) || !strings.Contains(ce.Error(), "accepts ") {
					t.Errorf("message %q does not name %s and what it accepts", ce.Error(), ce.Source)
				}
			}
			if !reflect.DeepEqual(got, tt.sources) {
				t.Fatalf("Validate() = %v; sources %v, want %v", err, got, tt.sources)
			}
		})
	}
}

func TestBindThenValidateDelay(t *testing.T) {
	// Each value is fine alone; together the delay is too long.
	c, err := bind(t, map[string]string{"PAINEL_SHUTDOWN_TIMEOUT": "5s", "PAINEL_SHUTDOWN_DELAY": "5s"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	var ce *Error
	if !errors.As(err, &ce) || ce.Source != "PAINEL_SHUTDOWN_DELAY" || !strings.Contains(err.Error(), "PAINEL_SHUTDOWN_TIMEOUT") {
		t.Fatalf("Validate() = %v, want a PAINEL_SHUTDOWN_DELAY error mentioning the timeout", err)
	}
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		raw, dataDir string
		kind, target string
		wantErr      string
	}{
		{"", "data", SQLite, "data/painel.db", ""},
		{"", "/srv/painel", SQLite, "/srv/painel/painel.db", ""},
		{"sqlite:///abs/path/p.db", "data", SQLite, "/abs/path/p.db", ""},
		{"sqlite://rel/p.db", "data", SQLite, "rel/p.db", ""},
		{"sqlite://./x/../p.db", "data", SQLite, "p.db", ""},
		{"sqlite://", "data", "", "", "needs a path"},
		{"sqlite://p.db?mode=ro", "data", "", "", "no options"},
		{"sqlite://p.db#frag", "data", "", "", "no options"},
		{"postgres://u:p@db:5432/painel", "data", Postgres, "postgres://u:p@db:5432/painel", ""},
		{"postgresql://db/painel?sslmode=require", "data", Postgres, "postgresql://db/painel?sslmode=require", ""},
		{"postgres:///painel?host=/var/run/postgresql", "data", Postgres, "postgres:///painel?host=/var/run/postgresql", ""},
		{"postgres:///painel", "data", "", "", "needs a host"},
		{"postgres://u:p@/painel", "data", "", "", "needs a host"},
		{"postgres://db:port/painel", "data", "", "", "malformed"},
		{"mysql://db/painel", "data", "", "", "unknown database scheme"},
		{"painel.db", "data", "", "", "unknown database scheme"},
		{"SQLITE://p.db", "data", "", "", "unknown database scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			kind, target, err := ParseDatabaseURL(tt.raw, tt.dataDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDatabaseURL(%q) = %q, %q, %v; want error containing %q", tt.raw, kind, target, err, tt.wantErr)
				}
				if kind != "" || target != "" {
					t.Errorf("on error got kind %q target %q, want empty", kind, target)
				}
				return
			}
			if err != nil || kind != tt.kind || target != tt.target {
				t.Fatalf("ParseDatabaseURL(%q, %q) = %q, %q, %v; want %q, %q", tt.raw, tt.dataDir, kind, target, err, tt.kind, tt.target)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1048576", 1 << 20, false},
		{"  2048  ", 2048, false},
		{"10B", 10, false},
		{"1KB", 1000, false},
		{"1kb", 1000, false},
		{"10MB", 10_000_000, false},
		{"2GB", 2_000_000_000, false},
		{"1K", 1 << 10, false},
		{"512KiB", 512 << 10, false},
		{"1MiB", 1 << 20, false},
		{"1mib", 1 << 20, false},
		{"3M", 3 << 20, false},
		{"4GiB", 4 << 30, false},
		{"2g", 2 << 30, false},
		{"1 MiB", 1 << 20, false},
		{"4294967296GiB", 1 << 62, false},
		{"4611686018427387904", 1 << 62, false},
		{"", 0, true},
		{"   ", 0, true},
		{"MiB", 0, true},
		{"-1", 0, true},
		{"+1", 0, true},
		{"1.5MiB", 0, true},
		{"1TB", 0, true},
		{"1 M iB", 0, true},
		{"1e6", 0, true},
		{"4294967297GiB", 0, true},
		{"4611686018427387905", 0, true},
		{"9223372036854775807", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSize(%q) = %d, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1000, "1000"},
		{1023, "1023"},
		{1024, "1KiB"},
		{1536, "1536"},
		{512 << 10, "512KiB"},
		{1 << 20, "1MiB"},
		{1<<20 + 1024, "1025KiB"},
		{10_000_000, "10000000"},
		{1 << 30, "1GiB"},
		{3 << 30, "3GiB"},
		{1<<30 + 1<<20, "1025MiB"},
		{1 << 62, "4294967296GiB"},
		{math.MaxInt64, "9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatSize(tt.in); got != tt.want {
				t.Fatalf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSizeRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, 1023, 1024, 1025, 4096, 1 << 20, 10_000_000, 1 << 30, 5<<30 + 7, 1<<62 - 1, 1 << 62} {
		s := FormatSize(n)
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"password in userinfo", "postgres://painel:hunter2@db:5432/painel", "postgres://painel:xxxxx@db:5432/painel"},
		{"password in userinfo with query", "postgres://painel:hunter2@db/painel?sslmode=require", "postgres://painel:xxxxx@db/painel?sslmode=require"},
		{"empty password", "postgres://painel:@db/painel", "postgres://painel:xxxxx@db/painel"},
		{"password query param", "postgres://painel@db/painel?password=hunter2", "postgres://painel@db/painel?password=xxxxx"},
		{"password query param, no userinfo", "postgres://db/painel?sslmode=require&password=hunter2", "postgres://db/painel?password=xxxxx&sslmode=require"},
		{"both", "postgres://painel:hunter2@db/painel?password=hunter2", "postgres://painel:xxxxx@db/painel?password=xxxxx"},
		{"user without password", "postgres://painel@db/painel", "postgres://painel@db/painel"},
		{"no password", "postgres://db:5432/painel?sslmode=disable", "postgres://db:5432/painel?sslmode=disable"},
		{"empty", "", ""},
		{"sqlite", "sqlite:///srv/painel.db", "sqlite:///srv/painel.db"},
		{"not a URL", "just some text", "just some text"},
		{"unparsable with @", "postgres://painel:hunter2@db:port/painel", "xxxxx"},
		{"unparsable with password param", "postgres://db:port/painel?password=hunter2", "xxxxx"},
		{"unparsable without secret", "postgres://db:port/painel", "postgres://db:port/painel"},
		{"password param with a bad escape", "postgres://db/painel?password=hunter2%zz", "xxxxx"},
		{"password param after a semicolon", "postgres://db/painel?a=1;password=hunter2", "xxxxx"},
		{"no scheme, user:password", "painel:hunter2@db/painel", "xxxxx"},
		{"key=value DSN", "host=db user=painel password=hunter2", "xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Fatalf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Fatalf("Redact(%q) = %q still shows the password", tt.in, got)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	env := map[string]string{
		"PAINEL_ADDR":                "127.0.0.1:9000",
		"PAINEL_DATA_DIR":            "/srv/painel/",
		"PAINEL_DATABASE_URL":        "postgres://painel:hunter2@db/painel",
		"PAINEL_LOG_FORMAT":          "json",
		"PAINEL_LOG_LEVEL":           "warn",
		"PAINEL_ENV":                 "production",
		"PAINEL_CORS_ORIGINS":        "https://a.example.com,https://b.example.com/",
		"PAINEL_SHUTDOWN_TIMEOUT":    "20s",
		"PAINEL_SHUTDOWN_DELAY":      "3s",
		"PAINEL_MAX_BODY":            "2MiB",
		"PAINEL_READ_HEADER_TIMEOUT": "5s",
		"PAINEL_READ_TIMEOUT":        "30s",
		"PAINEL_WRITE_TIMEOUT":       "45s",
		"PAINEL_IDLE_TIMEOUT":        "2m",
	}
	c, err := bind(t, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PAINEL_ADDR":                 "127.0.0.1:9000",
		"PAINEL_DATA_DIR":             "/srv/painel",
		"PAINEL_DATABASE_URL":         "postgres://painel:xxxxx@db/painel",
		"PAINEL_LOG_FORMAT":           "json",
		"PAINEL_LOG_LEVEL":            "warn",
		"PAINEL_ENV":                  "production",
		"PAINEL_CORS_ORIGINS":         "https://a.example.com,https://b.example.com",
		"PAINEL_SHUTDOWN_TIMEOUT":     "20s",
		"PAINEL_SHUTDOWN_DELAY":       "3s",
		"PAINEL_MAX_BODY":             "2MiB",
		"PAINEL_READ_HEADER_TIMEOUT":  "5s",
		"PAINEL_READ_TIMEOUT":         "30s",
		"PAINEL_WRITE_TIMEOUT":        "45s",
		"PAINEL_IDLE_TIMEOUT":         "2m0s",
		"PAINEL_CACHE_BUDGET":         "256MiB",
		"PAINEL_CACHE_OPTIMISE_EVERY": "0s",
		"PAINEL_MONITOR_INTERVAL":     "1s",
		"PAINEL_SMTP_FROM":            "painel@localhost",
		"PAINEL_RATE_LIMIT":           "50",
		"PAINEL_BACKUP_COMPRESSION":   "fastest",
		"PAINEL_AUDIT_RETENTION":      "8760h0m0s",
	}
	entries := c.Effective()
	if len(entries) != len(envNames) {
		t.Fatalf("Effective has %d entries, want %d", len(entries), len(envNames))
	}
	for i, e := range entries {
		if e.Env != envNames[i] {
			t.Errorf("entry %d is %s, want %s", i, e.Env, envNames[i])
		}
		if e.Value != want[e.Env] {
			t.Errorf("Effective %s = %q, want %q", e.Env, e.Value, want[e.Env])
		}
		if !strings.HasPrefix(e.Flag, "-") || e.Usage == "" || e.Accepts == "" {
			t.Errorf("entry %+v lacks a flag, usage or accepts", e)
		}
	}

	// Every shown value (but the redacted secret) reads back to the same config.
	back := map[string]string{}
	for _, e := range entries {
		if e.Env != "PAINEL_DATABASE_URL" {
			back[e.Env] = e.Value
		}
	}
	back["PAINEL_DATABASE_URL"] = c.DatabaseURL
	c2, err := bind(t, back)
	if err != nil {
		t.Fatalf("Bind of Effective values: %v", err)
	}
	if !reflect.DeepEqual(c, c2) {
		t.Fatalf("Effective values read back to %+v, want %+v", c2, c)
	}
}

func TestDefaultsEffectiveMatchDefaults(t *testing.T) {
	// Each setting's declared default, read through Bind, gives Defaults().
	env := map[string]string{}
	for _, e := range Defaults().Effective() {
		env[e.Env] = e.Default
	}
	c, err := bind(t, env)
	if err != nil {
		t.Fatalf("Bind of declared defaults: %v", err)
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Fatalf("declared defaults give %+v, want %+v", c, Defaults())
	}
}

func TestPrintSettings(t *testing.T) {
	var b strings.Builder
	PrintSettings(&b)
	out := b.String()
	for _, name := range envNames {
		if !strings.Contains(out, name) {
			t.Errorf("PrintSettings does not list %s", name)
		}
	}
	for _, s := range settings() {
		if !strings.Contains(out, "-"+s.flag+", ") {
			t.Errorf("PrintSettings does not list -%s", s.flag)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1024", "1MiB", "10MB", " 2 gib ", "4294967296GiB", "4611686018427387904",
		"99999999999999999999", "1.5K", "-1", "", "1TB", "7b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 || n > 1<<62 {
			t.Fatalf("ParseSize(%q) = %d, out of range", s, n)
		}
		f := FormatSize(n)
		back, err := ParseSize(f)
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d; FormatSize = %q; ParseSize of that = %d, %v", s, n, f, back, err)
		}
	})
}

func FuzzBindEnv(f *testing.F) {
	f.Add(":8000", "./data", "", "text", "info", "development", "", "15s", "0s", "1MiB", "10s", "60s", "60s", "120s", "", "", "256MiB", "0s", "1s", "", "painel@localhost", "", "", "", "", "", "", "", "", "", "", "8760h0m0s", "50", "fastest")
	f.Add("localhost", "  ", "mysql://u:p@h/db", "xml", "loud", "staging", "ftp://x", "15", "-1s", "1KB", "0s", "-1m", "x", "1e3s", "1:00", "", "256MiB", "0s", "100ms", "smtp", "a\x01b", "u", "p", "s3://k:s@h:1/b/p", "senha", "/srv/r", "admin@x", "senha-longa-1", "abc", "a,b", "tok", "1h", "-1", "zstd")
	f.Add("[::1]:70000", "/srv", "sqlite://", "JSON", "DEBUG+2", "Production", "*,https://a.example.com/", "1h", "59m", "4294967296GiB", "1ns", "1us", "1ms", "1m", "1:abababababababababababababababababababababababababababababababab,2:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "", "256MiB", "0s", "1h1s", "[::1]:25", "x@y", "", "s3cr3t", "relative/dir", "\x01", "r", "no-at", "\x01", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "\x02", "", "0s", "1e9", " BEST ")
	f.Add("h:-0", "a\x00b", "postgres://u:p@h:port/db?password=x", "", "warn-4", "PRODUCTION", "http://[::1]:80", "9223372036854775807ns", "2562048h", "99999999999999999999", "1h1m1s", "0", "+5s", ".5s", "0:abababababababababababababababababababababababababababababababab", "", "256MiB", "0s", "250ms", "h:", "", "\xff", "", "s3://h/b", "", "", "a@b.c", "", "", "", "\xff", "99999h", "NaN", "")
	f.Fuzz(func(t *testing.T, addr, dataDir, db, logFormat, logLevel, env, cors, shutdownTimeout, shutdownDelay,
		maxBody, readHeaderTimeout, readTimeout, writeTimeout, idleTimeout, qrKeys, redisURL, cacheBudget, optimise,
		monitorInterval, smtpAddr, smtpFrom, smtpUser, smtpPassword, backupStore, backupPass, restoreDir,
		adminEmail, adminPassword, signingKey, previousKeys, metricsToken, auditRetention, rateLimit, compression string) {
		values := []string{addr, dataDir, db, logFormat, logLevel, env, cors, shutdownTimeout, shutdownDelay,
			maxBody, readHeaderTimeout, readTimeout, writeTimeout, idleTimeout, qrKeys, redisURL, cacheBudget, optimise,
			monitorInterval, smtpAddr, smtpFrom, smtpUser, smtpPassword, backupStore, backupPass, restoreDir,
			adminEmail, adminPassword, signingKey, previousKeys, metricsToken, auditRetention, rateLimit, compression}
		m := map[string]string{}
		for i, name := range envNames {
			m[name] = values[i]
		}
		c, err := Bind(newFlagSet(), mapEnv(m))
		if c == nil {
			t.Fatal("Bind returned a nil config")
		}
		seen := map[string]bool{}
		for _, ce := range configErrors(t, err) {
			if !strings.HasPrefix(ce.Source, "PAINEL_") || m[ce.Source] == "" {
				t.Fatalf("error names %q, not a set PAINEL_ variable: %v", ce.Source, ce)
			}
			if seen[ce.Source] {
				t.Fatalf("%s reported twice: %v", ce.Source, err)
			}
			seen[ce.Source] = true
			if !strings.Contains(ce.Error(), ce.Source) || !strings.Contains(ce.Error(), "accepts ") {
				t.Fatalf("message %q does not name %s and what it accepts", ce.Error(), ce.Source)
			}
		}
		_ = c.Validate() // must not panic
		entries := c.Effective()

		// What the config shows reads back to the same config.
		back := map[string]string{}
		for _, e := range entries {
			back[e.Env] = e.Value
		}
		back["PAINEL_DATABASE_URL"] = c.DatabaseURL // secrets are shown redacted
		back["PAINEL_QR_SIGNING_KEYS"] = c.qrKeysRaw
		back["PAINEL_REDIS_URL"] = c.RedisURL
		back["PAINEL_SMTP_PASSWORD"] = c.SMTPPassword
		back["PAINEL_BACKUP_STORE"] = c.BackupStore
		back["PAINEL_BACKUP_PASSPHRASE"] = c.BackupPassphrase
		back["PAINEL_ADMIN_PASSWORD"] = c.AdminPassword
		back["PAINEL_AUTH_SIGNING_KEY"] = c.AuthSigningKey
		back["PAINEL_AUTH_PREVIOUS_KEYS"] = c.AuthPreviousKeys
		back["PAINEL_METRICS_TOKEN"] = c.MetricsToken
		c2, err := Bind(newFlagSet(), mapEnv(back))
		if err != nil {
			t.Fatalf("Effective values of %+v do not read back: %v", c, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("Effective values read back to %+v, want %+v", c2, c)
		}
	})
}

// FuzzRedact checks that a password Redact is given never survives it,
// whether in the userinfo or in a password query parameter.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"postgres://u:p@h/db", "postgres://h/db?password=p", "postgres://u:p@h:x/db",
		"host=h password=p", "u:p@h", "postgres://u@h/db?a=1;password=p", "postgres://h/db?password=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := Redact(v)
		if got == "xxxxx" {
			return
		}
		u, err := url.Parse(v)
		if err != nil {
			return
		}
		if u.User != nil {
			if p, has := u.User.Password(); has && p != "xxxxx" {
				ru, err := url.Parse(got)
				if err != nil {
					t.Fatalf("Redact(%q) = %q, which does not parse: %v", v, got, err)
				}
				if rp, _ := ru.User.Password(); rp != "xxxxx" {
					t.Fatalf("Redact(%q) = %q keeps password %q", v, got, rp)
				}
			}
		}
		for _, p := range u.Query()["password"] {
			if p != "" && p != "xxxxx" {
				ru, err := url.Parse(got)
				if err != nil {
					t.Fatalf("Redact(%q) = %q, which does not parse: %v", v, got, err)
				}
				for _, rp := range ru.Query()["password"] {
					if rp != "xxxxx" {
						t.Fatalf("Redact(%q) = %q keeps password %q", v, got, rp)
					}
				}
			}
		}
	})
}

func TestQRSigningKeys(t *testing.T) {
	seed1, seed2 := strings.Repeat("ab", 32), strings.Repeat("0c", 32)
	c, err := bind(t, map[string]string{"PAINEL_QR_SIGNING_KEYS": "1:" + seed1 + ", 7:" + seed2})
	if err != nil {
		t.Fatal(err)
	}
	if c.QRActiveKey != 7 || len(c.QRKeys) != 2 || c.QRKeys[1][0] != 0xab || c.QRKeys[7][0] != 0x0c {
		t.Fatalf("keys %v active %d", c.QRKeys, c.QRActiveKey)
	}
	for _, e := range c.Effective() {
		if e.Env == "PAINEL_QR_SIGNING_KEYS" && (strings.Contains(e.Value, seed1) || e.Value != "1:xxxxx,7:xxxxx") {
			t.Errorf("Effective shows %q", e.Value)
		}
	}
	for _, bad := range []string{"0:" + seed1, "256:" + seed1, "x:" + seed1, "1:" + seed1[:62], "1:zz" + seed1[2:], "1:" + seed1 + ",1:" + seed2, seed1} {
		_, err := bind(t, map[string]string{"PAINEL_QR_SIGNING_KEYS": bad})
		var ce *Error
		if !errors.As(err, &ce) || ce.Source != "PAINEL_QR_SIGNING_KEYS" {
			t.Errorf("%q: error %v, want one naming PAINEL_QR_SIGNING_KEYS", bad, err)
			continue
		}
		if strings.Contains(err.Error(), seed1[4:]) {
			t.Errorf("%q: error shows the seed: %v", bad, err)
		}
	}
}
