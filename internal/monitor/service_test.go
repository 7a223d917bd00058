package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/monitor/collect"
	"github.com/painel-universal/painel/internal/store"
	"github.com/painel-universal/painel/internal/testenv"
)

type fakeSource struct {
	mu     sync.Mutex
	values map[string]float64
}

func (f *fakeSource) set(name string, v float64) {
	f.mu.Lock()
	f.values[name] = v
	f.mu.Unlock()
}

func (f *fakeSource) Collect(now time.Time) (collect.Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := collect.Sample{Time: now}
	for k, v := range f.values {
		s.Metrics = append(s.Metrics, collect.Metric{Name: k, Value: v})
	}
	sort.Slice(s.Metrics, func(i, j int) bool { return s.Metrics[i].Name < s.Metrics[j].Name })
	return s, nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

type fixture struct {
	s   *Service
	src *fakeSource
	clk *fakeClock
	ts  *httptest.Server
	st  *store.Store
}

func newFixture(t testing.TB, st *store.Store, cfg Config) *fixture {
	t.Helper()
	if st == nil {
		st = openStore(t, "")
	}
	f := &fixture{src: &fakeSource{values: map[string]float64{"cpu.total": 10, "mem.used_pct": 40, "disk./.used_pct": 50}},
		clk: &fakeClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}, st: st}
	cfg.Source = f.src
	if cfg.Now == nil {
		cfg.Now = f.clk.now
	}
	s, err := New(context.Background(), st, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	srv := httpapi.New(httpapi.Options{})
	Register(srv.API, srv.Mux, s, nil)
	f.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) do(t testing.TB, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// step advances the fake clock by a second and takes a sample.
func (f *fixture) step(n int) {
	for range n {
		f.clk.add(time.Second)
		f.s.Step(context.Background())
	}
}

func problemLocation(t testing.TB, b []byte) string {
	t.Helper()
	var p struct {
		Errors []struct {
			Location string `json:"location"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &p); err != nil || len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Location
}

func TestRulesAPI(t *testing.T) {
	f := newFixture(t, nil, Config{})
	code, b := f.do(t, "GET", "/monitoramento/alertas", "")
	if code != 200 || strings.Count(string(b), `"id":`) != 3 {
		t.Fatalf("defaults: %d %s", code, b)
	}
	for _, name := range []string{`"cpu.total"`, `"mem.used_pct"`, `"disk./.used_pct"`} {
		if !bytes.Contains(b, []byte(name)) {
			t.Errorf("default rules lack %s", name)
		}
	}
	valid := `{"nome":"CPU","metrica":"cpu.total","operador":">","limite":80,"limite_retorno":70,"duracao_segundos":3,"severidade":"critico"}`
	code, b = f.do(t, "POST", "/monitoramento/alertas", valid)
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var r Rule
	_ = json.Unmarshal(b, &r)
	if r.ID == 0 || r.Estado != StateInactive || len(r.Canais) != 1 || r.Canais[0].Tipo != "websocket" || !r.Ativo {
		t.Fatalf("created %+v", r)
	}
	bad := []struct{ body, loc string }{
		{`{"nome":"x","metrica":"cpu.total","operador":"=>","limite":1,"severidade":"info"}`, "body.operador"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"severidade":"urgente"}`, "body.severidade"},
		{`{"nome":"","metrica":"cpu.total","operador":">","limite":1,"severidade":"info"}`, "body.nome"},
		{`{"nome":"x","metrica":"cpu total","operador":">","limite":1,"severidade":"info"}`, "body.metrica"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"limite_retorno":2,"severidade":"info"}`, "body.limite_retorno"},
		{`{"nome":"x","metrica":"cpu.total","operador":"<","limite":1,"limite_retorno":0,"severidade":"info"}`, "body.limite_retorno"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"severidade":"info","duracao_segundos":-1}`, "body.duracao_segundos"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"severidade":"info","canais":[{"tipo":"webhook","url":"ftp://x"}]}`, "body.canais[0].url"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"severidade":"info","canais":[{"tipo":"email","para":"não é email"}]}`, "body.canais[0].para"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","limite":1,"severidade":"info","canais":[{"tipo":"sms"}]}`, "body.canais[0].tipo"},
		{`{"nome":"x","metrica":"cpu.total","operador":">","severidade":"info"}`, "body"}, // "expected required property limite"
	}
	for _, c := range bad {
		code, b := f.do(t, "POST", "/monitoramento/alertas", c.body)
		if code != 422 || !strings.HasPrefix(problemLocation(t, b), c.loc) {
			t.Errorf("%s: %d %s (want 422 at %s)", c.body, code, b, c.loc)
		}
	}
	if code, b := f.do(t, "POST", "/monitoramento/alertas", `{"nome":`); code != 400 && code != 422 {
		t.Errorf("malformed JSON: %d %s", code, b)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/monitoramento/alertas/999", ""},
		{"PUT", "/monitoramento/alertas/999", valid},
		{"DELETE", "/monitoramento/alertas/999", ""},
		{"POST", "/monitoramento/alertas/eventos/999/reconhecer", "{}"},
		{"DELETE", "/monitoramento/silencios/999", ""},
	} {
		if code, b := f.do(t, c.method, c.path, c.body); code != 404 {
			t.Errorf("%s %s: %d %s", c.method, c.path, code, b)
		}
	}
	if code, _ := f.do(t, "GET", "/monitoramento/alertas/abc", ""); code != 422 {
		t.Errorf("non-numeric id: %d", code)
	}

	// The rule fires through the API's view of the state, survives an update, and is deleted.
	f.src.set("cpu.total", 95)
	f.step(4)
	code, b = f.do(t, "GET", fmt.Sprintf("/monitoramento/alertas/%d", r.ID), "")
	if code != 200 || !bytes.Contains(b, []byte(`"estado":"disparado"`)) {
		t.Fatalf("after 4 s at 95: %s", b)
	}
	upd := strings.Replace(valid, `"nome":"CPU"`, `"nome":"CPU muito alta"`, 1)
	code, b = f.do(t, "PUT", fmt.Sprintf("/monitoramento/alertas/%d", r.ID), upd)
	if code != 200 || !bytes.Contains(b, []byte(`"estado":"disparado"`)) || !bytes.Contains(b, []byte("CPU muito alta")) {
		t.Fatalf("update: %d %s", code, b)
	}
	code, b = f.do(t, "GET", "/monitoramento/alertas/eventos?estado=disparado", "")
	var page EventPage
	if code != 200 || json.Unmarshal(b, &page) != nil || page.Total != 1 || page.Eventos[0].RegraID != r.ID {
		t.Fatalf("events: %s", b)
	}
	code, b = f.do(t, "POST", fmt.Sprintf("/monitoramento/alertas/eventos/%d/reconhecer", page.Eventos[0].ID), `{"por":"ana"}`)
	if code != 200 || !bytes.Contains(b, []byte(`"reconhecido_por":"ana"`)) {
		t.Fatalf("ack: %d %s", code, b)
	}
	if code, _ := f.do(t, "DELETE", fmt.Sprintf("/monitoramento/alertas/%d", r.ID), ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	code, b = f.do(t, "GET", "/monitoramento/alertas/eventos", "")
	if code != 200 || !bytes.Contains(b, []byte(`"estado":"resolvido"`)) {
		t.Fatalf("deleting a firing rule closes its episode: %s", b)
	}
	if code, b := f.do(t, "GET", "/monitoramento/alertas/eventos?estado=talvez", ""); code != 422 {
		t.Errorf("bad estado filter: %d %s", code, b)
	}
	if code, b := f.do(t, "GET", "/monitoramento/alertas/eventos?por_pagina=0", ""); code != 422 {
		t.Errorf("por_pagina=0: %d %s", code, b)
	}
}

func TestSilencesAndMetricsAPI(t *testing.T) {
	hooks := make(chan []byte, 10)
	wh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- b
	}))
	defer wh.Close()
	f := newFixture(t, nil, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.s.ntf.start(ctx)

	rule := `{"nome":"mem","metrica":"mem.used_pct","operador":">","limite":50,"severidade":"aviso","canais":[{"tipo":"webhook","url":"` + wh.URL + `"}]}`
	code, b := f.do(t, "POST", "/monitoramento/alertas", rule)
	if code != 201 {
		t.Fatal(string(b))
	}
	var r Rule
	_ = json.Unmarshal(b, &r)
	for _, c := range []struct{ body, loc string }{
		{`{"motivo":"x"}`, "body.ate"},
		{`{"motivo":"x","ate":"2020-01-01T00:00:00Z"}`, "body.ate"},
		{`{"motivo":"x","ate":"2030-01-01T00:00:00Z","duracao_segundos":5}`, "body.ate"},
		{`{"motivo":"x","duracao_segundos":60,"regra_id":9999}`, "body.regra_id"},
		{`{"motivo":"","duracao_segundos":60}`, "body.motivo"},
	} {
		if code, b := f.do(t, "POST", "/monitoramento/silencios", c.body); code != 422 || problemLocation(t, b) != c.loc {
			t.Errorf("%s: %d %s", c.body, code, b)
		}
	}
	code, b = f.do(t, "POST", "/monitoramento/silencios", fmt.Sprintf(`{"regra_id":%d,"duracao_segundos":60,"motivo":"manutenção"}`, r.ID))
	if code != 201 {
		t.Fatalf("silence: %d %s", code, b)
	}
	f.src.set("mem.used_pct", 90)
	f.step(1) // fires, silenced: recorded, not sent
	if code, b := f.do(t, "GET", "/monitoramento/alertas/eventos?estado=disparado", ""); code != 200 || !bytes.Contains(b, []byte(`"total":1`)) {
		t.Fatalf("silenced event not recorded: %s", b)
	}
	select {
	case h := <-hooks:
		t.Fatalf("silenced rule notified: %s", h)
	case <-time.After(300 * time.Millisecond):
	}
	f.clk.add(2 * time.Minute) // the silence expires
	f.src.set("mem.used_pct", 10)
	f.step(1) // resolves, not silenced any more
	select {
	case h := <-hooks:
		if !bytes.Contains(h, []byte(`"tipo":"resolvido"`)) {
			t.Fatalf("webhook %s", h)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no webhook after the silence expired")
	}
	if code, b := f.do(t, "GET", "/monitoramento/silencios", ""); code != 200 || !bytes.Contains(b, []byte(`"silencios":[]`)) {
		t.Errorf("expired silence listed: %s", b)
	}

	code, b = f.do(t, "GET", "/monitoramento/metricas", "")
	if code != 200 || !bytes.Contains(b, []byte(`"mem.used_pct":10`)) {
		t.Errorf("latest: %s", b)
	}
	code, b = f.do(t, "GET", "/monitoramento/metricas/nomes", "")
	if code != 200 || !bytes.Contains(b, []byte(`"nome":"cpu.total","unidade":"%"`)) {
		t.Errorf("names: %s", b)
	}
	code, b = f.do(t, "GET", "/monitoramento/dashboard", "")
	if code != 200 || !bytes.Contains(b, []byte(`"pior_disco":{"ponto":"/","used_pct":50}`)) || !bytes.Contains(b, []byte(`"tendencia_5min"`)) {
		t.Errorf("dashboard: %s", b)
	}
	for _, q := range []string{"metrica=", "metrica=cpu.total&pontos=0", "metrica=cpu.total&pontos=6000",
		"metrica=cpu.total&de=2026-11-28T12:00:00Z&ate=2026-11-28T11:00:00Z", "metrica=cpu.total&de=ontem", "metrica=a%20b"} {
		if code, b := f.do(t, "GET", "/monitoramento/historico?"+q, ""); code != 422 {
			t.Errorf("historico?%s: %d %s", q, code, b)
		}
	}
}

func TestWebhookRetriesAndEmail(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	delivered := make(chan struct{}, 1)
	wh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		n := attempts
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		delivered <- struct{}{}
	}))
	defer wh.Close()
	smtpAddr, mails := smtpListener(t)
	f := newFixture(t, nil, Config{SMTP: SMTPConfig{Addr: smtpAddr, From: "painel@example.com", User: "u", Password: "p"}, RetryBackoff: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.s.ntf.start(ctx)
	rule := `{"nome":"Disco cheio","metrica":"disk./.used_pct","operador":">=","limite":90,"severidade":"critico",
		"canais":[{"tipo":"webhook","url":"` + wh.URL + `"},{"tipo":"email","para":"ops@example.com"}]}`
	if code, b := f.do(t, "POST", "/monitoramento/alertas", rule); code != 201 {
		t.Fatal(string(b))
	}
	f.src.set("disk./.used_pct", 93.5)
	f.step(1)
	select {
	case <-delivered:
	case <-time.After(5 * time.Second):
		t.Fatal("webhook not delivered after retries")
	}
	mu.Lock()
	if attempts != 3 {
		t.Errorf("%d attempts, want 3 (two 502s, then success)", attempts)
	}
	mu.Unlock()
	select {
	case m := <-mails:
		if !strings.Contains(m, "RCPT TO:<ops@example.com>") || !strings.Contains(m, "Subject: [CRITICO] DISPARADO: Disco cheio") ||
			!strings.Contains(m, "Valor: 93.50") || !strings.Contains(m, "AUTH PLAIN") {
			t.Errorf("mail:\n%s", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no e-mail")
	}
}

// smtpListener is a minimal SMTP server on 127.0.0.1: it accepts AUTH PLAIN, records the whole
// dialogue of each session, and sends it on the channel at the end of DATA.
func smtpListener(t *testing.T) (string, <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				var log strings.Builder
				fmt.Fprint(c, "220 teste ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					log.WriteString(line)
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						fmt.Fprint(c, "250-teste\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "AUTH"):
						fmt.Fprint(c, "235 ok\r\n")
					case strings.HasPrefix(cmd, "DATA"):
						fmt.Fprint(c, "354 go\r\n")
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							log.WriteString(l)
						}
						fmt.Fprint(c, "250 queued\r\n")
						out <- log.String()
					case strings.HasPrefix(cmd, "QUIT"):
						fmt.Fprint(c, "221 bye\r\n")
						return
					default:
						fmt.Fprint(c, "250 ok\r\n")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String(), out
}

func dialWS(t *testing.T, ctx context.Context, f *fixture, query string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.ts.URL, "http")+"/monitoramento/ws"+query, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readJSON(t *testing.T, ctx context.Context, c *websocket.Conn) map[string]any {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWebSocketStream(t *testing.T) {
	f := newFixture(t, nil, Config{})
	f.step(3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all := dialWS(t, ctx, f, "", nil)
	some := dialWS(t, ctx, f, "?metricas=cpu.total", nil)
	snap := readJSON(t, ctx, all)
	if snap["tipo"] != "snapshot" || len(snap["series"].(map[string]any)["cpu.total"].([]any)) != 3 {
		t.Fatalf("snapshot %v", snap)
	}
	if _, ok := snap["series"].(map[string]any)["disk./.used_pct"]; !ok {
		t.Fatalf("snapshot lacks the disk series: %v", snap["series"])
	}
	snap2 := readJSON(t, ctx, some)
	if v := snap2["valores"].(map[string]any); len(v) != 1 || v["cpu.total"] != 10.0 {
		t.Fatalf("filtered snapshot %v", snap2)
	}
	f.src.set("cpu.total", 99)
	if code, b := f.do(t, "POST", "/monitoramento/alertas", `{"nome":"cpu","metrica":"cpu.total","operador":">","limite":90,"severidade":"critico"}`); code != 201 {
		t.Fatal(string(b))
	}
	f.step(1)
	// The event comes before the sample that caused it.
	ev := readJSON(t, ctx, all)
	if ev["tipo"] != "alerta" || ev["evento"].(map[string]any)["estado"] != "disparado" {
		t.Fatalf("want the alert first, got %v", ev)
	}
	s := readJSON(t, ctx, all)
	if s["tipo"] != "amostra" || s["valores"].(map[string]any)["cpu.total"] != 99.0 {
		t.Fatalf("sample %v", s)
	}
	readJSON(t, ctx, some) // its alert
	s2 := readJSON(t, ctx, some)
	if v := s2["valores"].(map[string]any); len(v) != 1 {
		t.Fatalf("filtered sample %v", s2)
	}
	// Bad filters are refused before upgrading.
	res, err := http.Get(f.ts.URL + "/monitoramento/ws?metricas=a%20b")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 422 {
		t.Errorf("bad filter: %d", res.StatusCode)
	}
	res, err = http.Get(f.ts.URL + "/monitoramento/ws")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %d", res.StatusCode)
	}
}

// TestWebSocketSlowClientDoesNotDelayOthers: a client that never reads is dropped after its
// write deadline and never holds back a client that reads.
func TestWebSocketSlowClientDoesNotDelayOthers(t *testing.T) {
	f := newFixture(t, nil, Config{})
	// Big samples (about 150 KB each), so that the stuck client's socket buffers fill quickly.
	values := map[string]float64{}
	for i := range 3000 {
		values[fmt.Sprintf("filler.metric.with.a.long.name.%04d", i)] = float64(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stuck := dialWS(t, ctx, f, "", nil)
	_ = stuck // never read
	good := dialWS(t, ctx, f, "?metricas=cpu.total", nil)
	readJSON(t, ctx, good)
	start := time.Now()
	var worst time.Duration
	for i := range 60 {
		values["cpu.total"] = float64(i)
		sent := time.Now()
		f.s.hub.broadcastSample(sent, values)
		m := readJSON(t, ctx, good)
		worst = max(worst, time.Since(sent))
		if m["valores"].(map[string]any)["cpu.total"] != float64(i) {
			t.Fatalf("sample %d: %v", i, m)
		}
	}
	t.Logf("60 samples to the reading client in %v, worst delivery %v; hub clients now %d, dropped %d",
		time.Since(start), worst, f.s.hub.count(), f.s.hub.dropped.Load())
	if worst > time.Second {
		t.Errorf("the reading client waited %v for a sample", worst)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.s.hub.count() != 1 && time.Now().Before(deadline) {
		f.s.hub.broadcastSample(time.Now(), values)
		readJSON(t, ctx, good)
		time.Sleep(100 * time.Millisecond)
	}
	if f.s.hub.count() != 1 {
		t.Errorf("the stuck client was not dropped: %d clients", f.s.hub.count())
	}
}

// TestHistoryTiersAndRestart writes 3 hours of samples, restarts the service on the same store,
// and reads every tier back.
func TestHistoryTiersAndRestart(t *testing.T) {
	st := openStore(t, "")
	f := newFixture(t, st, Config{FlushEvery: 10 * time.Minute})
	start := f.clk.now()
	for i := range 3 * 3600 {
		f.src.set("cpu.total", float64(i%100))
		f.step(1)
	}
	if err := f.s.FlushHistory(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := f.clk.now()
	f2 := newFixture(t, st, Config{Now: func() time.Time { return end.Add(time.Minute) }})
	ctx := context.Background()
	raw, err := f2.s.History(ctx, "cpu.total", start, start.Add(5*time.Minute), 1000)
	if err != nil || raw.Camada != "bruto" || len(raw.Pontos) != 300 {
		t.Fatalf("raw: %v %s %d", err, raw.Camada, len(raw.Pontos))
	}
	if raw.Pontos[0].Valor != 0 || raw.Pontos[1].Valor != 1 {
		t.Fatalf("raw values %v", raw.Pontos[:2])
	}
	minute, err := f2.s.History(ctx, "cpu.total", start, end, 180)
	if err != nil || minute.Camada != "1min" || len(minute.Pontos) < 170 || len(minute.Pontos) > 180 {
		t.Fatalf("1min: %v %s %d", err, minute.Camada, len(minute.Pontos))
	}
	// Sample i is taken at start+i+1 s with value i%100: the minute from start+5m holds
	// i = 299..358, that is 99 and 0..58.
	p := minute.Pontos[5]
	if !p.Momento.Equal(start.Add(5*time.Minute)) || p.Min != 0 || p.Max != 99 || math.Abs(p.Valor-(99+58*59/2)/60.0) > 0.01 {
		t.Errorf("minute 5: %+v", p)
	}
	hour, err := f2.s.History(ctx, "cpu.total", start, end, 3)
	if err != nil || hour.Camada != "1h" || len(hour.Pontos) < 2 {
		t.Fatalf("1h: %v %s %d", err, hour.Camada, len(hour.Pontos))
	}
	down, err := f2.s.History(ctx, "cpu.total", start, start.Add(time.Hour), 10)
	if err != nil || len(down.Pontos) > 10 {
		t.Fatalf("downsampled: %v %d", err, len(down.Pontos))
	}
	// Expiry removes what is past each tier's retention.
	n, err := f2.s.hist.expire(ctx, end.Add(48*time.Hour))
	if err != nil || n == 0 {
		t.Fatalf("expire: %d %v", n, err)
	}
	raw, _ = f2.s.History(ctx, "cpu.total", start, start.Add(5*time.Minute), 1000)
	if len(raw.Pontos) != 0 && raw.Camada == "bruto" {
		t.Errorf("raw points survived expiry: %d", len(raw.Pontos))
	}
}

// TestHistoryBytesPerSample: a 24 h synthetic load at 1 Hz, shaped like this host's metrics,
// stores at most 4 bytes per raw sample (the sum of the raw tier's block sizes, framing
// included, over the samples).
func TestHistoryBytesPerSample(t *testing.T) {
	if testing.Short() {
		t.Skip("24 h of samples")
	}
	st := openStore(t, "")
	h := newHistory(st, collect.Precision)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cpu, memUsed, rx, goroutines := 20.0, 6e9, 0.0, 40.0
	const seconds = 24 * 3600
	var samples int
	ctx := context.Background()
	for i := range seconds {
		at := t0.Add(time.Duration(i)*time.Second + time.Duration(rng.IntN(6000))*time.Microsecond)
		cpu = math.Max(0, math.Min(100, cpu+rng.NormFloat64()*3))
		memUsed += rng.NormFloat64() * 2e6
		if rng.IntN(20) == 0 {
			rx = rng.Float64() * 5e6
		} else {
			rx *= 0.3
		}
		if rng.IntN(30) == 0 {
			goroutines += float64(rng.IntN(5) - 2)
		}
		core0 := math.Max(0, math.Min(100, cpu+rng.NormFloat64()*5))
		v := map[string]float64{
			"cpu.total": cpu, "cpu.core.0": core0, "cpu.core.1": math.Max(0, math.Min(100, 2*cpu-core0)),
			"load.1": math.Round(cpu/25*100) / 100, "load.5": math.Round(cpu/30*100) / 100,
			"mem.used": math.Round(memUsed), "mem.used_pct": memUsed / 25e9 * 100,
			"disk./.used": 15e9 + float64(i/600)*4096, "disk./.used_pct": (15e9 + float64(i/600)*4096) / 270e9 * 100,
			"net.eth0.rx_bps": math.Round(rx), "net.eth0.tx_bps": math.Round(rx / 7),
			"io.vda.write_bps": float64(rng.IntN(3)) * 4096 * float64(rng.IntN(2)),
			"self.goroutines":  goroutines,
		}
		samples += len(v)
		if err := h.add(ctx, at, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := st.DB.Query(`SELECT metrica, SUM(LENGTH(dados)), SUM(n) FROM monitor_blocos WHERE camada = 0 GROUP BY metrica ORDER BY metrica`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var total, points int64
	for rows.Next() {
		var m string
		var b, n int64
		if err := rows.Scan(&m, &b, &n); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-18s %6.2f bytes/sample (%d points)", m, float64(b)/float64(n), n)
		total, points = total+b, points+n
	}
	if points != int64(samples) {
		t.Fatalf("%d points stored of %d", points, samples)
	}
	perSample := float64(total) / float64(points)
	t.Logf("24 h, %d metrics at 1 Hz: %d raw samples in %d bytes: %.3f bytes per raw sample", 13, points, total, perSample)
	if perSample > 4 {
		t.Errorf("%.3f bytes per raw sample > 4", perSample)
	}
}

func TestServiceOnPostgres(t *testing.T) {
	url := testenv.FreshPostgresURL(t)
	f := newFixture(t, openStore(t, url), Config{})
	if code, b := f.do(t, "POST", "/monitoramento/alertas", `{"nome":"cpu","metrica":"cpu.total","operador":">","limite":5,"severidade":"info"}`); code != 201 {
		t.Fatal(string(b))
	}
	f.step(3)
	if err := f.s.FlushHistory(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, b := f.do(t, "GET", "/monitoramento/alertas/eventos", "")
	if code != 200 || !bytes.Contains(b, []byte(`"total":1`)) {
		t.Fatalf("events on PostgreSQL: %s", b)
	}
	res, err := f.s.History(context.Background(), "cpu.total", f.clk.now().Add(-time.Minute), f.clk.now(), 100)
	if err != nil || len(res.Pontos) != 3 {
		t.Fatalf("history on PostgreSQL: %v %d", err, len(res.Pontos))
	}
	// Restart on the same database: defaults are not created twice, the episode is restored.
	f2 := newFixture(t, f.st, Config{})
	rules, _ := f2.s.ListRules(context.Background())
	if len(rules) != 4 {
		t.Fatalf("%d rules after restart", len(rules))
	}
	if f2.s.eng.state(rules[3].ID) != StateFiring {
		t.Fatal("open episode not restored")
	}
}
