package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maintenance is the state of maintenance mode: while it is on, every request but the exempt
// ones (health, version, metrics, the console's static files and the backup jobs, so a client
// can follow the job that asked for maintenance) is answered 503 with Retry-After, and
// /readyz is 503 too. inFlight counts the requests being served that maintenance waits for
// (WebSocket upgrades excepted: they live as long as their client).
type maintenance struct {
	on       atomic.Bool
	reason   atomic.Value // string
	mu       sync.Mutex
	inFlight int
	idle     *sync.Cond
}

func maintenanceExempt(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || p == "/readyz" || p == "/version" || p == "/metrics" ||
		strings.HasPrefix(p, "/backup/jobs/") || strings.HasPrefix(p, "/painel/assets/")
}

// maintain is the middleware.
func (s *Server) maintain(next http.Handler) http.Handler {
	m := &s.maint
	m.mu.Lock()
	if m.idle == nil {
		m.idle = sync.NewCond(&m.mu)
	}
	m.mu.Unlock()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if maintenanceExempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		if m.on.Load() {
			reason, _ := m.reason.Load().(string)
			w.Header().Set("Retry-After", "10")
			WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Title: "Service Unavailable",
				Detail: "em manutenção: " + reason, Instance: r.URL.Path, RequestID: RequestID(r.Context())})
			return
		}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		m.mu.Lock()
		m.inFlight++
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			m.inFlight--
			if m.inFlight == 0 {
				m.idle.Broadcast()
			}
			m.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// Maintenance turns maintenance mode on, waits (until ctx ends) for the requests in flight to
// finish, runs fn, and turns it off. Only one maintenance runs at a time.
func (s *Server) Maintenance(ctx context.Context, reason string, fn func(context.Context) error) error {
	m := &s.maint
	if !m.on.CompareAndSwap(false, true) {
		return errMaintenanceBusy
	}
	defer m.on.Store(false)
	m.reason.Store(reason)
	s.log.Warn("maintenance mode on", "reason", reason)
	defer s.log.Warn("maintenance mode off", "reason", reason)
	m.mu.Lock()
	hasHandler := m.idle != nil
	m.mu.Unlock()
	if hasHandler {
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			m.mu.Lock()
			for m.inFlight > 0 && !stop.Load() {
				m.idle.Wait()
			}
			m.mu.Unlock()
			close(done)
		}()
		abandon := func(err error) error {
			stop.Store(true)
			m.mu.Lock()
			m.idle.Broadcast()
			m.mu.Unlock()
			return err
		}
		select {
		case <-done:
		case <-ctx.Done():
			return abandon(ctx.Err())
		case <-time.After(30 * time.Second):
			return abandon(errMaintenanceDrain)
		}
	}
	return fn(ctx)
}

var (
	errMaintenanceBusy  = errors.New("already in maintenance")
	errMaintenanceDrain = errors.New("requests in flight did not finish within 30 s")
)

// InMaintenance reports whether maintenance mode is on.
func (s *Server) InMaintenance() bool { return s.maint.on.Load() }
