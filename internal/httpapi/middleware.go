package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/painel-universal/painel/internal/logging"
)

// reqInfo is what the middleware learns about a request as it passes
// through: its id, the route pattern it matched and what was written.
type reqInfo struct {
	id    string
	route string // pattern path without the method, "" when no route matched
	rec   *recorder
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

// RequestID returns the id of the request being served with ctx, or "".
func RequestID(ctx context.Context) string { return logging.RequestID(ctx) }

const maxRequestIDLen = 128

// validRequestID accepts a client's X-Request-ID only when it is short and
// made of characters that cannot forge log lines or headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=' || c == '@') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestID takes the client's X-Request-ID when it is valid, or makes one,
// echoes it in the response and puts it in the context for the logs.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		rec := &recorder{ResponseWriter: w}
		info := &reqInfo{id: id, rec: rec}
		ctx := context.WithValue(logging.WithRequestID(r.Context(), id), infoKey{}, info)
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// observe writes the access log line and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := infoFrom(r.Context())
		s.httpMetrics.inFlight.Inc()
		defer func() {
			s.httpMetrics.inFlight.Dec()
			d := time.Since(start)
			status := info.rec.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http sends 200
			}
			route := info.route
			if route == "" {
				route = "unmatched"
			}
			s.httpMetrics.observe(r.Method, route, status, d)
			level := slog.LevelInfo
			if isProbe(route) {
				level = slog.LevelDebug
			}
			s.log.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.Int64("bytes", info.rec.bytes),
				slog.String("remote", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(w, r)
	})
}

// isProbe tells the routes that load balancers and scrapers call all the
// time; their access log lines are at debug level.
func isProbe(route string) bool {
	return route == "/healthz" || route == "/readyz" || route == "/metrics"
}

// recoverPanics turns a handler's panic into a 500 problem document that
// carries the request id (never the stack), logs the stack, and keeps the
// server serving. When the handler had already started its response, the
// connection is aborted instead so the client does not take a truncated
// body for a whole one.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			info := infoFrom(r.Context())
			s.httpMetrics.panics.Inc()
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic while serving request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			if info.rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			WriteProblem(w, Problem{
				Status:    http.StatusInternalServerError,
				Detail:    "The server failed while handling this request. Quote the request id when reporting it.",
				RequestID: info.id,
			})
		}()
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy is the policy of every response but the docs
// pages: the API returns data, never active content.
const contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses a declared body larger than the cap at once, and caps
// bodies of unknown length while they are read.
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := s.opts.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			WriteProblem(w, Problem{
				Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("The request body is %d bytes; the limit is %d bytes.", r.ContentLength, limit),
			})
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// route dispatches to the mux, records the matched route pattern for the
// log and metrics, and answers unknown routes and methods with problem
// documents instead of the mux's plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	info := infoFrom(r.Context())
	defer func() {
		// ServeMux sets r.Pattern in place before calling the handler, so
		// this holds the route even when the handler panics.
		if info != nil {
			info.route = patternPath(r.Pattern)
		}
	}()
	s.Mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
}

// patternPath strips the method from a ServeMux pattern ("GET /x/{id}").
func patternPath(p string) string {
	if i := strings.IndexByte(p, ' '); i >= 0 {
		return p[i+1:]
	}
	return p
}

// unmatchedWriter replaces the plain-text 404 and 405 that ServeMux writes
// when no pattern matched (r.Pattern is empty then) with problem documents.
type unmatchedWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (u *unmatchedWriter) WriteHeader(code int) {
	if u.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		u.replaced = true
		p := Problem{Status: code, Instance: u.r.URL.Path, RequestID: RequestID(u.r.Context())}
		if code == http.StatusNotFound {
			p.Detail = fmt.Sprintf("No route matches %s %s.", u.r.Method, u.r.URL.Path)
		} else {
			p.Detail = fmt.Sprintf("Method %s is not allowed on %s; allowed: %s.", u.r.Method, u.r.URL.Path, u.Header().Get("Allow"))
		}
		WriteProblem(u.ResponseWriter, p)
		return
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *unmatchedWriter) Write(b []byte) (int, error) {
	if u.replaced {
		return len(b), nil // the mux's text body, already replaced
	}
	return u.ResponseWriter.Write(b)
}

func (u *unmatchedWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Flush and Hijack are passed through so streams and WebSockets work.
func (u *unmatchedWriter) Flush() { _ = http.NewResponseController(u.ResponseWriter).Flush() }

func (u *unmatchedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(u.ResponseWriter).Hijack()
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if code >= 200 && r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}
