package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok" doc:"Always ok: the process is alive and serving"`
	}
}

type readyOutput struct {
	Body struct {
		Status string `json:"status" example:"ready" doc:"ready: the store is reachable and migrated"`
	}
}

type versionOutput struct {
	Body VersionInfo
}

// readyTimeout bounds the readiness check so a stuck database makes
// /readyz answer 503 rather than hang the probe.
const readyTimeout = 2 * time.Second

func (s *Server) registerHealth() {
	huma.Register(s.API, huma.Operation{
		OperationID: "healthz",
		Method:      http.MethodGet,
		Path:        "/healthz",
		Summary:     "Liveness",
		Description: "Answers 200 while the process is alive. It checks nothing else.",
		Tags:        []string{"plataforma"},
	}, func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
		out := &healthOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	huma.Register(s.API, huma.Operation{
		OperationID: "readyz",
		Method:      http.MethodGet,
		Path:        "/readyz",
		Summary:     "Readiness",
		Description: "Answers 200 when the service can take traffic: the store answers and its " +
			"schema is migrated. Answers 503 with the reason otherwise, and from the moment " +
			"shutdown begins, so load balancers stop sending requests.",
		Tags:   []string{"plataforma"},
		Errors: []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
		if s.shuttingDown.Load() {
			return nil, huma.Error503ServiceUnavailable("shutting down")
		}
		if s.maint.on.Load() {
			return nil, huma.Error503ServiceUnavailable("maintenance")
		}
		if s.opts.Ready != nil {
			cctx, cancel := context.WithTimeout(ctx, readyTimeout)
			defer cancel()
			if err := s.opts.Ready(cctx); err != nil {
				s.log.WarnContext(ctx, "not ready", "error", err)
				reason := "a readiness check failed"
				var nr *NotReadyError
				if errors.As(err, &nr) {
					reason = nr.Reason
				}
				return nil, huma.Error503ServiceUnavailable("not ready: " + reason)
			}
		}
		out := &readyOutput{}
		out.Body.Status = "ready"
		return out, nil
	})

	huma.Register(s.API, huma.Operation{
		OperationID: "versao",
		Method:      http.MethodGet,
		Path:        "/version",
		Summary:     "Version of the running binary",
		Tags:        []string{"plataforma"},
	}, func(ctx context.Context, _ *struct{}) (*versionOutput, error) {
		return &versionOutput{Body: s.opts.Build}, nil
	})
}

// NotReadyError is a readiness failure with a reason that is safe to show
// to anyone (the wrapped error, with its infrastructure details, is only
// logged).
type NotReadyError struct {
	Reason string
	Err    error
}

func (e *NotReadyError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *NotReadyError) Unwrap() error { return e.Err }
