// Package httpapi is the service's HTTP stack: a huma v2 API on the standard
// library's ServeMux, the middleware every request goes through (request id,
// access log, metrics, panic recovery, security headers, CORS, body limit),
// RFC 9457 problem responses for every error including unknown routes, the
// health endpoints, Prometheus metrics and the offline API docs.
//
// Modules mount their operations on Server.API (huma) and anything that is
// not a JSON operation (WebSockets, static files) on Server.Mux.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
)

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Version is the API version shown in the OpenAPI document.
	Version string
	// CORSOrigins lists the origins allowed to call the API from a
	// browser; empty means same-origin only. "*" allows any origin.
	CORSOrigins []string
	// MaxBodyBytes caps every request body; larger requests get 413.
	MaxBodyBytes int64
	// Ready reports whether the service can take traffic (store reachable
	// and migrated); nil means always ready.
	Ready func(ctx context.Context) error
	// Build describes the running binary for GET /version.
	Build VersionInfo
	// MetricsGuard, when set, wraps the GET /metrics handler (who may
	// scrape); nil leaves it open.
	MetricsGuard func(http.Handler) http.Handler
}

// VersionInfo is the body of GET /version.
type VersionInfo struct {
	Versao    string `json:"versao" example:"1.0.0" doc:"Version of the service"`
	Commit    string `json:"commit" example:"4f2a9c1" doc:"Source commit the binary was built from"`
	DataBuild string `json:"data_build" example:"2026-11-28T18:00:00Z" doc:"When the binary was built"`
	VersaoGo  string `json:"versao_go" example:"go1.26.8" doc:"Go version the binary was built with"`
}

// Server is the HTTP API.
type Server struct {
	Mux     *http.ServeMux
	API     huma.API
	Metrics *prometheus.Registry

	log          *slog.Logger
	opts         Options
	httpMetrics  *httpMetrics
	shuttingDown atomic.Bool
	maint        maintenance
}

// Title is the API's title in the OpenAPI document and the docs pages.
const Title = "Painel Universal API"

// New builds the server with the platform's own routes mounted.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{Mux: http.NewServeMux(), log: opts.Logger, opts: opts}

	cfg := huma.DefaultConfig(Title, opts.Version)
	cfg.Info.Description = "API of Painel Universal: host monitoring, backups, an intelligent cache " +
		"and QR codes for events and venues. Errors are RFC 9457 problem documents " +
		"(`application/problem+json`); every response carries an `X-Request-ID`."
	cfg.CreateHooks = nil // no $schema field or Link header injected into bodies
	cfg.DocsPath = ""     // huma's docs page loads JS from a CDN; ours is embedded
	// An operation may accept less than the global body cap, never more:
	// huma stops reading at its own limit and answers 413 itself.
	cfg.OpenAPI.OnAddOperation = append(cfg.OpenAPI.OnAddOperation, func(_ *huma.OpenAPI, op *huma.Operation) {
		if op.MaxBodyBytes <= 0 || op.MaxBodyBytes > opts.MaxBodyBytes {
			op.MaxBodyBytes = opts.MaxBodyBytes
		}
	})
	s.API = humago.New(s.Mux, cfg)

	s.Metrics = newRegistry()
	s.httpMetrics = newHTTPMetrics(s.Metrics)
	s.registerHealth()
	s.registerMetrics()
	registerDocs(s.Mux)
	registerConsole(s.Mux)
	return s
}

// SetShuttingDown makes /readyz answer 503 from now on.
func (s *Server) SetShuttingDown() { s.shuttingDown.Store(true) }

// Handler returns the mux wrapped in the middleware, outermost first:
// request id, access log and metrics, panic recovery, security headers,
// CORS, body limit, then routing (with problem documents for unknown
// routes and methods).
func (s *Server) Handler() http.Handler {
	var h http.Handler = http.HandlerFunc(s.route)
	h = s.limitBody(h)
	if len(s.opts.CORSOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins:   s.opts.CORSOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "X-Request-ID", "Idempotency-Key"},
			ExposedHeaders:   []string{"X-Request-ID", "Retry-After", "Location", "Content-Disposition"},
			AllowCredentials: false,
			MaxAge:           600,
		}).Handler(h)
	}
	h = securityHeaders(h)
	h = s.maintain(h)
	h = s.recoverPanics(h)
	h = s.observe(h)
	return s.requestID(h)
}

// HTTPServer returns an http.Server for the handler with the given
// timeouts.
func (s *Server) HTTPServer(readHeader, read, write, idle time.Duration) *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeader,
		ReadTimeout:       read,
		WriteTimeout:      write,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}
