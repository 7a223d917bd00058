package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/painel-universal/painel/internal/auth"
	"github.com/painel-universal/painel/internal/backup"
	"github.com/painel-universal/painel/internal/cache"
	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/monitor"
	"github.com/painel-universal/painel/internal/qrcode"
	"github.com/painel-universal/painel/internal/qrcode/token"
	"github.com/painel-universal/painel/internal/store"
)

func runServe(ctx context.Context, e *env, args []string) int {
	cfg, fs, code := loadConfig(e, "serve", "[flags]", args)
	if cfg == nil {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "painel serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	log := newLogger(e, cfg)
	if err := serve(ctx, cfg, log, e.hooks); err != nil {
		log.Error("painel stopped with an error", "error", err)
		return exitError
	}
	return exitOK
}

// openStore creates the data folder, opens the store and applies pending
// migrations.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	for _, m := range applied {
		log.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// authMaintenance prunes the audit log and expired sessions (pruneAuth) at start and then
// once a day.
func authMaintenance(ctx context.Context, a *auth.Service, retention time.Duration, log *slog.Logger) error {
	for {
		pruneAuth(ctx, a, time.Now(), retention, log)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(24 * time.Hour):
		}
	}
}

// pruneAuth deletes audit entries older than retention before now (0: kept forever) and
// expired refresh tokens.
func pruneAuth(ctx context.Context, a *auth.Service, now time.Time, retention time.Duration, log *slog.Logger) {
	if retention > 0 {
		if n, err := a.PruneAudit(ctx, now.Add(-retention)); err != nil && ctx.Err() == nil {
			log.Warn("auth: pruning the audit log", "error", err)
		} else if n > 0 {
			log.Info("auth: pruned old audit entries", "entradas", n, "retencao", retention)
		}
	}
	if err := a.Prune(ctx); err != nil && ctx.Err() == nil {
		log.Warn("auth: pruning expired sessions", "error", err)
	}
}

// authOptions are the auth service's settings from the configuration.
func authOptions(cfg *config.Config) auth.Options {
	o := auth.Options{DataDir: cfg.DataDir, SigningKey: cfg.AuthSigningKey}
	for _, k := range strings.Split(cfg.AuthPreviousKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.PreviousKeys = append(o.PreviousKeys, k)
		}
	}
	return o
}

// openAuth starts the users, tokens and API keys service, and creates the first admin from
// PAINEL_ADMIN_EMAIL and PAINEL_ADMIN_PASSWORD when no user exists yet.
func openAuth(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) (*auth.Service, error) {
	a, err := auth.NewService(st, authOptions(cfg), log)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	switch {
	case cfg.AdminEmail != "" && cfg.AdminPassword != "":
		created, err := a.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return nil, fmt.Errorf("first admin from PAINEL_ADMIN_EMAIL: %w", err)
		}
		if created {
			log.Info("created the first admin", "email", cfg.AdminEmail)
		}
	case cfg.AdminEmail != "" || cfg.AdminPassword != "":
		return nil, errors.New("PAINEL_ADMIN_EMAIL and PAINEL_ADMIN_PASSWORD go together: set both or neither")
	}
	if n, err := a.CountUsers(ctx); err == nil && n == 0 {
		log.Warn("no user exists yet: every route but the public ones answers 401; create the first admin with " +
			"`painel user create -admin -email ...` or set PAINEL_ADMIN_EMAIL and PAINEL_ADMIN_PASSWORD")
	}
	return a, nil
}

// qrKeys returns the keys that sign QR tokens: from PAINEL_QR_SIGNING_KEYS
// when set, otherwise from the data folder (generated on first use).
func qrKeys(cfg *config.Config, log *slog.Logger) (*token.Keyring, error) {
	if len(cfg.QRKeys) > 0 {
		return token.NewKeyring(cfg.QRActiveKey, cfg.QRKeys)
	}
	keys, created, err := token.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("QR signing keys: %w", err)
	}
	if created {
		log.Warn("generated a QR signing key in the data folder; set PAINEL_QR_SIGNING_KEYS for production or several instances",
			"folder", filepath.Join(cfg.DataDir, "qr-keys"))
	}
	return keys, nil
}

// workers runs the background loops of the modules; they all stop when
// the service shuts down.
type workers struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

func newWorkers(log *slog.Logger) *workers {
	ctx, cancel := context.WithCancel(context.Background())
	return &workers{ctx: ctx, cancel: cancel, log: log}
}

// Go starts fn in the background with a context cancelled at shutdown.
func (w *workers) Go(name string, fn func(ctx context.Context) error) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := fn(w.ctx); err != nil && !errors.Is(err, context.Canceled) {
			w.log.Error("background worker failed", "worker", name, "error", err)
		}
	}()
}

// stop cancels the workers and waits for them until ctx ends.
func (w *workers) stop(ctx context.Context) error {
	w.cancel()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		select {
		case <-done: // both ready: the workers did stop
			return nil
		default:
			return errors.New("background workers did not stop in time")
		}
	}
}

// shutdownReserve is the part of the shutdown timeout kept for the background workers and the
// store after the requests: a quarter of it, at most 1 s.
func shutdownReserve(timeout time.Duration) time.Duration { return min(timeout/4, time.Second) }

// serve runs the service until ctx is cancelled, then shuts down
// gracefully: /readyz turns 503, after PAINEL_SHUTDOWN_DELAY the listener
// closes, in-flight requests finish, background workers stop and the store
// closes, all within PAINEL_SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, h hooks) error {
	started := time.Now()
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	installation, err := st.InstallationID(ctx)
	if err != nil {
		st.Close()
		return fmt.Errorf("read installation id: %w", err)
	}

	bg := newWorkers(log)
	readyChecks := []func(context.Context) error{func(ctx context.Context) error {
		if err := st.Ready(ctx); err != nil {
			reason := "database unreachable"
			if errors.Is(err, store.ErrNotMigrated) {
				reason = "database schema not migrated"
			}
			return &httpapi.NotReadyError{Reason: reason, Err: err}
		}
		return nil
	}}
	authSvc, err := openAuth(ctx, cfg, st, log)
	if err != nil {
		st.Close()
		return err
	}
	g := newGuard(authSvc, cfg, log)
	if h.recheckEvery > 0 {
		g.recheckEvery = h.recheckEvery
	}
	srv := httpapi.New(httpapi.Options{
		MetricsGuard: g.metricsGuard,
		Logger:       log,
		Version:      versionInfo().Versao,
		CORSOrigins:  cfg.CORSOrigins,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Ready: func(ctx context.Context) error {
			for _, check := range readyChecks {
				if err := check(ctx); err != nil {
					return err
				}
			}
			return nil
		},
		Build: versionInfo(),
	})
	srv.Metrics.MustRegister(collectors.NewDBStatsCollector(st.DB, "painel"))
	// Every operation registered from here on is guarded (see access.go).
	g.install(srv.API)
	auth.Register(srv.API, authSvc, log)
	keys, err := qrKeys(cfg, log)
	if err != nil {
		st.Close()
		return err
	}
	qrcode.Register(srv.API, qrcode.NewService(st, keys, log), log)
	cm, err := cache.NewManager(ctx, st, cfg.CacheBudgetBytes, log)
	if err != nil {
		st.Close()
		return fmt.Errorf("cache: %w", err)
	}
	var tier *cache.RedisTier
	if cfg.RedisURL != "" {
		if tier, err = cache.NewRedisTier(ctx, cfg.RedisURL, cm.ApplyRemote, log); err != nil {
			st.Close()
			return err
		}
		cm.SetTier(tier)
		readyChecks = append(readyChecks, func(ctx context.Context) error {
			if err := tier.Ping(ctx); err != nil {
				return &httpapi.NotReadyError{Reason: "redis unreachable", Err: err}
			}
			return nil
		})
	}
	cache.Register(srv.API, cm, log)
	mon, err := monitor.New(ctx, st, monitor.Config{
		Interval: cfg.MonitorInterval,
		SMTP:     monitor.SMTPConfig{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, User: cfg.SMTPUser, Password: cfg.SMTPPassword},
	}, log)
	if err != nil {
		st.Close()
		return fmt.Errorf("monitor: %w", err)
	}
	monitor.Register(srv.API, srv.Mux, mon, log, func(h http.Handler) http.Handler {
		return g.limitHTTP(authSvc.RequireHTTP(auth.PermMonitorLer, g.recheck(h)))
	})
	srv.Metrics.MustRegister(mon.Collector())
	bk, err := openBackup(ctx, cfg, st, log, srv.Maintenance, func(ctx context.Context) error {
		// what modules keep in memory from the database
		if err := mon.Reload(ctx); err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		return cm.Reload(ctx)
	})
	if err != nil {
		st.Close()
		return fmt.Errorf("backup: %w", err)
	}
	backup.Register(srv.API, bk, log)
	if h.routes != nil {
		h.routes(srv)
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	bg.Go("store maintenance", st.Maintain)
	bg.Go("monitor", mon.Run)
	bg.Go("backup schedule", bk.Run)
	bg.Go("auth maintenance", func(ctx context.Context) error { return authMaintenance(ctx, authSvc, cfg.AuditRetention, log) })
	bg.Go("cache analysis", func(ctx context.Context) error { return cm.Run(ctx, cfg.CacheOptimiseEvery) })
	if tier != nil {
		bg.Go("cache invalidations", tier.Run)
		defer tier.Close()
	}
	hs := srv.HTTPServer(cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.IdleTimeout)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("painel listening",
		"addr", ln.Addr().String(),
		"docs", "http://"+displayAddr(ln.Addr())+"/docs",
		"env", cfg.Env,
		"database", st.Dialect.Name(),
		"data_dir", cfg.DataDir,
		"installation_id", installation,
		"version", versionInfo().Versao,
		"startup_ms", time.Since(started).Milliseconds(),
	)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutdown requested", "timeout", cfg.ShutdownTimeout, "delay", cfg.ShutdownDelay)
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}

	// The whole shutdown, delay included, fits in the timeout. Requests get all of it but a
	// reserve (a quarter, at most 1 s) kept for the background workers and the store: requests
	// that have to be cut must not leave the workers, cancelled only after them, no time to
	// return (the service would close the store under them and exit while they still write to
	// the data folder).
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	hctx, hcancel := context.WithTimeout(sctx, cfg.ShutdownTimeout-shutdownReserve(cfg.ShutdownTimeout))
	defer hcancel()
	srv.SetShuttingDown()
	if cfg.ShutdownDelay > 0 && runErr == nil {
		log.Info("readiness off; waiting before closing the listener", "delay", cfg.ShutdownDelay)
		time.Sleep(cfg.ShutdownDelay)
	}
	if err := hs.Shutdown(hctx); err != nil {
		log.Warn("in-flight requests did not finish in time; closing their connections", "error", err)
		_ = hs.Close()
		runErr = errors.Join(runErr, fmt.Errorf("shutdown: %w", err))
	}
	if err := bg.stop(sctx); err != nil {
		runErr = errors.Join(runErr, err)
	}
	// A backup or restore started by a request runs on: wait for it (within the timeout).
	if err := bk.Close(sctx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	if err := st.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close store: %w", err))
	}
	if runErr == nil {
		log.Info("painel stopped")
	}
	return runErr
}

// displayAddr turns a listener address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return tcp.String()
}
