package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry returns a private registry (never the global default one)
// with the Go runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	panics   prometheus.Counter
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "painel_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "painel_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "painel_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "painel_http_panics_total",
			Help: "Handler panics recovered and answered with 500.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.panics)
	return m
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// observe records one request. route is a pattern (or "unmatched"), never a
// raw path, so the label's cardinality is bounded by the routes.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// registerMetrics mounts GET /metrics (Prometheus text format) and
// documents it in the OpenAPI document.
func (s *Server) registerMetrics() {
	var h http.Handler = promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{
		ErrorLog:          promErrorLog{s},
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          s.Metrics,
		EnableOpenMetrics: false,
	})
	if s.opts.MetricsGuard != nil {
		h = s.opts.MetricsGuard(h)
	}
	s.Mux.Handle("GET /metrics", h)
	s.API.OpenAPI().AddOperation(&huma.Operation{
		OperationID: "metricas",
		Method:      http.MethodGet,
		Path:        "/metrics",
		Summary:     "Prometheus metrics",
		Description: "Process, Go runtime and HTTP metrics in the Prometheus text exposition format.",
		Tags:        []string{"plataforma"},
		Responses: map[string]*huma.Response{
			"200": {
				Description: "Metrics in the Prometheus text format",
				Content:     map[string]*huma.MediaType{"text/plain; version=0.0.4": {Schema: &huma.Schema{Type: "string"}}},
			},
		},
	})
}

type promErrorLog struct{ s *Server }

func (l promErrorLog) Println(v ...any) { l.s.log.Error("metrics", "error", v) }
