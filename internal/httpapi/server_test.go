package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/painel-universal/painel/internal/logging"
)

// echoInput is a JSON operation used to exercise the body handling.
type echoInput struct {
	Body struct {
		Nome  string `json:"nome" minLength:"1" maxLength:"50"`
		Idade int    `json:"idade" minimum:"0"`
	}
}

type echoOutput struct {
	Body struct {
		Nome string `json:"nome"`
	}
}

// newTestServer builds a server with test routes: POST /eco (JSON body),
// GET /panico (panics), GET /panico-tarde (panics after writing),
// GET /itens/{id} (path parameter) and GET /log (logs with the context).
func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = logging.New(logs, "json", slog.LevelDebug)
	}
	s := New(opts)
	huma.Register(s.API, huma.Operation{OperationID: "eco", Method: http.MethodPost, Path: "/eco"},
		func(ctx context.Context, in *echoInput) (*echoOutput, error) {
			out := &echoOutput{}
			out.Body.Nome = in.Body.Nome
			return out, nil
		})
	huma.Register(s.API, huma.Operation{OperationID: "panico", Method: http.MethodGet, Path: "/panico"},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			panic("boom")
		})
	s.Mux.HandleFunc("GET /panico-tarde", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("late boom")
	})
	s.Mux.HandleFunc("GET /itens/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("id"))
	})
	s.Mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		opts.Logger.InfoContext(r.Context(), "handler line")
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func decodeProblem(t *testing.T, res *http.Response, b []byte) Problem {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (body %s)", ct, b)
	}
	var p Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem body is not JSON: %v: %s", err, b)
	}
	if p.Status != res.StatusCode {
		t.Errorf("problem status %d != response status %d", p.Status, res.StatusCode)
	}
	if p.Title == "" {
		t.Errorf("problem without title: %s", b)
	}
	return p
}

func TestUnknownRouteAndMethodAreProblems(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{})
	res, b := do(t, "GET", ts.URL+"/nao-existe", "", nil)
	if res.StatusCode != 404 {
		t.Fatalf("status %d, want 404", res.StatusCode)
	}
	p := decodeProblem(t, res, b)
	if !strings.Contains(p.Detail, "/nao-existe") || p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-ID") {
		t.Errorf("unexpected problem %+v", p)
	}

	res, b = do(t, "DELETE", ts.URL+"/healthz", "", nil)
	if res.StatusCode != 405 {
		t.Fatalf("status %d, want 405", res.StatusCode)
	}
	p = decodeProblem(t, res, b)
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(p.Detail, "GET") {
		t.Errorf("Allow %q / detail %q should name GET", allow, p.Detail)
	}
	// A handler's own 404 is left alone (it matched a route).
	res, b = do(t, "GET", ts.URL+"/docs/assets/nada.js", "", nil)
	if res.StatusCode != 404 {
		t.Fatalf("asset 404: status %d", res.StatusCode)
	}
	_ = b
}

func TestMalformedAndInvalidJSON(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{})
	hdr := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name, body string
		status     int
		location   string // the field at fault: in the location, or named in the message
	}{
		{"malformed", `{"nome": "Ana",`, 400, "body"},
		{"not an object", `[1,2]`, 422, "body"},
		{"wrong type", `{"nome": 5, "idade": 1}`, 422, "body.nome"},
		{"missing field", `{"idade": 3}`, 422, "body.nome"},
		{"out of range", `{"nome": "Ana", "idade": -1}`, 422, "body.idade"},
		{"empty body", ``, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := do(t, "POST", ts.URL+"/eco", tc.body, hdr)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			p := decodeProblem(t, res, b)
			if tc.location == "" {
				return
			}
			found := false
			for _, e := range p.Errors {
				field := tc.location[strings.LastIndex(tc.location, ".")+1:]
				if strings.HasPrefix(e.Location, tc.location) ||
					(strings.HasPrefix(tc.location, e.Location) && strings.Contains(e.Message, field)) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error names %q: %s", tc.location, b)
			}
		})
	}
	res, b := do(t, "POST", ts.URL+"/eco", `{"nome":"Ana","idade":30}`, hdr)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"Ana"`) {
		t.Fatalf("valid body: %d %s", res.StatusCode, b)
	}
}

func TestPanicIsProblemWithRequestIDAndServerKeepsServing(t *testing.T) {
	_, ts, logs := newTestServer(t, Options{})
	res, b := do(t, "GET", ts.URL+"/panico", "", map[string]string{"X-Request-ID": "req-panico-1"})
	if res.StatusCode != 500 {
		t.Fatalf("status %d, want 500", res.StatusCode)
	}
	p := decodeProblem(t, res, b)
	if p.RequestID != "req-panico-1" {
		t.Errorf("request id %q, want req-panico-1", p.RequestID)
	}
	if strings.Contains(string(b), "goroutine") || strings.Contains(string(b), "boom") {
		t.Errorf("body leaks the panic: %s", b)
	}
	// The stack is logged, with the request id.
	var logged bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "panic while serving request" && l["request_id"] == "req-panico-1" &&
			strings.Contains(l["stack"].(string), "goroutine") {
			logged = true
		}
	}
	if !logged {
		t.Error("panic not logged with its stack and request id")
	}
	// A panic after the response started aborts that response only.
	req, _ := http.NewRequest("GET", ts.URL+"/panico-tarde", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Error("late panic: the client read a complete body; want an aborted response")
		}
	}
	for i := 0; i < 3; i++ {
		res, _ := do(t, "GET", ts.URL+"/healthz", "", nil)
		if res.StatusCode != 200 {
			t.Fatalf("after panics, /healthz = %d", res.StatusCode)
		}
	}
}

func TestRequestID(t *testing.T) {
	_, ts, logs := newTestServer(t, Options{})
	res, _ := do(t, "GET", ts.URL+"/log", "", map[string]string{"X-Request-ID": "abc-123"})
	if got := res.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("echoed id %q, want abc-123", got)
	}
	for _, bad := range []string{"com espaço", "a\"b", strings.Repeat("x", 200), "quebra\\n"} {
		res, _ := do(t, "GET", ts.URL+"/healthz", "", map[string]string{"X-Request-ID": bad})
		got := res.Header.Get("X-Request-ID")
		if got == bad || !validRequestID(got) {
			t.Errorf("invalid id %q was echoed as %q", bad, got)
		}
	}
	res, _ = do(t, "GET", ts.URL+"/healthz", "", nil)
	if id := res.Header.Get("X-Request-ID"); len(id) != 24 {
		t.Errorf("generated id %q, want 24 hex chars", id)
	}
	// Every line logged while serving the request carries its id.
	var handler, access bool
	for _, l := range logs.lines(t) {
		if l["request_id"] != "abc-123" {
			continue
		}
		switch l["msg"] {
		case "handler line":
			handler = true
		case "http request":
			access = l["route"] == "/log" && l["method"] == "GET" && l["status"] == float64(200)
		}
	}
	if !handler || !access {
		t.Errorf("request id missing from log lines: handler=%v access=%v", handler, access)
	}
}

func TestSecurityHeaders(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{})
	res, _ := do(t, "GET", ts.URL+"/healthz", "", nil)
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": contentSecurityPolicy,
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	res, b := do(t, "GET", ts.URL+"/docs", "", nil)
	if got := res.Header.Get("Content-Security-Policy"); got != docsCSP {
		t.Errorf("/docs CSP = %q", got)
	}
	if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") || strings.Contains(string(b), "<script>") {
		t.Errorf("/docs page references an outside URL or has an inline script:\n%s", b)
	}
}

func TestCORS(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{CORSOrigins: []string{"https://app.exemplo.com.br"}})
	res, _ := do(t, "OPTIONS", ts.URL+"/eco", "", map[string]string{
		"Origin": "https://app.exemplo.com.br", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type"})
	if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.exemplo.com.br" {
		t.Errorf("preflight from allowed origin: %d %v", res.StatusCode, res.Header)
	}
	res, _ = do(t, "GET", ts.URL+"/healthz", "", map[string]string{"Origin": "https://mal.exemplo.com"})
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin got Access-Control-Allow-Origin %q", got)
	}
	res, _ = do(t, "GET", ts.URL+"/healthz", "", map[string]string{"Origin": "https://app.exemplo.com.br"})
	if got := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Request-Id") && !strings.Contains(got, "X-Request-ID") {
		t.Errorf("X-Request-ID not exposed: %q", got)
	}
	// No origins configured: no CORS headers at all.
	_, ts2, _ := newTestServer(t, Options{})
	res, _ = do(t, "GET", ts2.URL+"/healthz", "", map[string]string{"Origin": "https://app.exemplo.com.br"})
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("without CORS config got Access-Control-Allow-Origin %q", got)
	}
}

func TestBodyLimit(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{MaxBodyBytes: 2048})
	hdr := map[string]string{"Content-Type": "application/json"}
	big := `{"nome":"` + strings.Repeat("a", 4000) + `"}`
	res, b := do(t, "POST", ts.URL+"/eco", big, hdr)
	if res.StatusCode != 413 {
		t.Fatalf("declared large body: %d, want 413", res.StatusCode)
	}
	decodeProblem(t, res, b)
	// Unknown length (chunked): huma stops at the cap and answers 413, never 500.
	req, _ := http.NewRequest("POST", ts.URL+"/eco", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 413 {
		t.Fatalf("chunked large body: %d, want 413: %s", r2.StatusCode, b)
	}
	decodeProblem(t, r2, b)
}

func TestReadiness(t *testing.T) {
	var fail error
	s, ts, _ := newTestServer(t, Options{Ready: func(context.Context) error { return fail }})
	if res, _ := do(t, "GET", ts.URL+"/readyz", "", nil); res.StatusCode != 200 {
		t.Fatalf("ready: %d", res.StatusCode)
	}
	fail = &NotReadyError{Reason: "database unreachable", Err: errors.New("dial tcp 10.0.0.5:5432: secret detail")}
	res, b := do(t, "GET", ts.URL+"/readyz", "", nil)
	if res.StatusCode != 503 {
		t.Fatalf("not ready: %d", res.StatusCode)
	}
	p := decodeProblem(t, res, b)
	if !strings.Contains(p.Detail, "database unreachable") || strings.Contains(string(b), "10.0.0.5") {
		t.Errorf("readiness problem %q should give the reason, not the infrastructure detail", b)
	}
	fail = nil
	s.SetShuttingDown()
	res, b = do(t, "GET", ts.URL+"/readyz", "", nil)
	if res.StatusCode != 503 || !strings.Contains(string(b), "shutting down") {
		t.Fatalf("shutting down: %d %s", res.StatusCode, b)
	}
	if res, _ := do(t, "GET", ts.URL+"/healthz", "", nil); res.StatusCode != 200 {
		t.Errorf("healthz while shutting down: %d", res.StatusCode)
	}
}

func TestMetricsLintAndRouteLabels(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{})
	for _, id := range []string{"1", "2", "3"} {
		do(t, "GET", ts.URL+"/itens/"+id, "", nil)
	}
	do(t, "GET", ts.URL+"/nao-existe/"+"x", "", nil)
	do(t, "GET", ts.URL+"/panico", "", nil)
	res, b := do(t, "GET", ts.URL+"/metrics", "", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	problems, err := promlint.New(bytes.NewReader(b)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	text := string(b)
	for _, want := range []string{
		`painel_http_requests_total{code="200",method="GET",route="/itens/{id}"} 3`,
		`painel_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`painel_http_requests_total{code="500",method="GET",route="/panico"} 1`,
		`painel_http_request_duration_seconds_bucket{method="GET",route="/itens/{id}",le="+Inf"} 3`,
		`painel_http_panics_total 1`,
		`go_goroutines`, `process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, raw := range []string{`route="/itens/1"`, `/nao-existe/x`} {
		if strings.Contains(text, raw) {
			t.Errorf("raw path %s used as a label", raw)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	_, ts, _ := newTestServer(t, Options{Version: "9.9.9"})
	res, b := do(t, "GET", ts.URL+"/openapi.json", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("/openapi.json: %d", res.StatusCode)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title, Version string }
		Paths   map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Info.Title != Title || doc.Info.Version != "9.9.9" {
		t.Errorf("openapi %q title %q version %q", doc.OpenAPI, doc.Info.Title, doc.Info.Version)
	}
	for _, p := range []string{"/healthz", "/readyz", "/version", "/metrics"} {
		if _, ok := doc.Paths[p]["get"]; !ok {
			t.Errorf("GET %s missing from the OpenAPI document", p)
		}
	}
	if strings.Contains(string(b), "$schema") {
		t.Error("document mentions $schema: the link transformer should be off")
	}
	res, b = do(t, "GET", ts.URL+"/openapi.yaml", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "openapi: 3.1") {
		t.Errorf("/openapi.yaml: %d %.80s", res.StatusCode, b)
	}
	// Responses carry no $schema field.
	_, b = do(t, "GET", ts.URL+"/healthz", "", nil)
	if string(b) != `{"status":"ok"}`+"\n" && string(b) != `{"status":"ok"}` {
		t.Errorf("/healthz body %q", b)
	}
}
