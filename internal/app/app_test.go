package app

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/testenv"
)

// instance is a running `painel serve` started through run().
type instance struct {
	base   string
	token  string // an admin's access token (testAdminEmail)
	cancel context.CancelFunc
	done   chan int
	logs   *logBuffer
}

// logBuffer collects stderr and lets a test wait for a log line.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond *sync.Cond
}

func newLogBuffer() *logBuffer {
	l := &logBuffer{}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	l.cond.Broadcast()
	return n, err
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the JSON log records written so far.
func (l *logBuffer) records() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (l *logBuffer) find(msg string) map[string]any {
	for _, r := range l.records() {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// start runs `painel serve` on 127.0.0.1:0 with a temporary data folder
// (plus the given settings) and waits until it listens.
func start(t *testing.T, settings map[string]string, h hooks) *instance {
	t.Helper()
	env := map[string]string{
		"PAINEL_ADDR":           "127.0.0.1:0",
		"PAINEL_DATA_DIR":       filepath.Join(t.TempDir(), "data"),
		"PAINEL_LOG_FORMAT":     "json",
		"PAINEL_LOG_LEVEL":      "debug",
		"PAINEL_ADMIN_EMAIL":    testAdminEmail,
		"PAINEL_ADMIN_PASSWORD": testAdminPassword,
	}
	for k, v := range settings {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan int, 1), logs: newLogBuffer()}
	go func() {
		in.done <- run(ctx, []string{"painel", "serve"}, envFrom(env), strings.NewReader(""), io.Discard, in.logs, h)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r := in.logs.find("painel listening"); r != nil {
			in.base = "http://" + r["addr"].(string)
			t.Cleanup(func() { in.stop(t) })
			if env["PAINEL_ADMIN_EMAIL"] == testAdminEmail {
				in.token = login(t, in.base, testAdminEmail, testAdminPassword)
			}
			return in
		}
		select {
		case code := <-in.done:
			t.Fatalf("painel exited with %d before listening:\n%s", code, in.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("painel did not start listening:\n%s", in.logs)
	return nil
}

// stop cancels the instance (as SIGINT does) and returns its exit code.
func (in *instance) stop(t *testing.T) int {
	t.Helper()
	in.cancel()
	select {
	case code := <-in.done:
		in.done <- code // later calls see it too
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("painel did not stop:\n%s", in.logs)
		return -1
	}
}

// The admin every test instance starts with.
const (
	testAdminEmail    = "admin@teste.painel"
	testAdminPassword = "senha-de-teste-longa"
)

// login returns an access token for email.
func login(t *testing.T, base, email, senha string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "senha": senha})
	res, err := http.Post(base+"/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.AccessToken == "" {
		t.Fatalf("login as %s: %d %s", email, res.StatusCode, b)
	}
	return out.AccessToken
}

// do sends a request with the bearer token tok (none when empty) and returns the status,
// body and headers.
func do(t *testing.T, method, u, tok, contentType string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// get GETs u, with the bearer token tok when given.
func get(t *testing.T, u string, tok ...string) (int, []byte, http.Header) {
	t.Helper()
	if len(tok) > 0 {
		return do(t, http.MethodGet, u, tok[0], "", nil)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func TestServeEndToEnd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "nested", "data")
	in := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir}, hooks{})

	for path, want := range map[string]string{
		"/healthz": `"status":"ok"`,
		"/readyz":  `"status":"ready"`,
		"/version": `"versao_go":"go`,
	} {
		code, b, _ := get(t, in.base+path)
		if code != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d %s, want 200 with %s", path, code, b, want)
		}
	}
	code, b, hdr := get(t, in.base+"/nao-existe")
	if code != 404 || hdr.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route: %d %s %s", code, hdr.Get("Content-Type"), b)
	}
	code, b, _ = get(t, in.base+"/openapi.json")
	if code != 200 || !strings.Contains(string(b), `"openapi":"3.1`) {
		t.Errorf("/openapi.json: %d %.100s", code, b)
	}
	for _, p := range []string{"/docs", "/redoc"} {
		if code, _, _ := get(t, in.base+p); code != 200 {
			t.Errorf("GET %s = %d", p, code)
		}
	}
	if code, _, _ := get(t, in.base+"/metrics"); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d, want 401", code)
	}
	code, b, _ = get(t, in.base+"/metrics", in.token)
	if code != 200 || !strings.Contains(string(b), `go_sql_open_connections{db_name="painel"}`) || !strings.Contains(string(b), `route="/healthz"`) {
		t.Errorf("/metrics lacks the store or HTTP metrics")
	}
	lint, err := promlint.New(bytes.NewReader(b)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range lint {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if st, err := os.Stat(filepath.Join(dataDir, "painel.db")); err != nil || st.Size() == 0 {
		t.Errorf("SQLite file not created in the data folder: %v", err)
	}
	if r := in.logs.find("migration applied"); r == nil {
		t.Error("no migration was logged on first start")
	}

	stopAt := time.Now()
	if code := in.stop(t); code != 0 {
		t.Fatalf("exit code %d after cancel, want 0:\n%s", code, in.logs)
	}
	if d := time.Since(stopAt); d > 15*time.Second {
		t.Errorf("shutdown took %v, more than the 15s default timeout", d)
	}
	if in.logs.find("painel stopped") == nil {
		t.Errorf("no 'painel stopped' line:\n%s", in.logs)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(in.base, "http://"), time.Second); err == nil {
		t.Error("the port still accepts connections after shutdown")
	}

	// A second start on the same data folder applies no migration.
	in2 := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir}, hooks{})
	if code, _, _ := get(t, in2.base+"/readyz"); code != 200 {
		t.Errorf("second start not ready: %d", code)
	}
	if in2.logs.find("migration applied") != nil {
		t.Error("second start applied a migration again")
	}
}

// slowRoute adds GET /lento, which signals when it starts and answers after d.
func slowRoute(d time.Duration, started chan<- struct{}) hooks {
	return hooks{routes: func(s *httpapi.Server) {
		s.Mux.HandleFunc("GET /lento", func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			time.Sleep(d)
			_, _ = io.WriteString(w, "terminou")
		})
	}}
}

func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	started := make(chan struct{}, 1)
	in := start(t, map[string]string{"PAINEL_SHUTDOWN_DELAY": "400ms"}, slowRoute(1500*time.Millisecond, started))

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		res, err := http.Get(in.base + "/lento")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		slow <- result{res.StatusCode, string(b), err}
	}()
	<-started
	t0 := time.Now()
	in.cancel() // as SIGTERM does

	// During the delay the listener is still open and readiness is off.
	time.Sleep(100 * time.Millisecond)
	tr := &http.Transport{DisableKeepAlives: true}
	res, err := (&http.Client{Transport: tr}).Get(in.base + "/readyz")
	if err != nil {
		t.Fatalf("readyz during the shutdown delay: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || !strings.Contains(string(b), "shutting down") {
		t.Errorf("readyz while shutting down = %d %s, want 503", res.StatusCode, b)
	}

	r := <-slow
	if r.err != nil || r.code != 200 || r.body != "terminou" {
		t.Fatalf("in-flight request: %+v, want 200 terminou", r)
	}
	if code := in.stop(t); code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", code, in.logs)
	}
	if d := time.Since(t0); d < 1*time.Second {
		t.Errorf("Run returned %v after cancel: before the in-flight request could finish", d)
	}
	if _, err := (&http.Client{Transport: tr}).Get(in.base + "/healthz"); err == nil {
		t.Error("new requests are still accepted after shutdown")
	}
}

func TestShutdownTimeoutEndsStuckRequests(t *testing.T) {
	started := make(chan struct{}, 1)
	in := start(t, map[string]string{"PAINEL_SHUTDOWN_TIMEOUT": "500ms"}, slowRoute(5*time.Second, started))
	go func() {
		if res, err := http.Get(in.base + "/lento"); err == nil {
			res.Body.Close()
		}
	}()
	<-started
	t0 := time.Now()
	code := in.stop(t)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("shutdown took %v with a 500ms timeout", d)
	}
	if code != 1 {
		t.Errorf("exit code %d, want 1 when requests had to be cut", code)
	}
	// The cut requests must not eat the workers' time: they stop, and the store closes after
	// them (else they go on writing to the data folder after Run returned).
	if strings.Contains(in.logs.String(), "did not stop in time") {
		t.Errorf("background workers were left running:\n%s", in.logs)
	}
}

func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"painel"}, args...), envFrom(env), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadConfigurationExits2NamingTheSetting(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"PAINEL_ADDR": "nao-e-endereco"}, []string{"serve"}, "PAINEL_ADDR"},
		{map[string]string{"PAINEL_SHUTDOWN_TIMEOUT": "rapido"}, []string{"serve"}, "PAINEL_SHUTDOWN_TIMEOUT"},
		{map[string]string{"PAINEL_LOG_FORMAT": "xml"}, nil, "PAINEL_LOG_FORMAT"},
		{map[string]string{"PAINEL_DATABASE_URL": "mysql://u:segredo@h/db"}, []string{"serve"}, "PAINEL_DATABASE_URL"},
		{map[string]string{"PAINEL_ENV": "production", "PAINEL_DATA_DIR": "relativo"}, []string{"serve"}, "PAINEL_DATA_DIR"},
		{map[string]string{"PAINEL_ENV": "production", "PAINEL_DATA_DIR": dir, "PAINEL_CORS_ORIGINS": "*"}, []string{"serve"}, "PAINEL_CORS_ORIGINS"},
		{nil, []string{"serve", "-addr", "x"}, "-addr"},
		{nil, []string{"serve", "-nao-existe"}, "nao-existe"},
		{nil, []string{"serve", "-database-url", "postgres://u:segredo@/db"}, "-database-url"},
		{nil, []string{"config", "--database-url=mysql://u:segredo@h/db"}, "-database-url"},
		{nil, []string{"comando-inexistente"}, "unknown command"},
	} {
		code, _, stderr := runCmd(t, tc.env, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 naming %s", tc.env, tc.args, code, stderr, tc.want)
		}
		if strings.Contains(stderr, "segredo") {
			t.Errorf("stderr leaks a password: %q", stderr)
		}
	}
}

func TestHelpVersionConfig(t *testing.T) {
	code, out, _ := runCmd(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "PAINEL_ADDR") || !strings.Contains(out, "migrate") {
		t.Errorf("--help: %d %q", code, out)
	}
	code, out, _ = runCmd(t, nil, "serve", "--help")
	for _, s := range []string{"PAINEL_ADDR", `":8000"`, "PAINEL_DATA_DIR", "PAINEL_DATABASE_URL", "PAINEL_LOG_FORMAT",
		"PAINEL_LOG_LEVEL", "PAINEL_ENV", "PAINEL_CORS_ORIGINS", "PAINEL_SHUTDOWN_TIMEOUT", `"15s"`} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("serve --help lacks %s (exit %d)", s, code)
		}
	}
	code, out, _ = runCmd(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "painel ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = runCmd(t, nil, "version", "-json")
	var v httpapi.VersionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.VersaoGo == "" {
		t.Errorf("version -json: %d %q", code, out)
	}
	code, out, _ = runCmd(t, map[string]string{"PAINEL_DATABASE_URL": "postgres://painel:segredo@db.exemplo:5432/painel"}, "config", "-addr", ":9999")
	if code != 0 || !strings.Contains(out, "PAINEL_ADDR=:9999") || strings.Contains(out, "segredo") ||
		!strings.Contains(out, "PAINEL_DATABASE_URL=postgres://painel:xxxxx@db.exemplo:5432/painel") {
		t.Errorf("config: %d\n%s", code, out)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"PAINEL_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	code, out, errs := runCmd(t, env, "migrate", "status")
	if code != 1 || !strings.Contains(out, "pending") {
		t.Errorf("status before up: %d %q %q", code, out, errs)
	}
	code, out, errs = runCmd(t, env, "migrate")
	if code != 0 || !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Errorf("up: %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, env, "migrate", "up")
	if code != 0 || !strings.Contains(out, "applied") {
		t.Errorf("up again: %d %q", code, out)
	}
	code, out, _ = runCmd(t, env, "migrate", "status")
	if code != 0 || strings.Contains(out, "pending") {
		t.Errorf("status after up: %d %q", code, out)
	}
	code, _, errs = runCmd(t, env, "migrate", "down")
	if code != 2 || !strings.Contains(errs, "down") {
		t.Errorf("unknown action: %d %q", code, errs)
	}
}

// TestServeOnPostgres runs the service on PostgreSQL, in a fresh schema.
func TestServeOnPostgres(t *testing.T) {
	pgURL := testenv.FreshPostgresURL(t)
	u, _ := url.Parse(pgURL)
	schema := u.Query().Get("search_path")
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	in := start(t, map[string]string{"PAINEL_DATABASE_URL": u.String()}, hooks{})
	if code, b, _ := get(t, in.base+"/readyz"); code != 200 {
		t.Fatalf("readyz on PostgreSQL: %d %s", code, b)
	}
	if r := in.logs.find("painel listening"); r["database"] != "postgres" {
		t.Errorf("listening line says database %v", r["database"])
	}
	var n int
	if err := db.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM %s.schema_migrations`, schema)).Scan(&n); err != nil || n == 0 {
		t.Errorf("no migrations recorded in PostgreSQL: %d %v", n, err)
	}
	if code := in.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestQRCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PAINEL_DATA_DIR": filepath.Join(dir, "data")}
	png := filepath.Join(dir, "ingresso.png")
	code, out, errs := runCmd(t, env, "qr", "gerar", "-tipo", "checkin", "-evento-id", "fest", "-nome", "Maria Ação",
		"-documento", "529.982.247-25", "-o", png)
	if code != 0 || !strings.Contains(out, "tipo checkin") {
		t.Fatalf("gerar: %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd(t, env, "qr", "validar", png, "-consumir", "-local", "portão A")
	if code != 0 || !strings.Contains(out, `"consumido": true`) {
		t.Fatalf("validar: %d %s", code, out)
	}
	code, out, _ = runCmd(t, env, "qr", "validar", png)
	if code != 1 || !strings.Contains(out, `"ja_utilizado"`) {
		t.Errorf("validar again: %d %s", code, out)
	}
	code, out, _ = runCmd(t, env, "qr", "pix", "-chave", "123e4567-e12b-12d1-a456-426655440000", "-nome-recebedor", "Fulano de Tal", "-cidade", "BRASILIA")
	if code != 0 || !strings.Contains(out, "63041D3D") || !strings.Contains(out, "█") {
		t.Errorf("pix: %d %s", code, out)
	}
	for _, args := range [][]string{
		{"qr", "gerar", "-tipo", "checkin", "-documento", "123"},
		{"qr", "gerar", "-tipo", "foguete"},
		{"qr", "gerar", "-tipo", "url", "-url", "https://exemplo.com.br", "-o", "x.gif"},
		{"qr", "validar"},
		{"qr", "voar"},
	} {
		if code, _, errs := runCmd(t, env, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want 2 with a message", args, code, errs)
		}
	}
}

func TestCacheSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "loop.txt")
	var b strings.Builder
	for round := 0; round < 20; round++ {
		for k := 0; k < 50; k++ {
			fmt.Fprintf(&b, "%d\r\n", k)
		}
	}
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, nil, "cache", "simulate", "-trace", trace, "-capacity", "40,60", "-json")
	if code != 0 {
		t.Fatalf("simulate: %d %s", code, errs)
	}
	var rows []struct {
		Policy   string  `json:"policy"`
		Capacity int     `json:"capacity"`
		HitRatio float64 `json:"hit_ratio"`
		Requests int     `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 10 {
		t.Fatalf("output %v: %s", err, out)
	}
	for _, r := range rows {
		if r.Requests != 1000 {
			t.Errorf("%+v: requests", r)
		}
		// A loop of 50 keys: LRU at 40 entries never hits; at 60 everything
		// after the first round hits.
		if r.Policy == "lru" && r.Capacity == 40 && r.HitRatio != 0 {
			t.Errorf("LRU below the loop size hit %v", r.HitRatio)
		}
		if r.Capacity == 60 && r.HitRatio < 0.94 {
			t.Errorf("%s at 60 entries: %v, want 0.95", r.Policy, r.HitRatio)
		}
	}
	for _, args := range [][]string{
		{"cache", "simulate", "-trace", trace},
		{"cache", "simulate", "-trace", trace, "-capacity", "0"},
		{"cache", "simulate", "-trace", trace, "-capacity", "10", "-policy", "aleatoria"},
		{"cache", "voar"},
	} {
		if code, _, errs := runCmd(t, nil, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q", args, code, errs)
		}
	}
	if code, _, _ := runCmd(t, nil, "cache", "simulate", "-trace", filepath.Join(dir, "nao-existe"), "-capacity", "10"); code != 1 {
		t.Errorf("missing trace: exit %d", code)
	}
}
