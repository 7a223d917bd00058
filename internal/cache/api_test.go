package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/store"
)

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
	m  *Manager
	ts *httptest.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	m, err := NewManager(context.Background(), openStore(t, ""), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{MaxBodyBytes: 16 << 20})
	Register(srv.API, m, nil)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{m: m, ts: ts}
}

func (f *fixture) do(t testing.TB, method, path, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, f.ts.URL+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func jsonBody(v any) []byte { b, _ := json.Marshal(v); return b }

func TestDefaultAreas(t *testing.T) {
	f := newFixture(t)
	res, b := f.do(t, "GET", "/cache/areas", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	for _, want := range []string{`"padrao"`, `"dados_usuario"`, `"consultas_db"`, `"relatorios"`, `"sessoes"`, `"configuracoes"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("default area %s missing: %s", want, b)
		}
	}
}

func TestPutGetDelete(t *testing.T) {
	f := newFixture(t)
	res, b := f.do(t, "PUT", "/cache/usuario:42?area=dados_usuario", "application/json",
		jsonBody(map[string]any{"valor": map[string]any{"nome": "Ana", "idade": 30}, "ttl_segundos": 60, "tags": []string{"usuarios"}}))
	if res.StatusCode != 200 {
		t.Fatalf("put: %d %s", res.StatusCode, b)
	}
	res, b = f.do(t, "GET", "/cache/usuario:42?area=dados_usuario", "", nil)
	if res.StatusCode != 200 || res.Header.Get("X-Cache-Area") != "dados_usuario" || res.Header.Get("Content-Type") != "application/json" ||
		string(b) != `{"idade":30,"nome":"Ana"}` || res.Header.Get("X-Cache-Expira-Em") == "" {
		t.Fatalf("get: %d %v %s", res.StatusCode, res.Header, b)
	}
	// Raw body with its media type; alias path for literal names.
	res, _ = f.do(t, "PUT", "/cache/chaves/estatisticas", "text/plain; charset=utf-8", []byte("olá"))
	if res.StatusCode != 200 {
		t.Fatalf("raw put: %d", res.StatusCode)
	}
	res, b = f.do(t, "GET", "/cache/chaves/estatisticas", "", nil)
	if res.StatusCode != 200 || string(b) != "olá" || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("raw get: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	res, b = f.do(t, "GET", "/cache/estatisticas", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"areas"`) {
		t.Errorf("literal route lost to {chave}: %d %.100s", res.StatusCode, b)
	}
	if res, _ := f.do(t, "DELETE", "/cache/usuario:42?area=dados_usuario", "", nil); res.StatusCode != 200 {
		t.Errorf("delete: %d", res.StatusCode)
	}
	res, b = f.do(t, "GET", "/cache/usuario:42?area=dados_usuario", "", nil)
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("miss: %d %s", res.StatusCode, b)
	}
	if res, _ := f.do(t, "DELETE", "/cache/nada", "", nil); res.StatusCode != 404 {
		t.Errorf("delete missing: %d", res.StatusCode)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("k", MaxKeyBytes+1)
	for _, tc := range []struct {
		method, path, ctype string
		body                []byte
		code                int
		field               string
	}{
		{"PUT", "/cache/" + long, "text/plain", []byte("x"), 422, "chave"},
		{"GET", "/cache/x?area=nao-existe", "", nil, 404, "área"},
		{"PUT", "/cache/x", "application/json", []byte(`{"valor":`), 400, "body"},
		{"PUT", "/cache/x", "application/json", jsonBody(map[string]any{"ttl_segundos": 5}), 422, "valor"},
		{"PUT", "/cache/x", "application/json", jsonBody(map[string]any{"valor": 1, "ttl_segundos": -1}), 422, "ttl_segundos"},
		{"PUT", "/cache/x", "application/json", jsonBody(map[string]any{"valor": 1, "extra": 1}), 400, "extra"},
		{"PUT", "/cache/x", "application/json", jsonBody(map[string]any{"valor": 1, "tags": []string{""}}), 422, "tags"},
		{"PUT", "/cache/x?area=configuracoes", "application/octet-stream", bytes.Repeat([]byte("x"), 9<<20), 413, ""},
		{"PUT", "/cache/areas/Nome Ruim", "application/json", jsonBody(map[string]any{"estrategia": "lru", "tamanho_max_bytes": 4096}), 422, "nome"},
		{"PUT", "/cache/areas/nova", "application/json", jsonBody(map[string]any{"estrategia": "aleatoria", "tamanho_max_bytes": 4096}), 422, "estrategia"},
		{"PUT", "/cache/areas/enorme", "application/json", jsonBody(map[string]any{"estrategia": "lru", "tamanho_max_bytes": 1 << 40}), 409, "orçamento"},
		{"DELETE", "/cache/areas/nao-existe", "", nil, 404, "área"},
		{"POST", "/cache/limpar", "application/json", jsonBody(map[string]any{"area": "nao-existe"}), 404, "área"},
	} {
		res, b := f.do(t, tc.method, tc.path, tc.ctype, tc.body)
		if res.StatusCode != tc.code || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), tc.field) {
			t.Errorf("%s %.60s: %d %.300s; want %d naming %q", tc.method, tc.path, res.StatusCode, b, tc.code, tc.field)
		}
	}
}

func TestAreasTagsAndClear(t *testing.T) {
	f := newFixture(t)
	res, b := f.do(t, "PUT", "/cache/areas/cardapio", "application/json", jsonBody(map[string]any{"estrategia": "lfu", "tamanho_max_bytes": 1 << 20, "max_itens": 100}))
	if res.StatusCode != 201 {
		t.Fatalf("create area: %d %s", res.StatusCode, b)
	}
	res, _ = f.do(t, "PUT", "/cache/areas/cardapio", "application/json", jsonBody(map[string]any{"estrategia": "lru", "tamanho_max_bytes": 2 << 20}))
	if res.StatusCode != 200 {
		t.Fatalf("reconfigure: %d", res.StatusCode)
	}
	for i := 0; i < 10; i++ {
		tags := []string{"pratos"}
		if i%2 == 0 {
			tags = append(tags, "promo")
		}
		f.do(t, "PUT", fmt.Sprintf("/cache/item-%d?area=cardapio", i), "application/json", jsonBody(map[string]any{"valor": i, "tags": tags}))
	}
	res, b = f.do(t, "DELETE", "/cache/tags/promo", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"removidos":5`) {
		t.Fatalf("tag delete: %d %s", res.StatusCode, b)
	}
	if res, _ := f.do(t, "GET", "/cache/item-0?area=cardapio", "", nil); res.StatusCode != 404 {
		t.Errorf("tagged item survived: %d", res.StatusCode)
	}
	if res, _ := f.do(t, "GET", "/cache/item-1?area=cardapio", "", nil); res.StatusCode != 200 {
		t.Errorf("untagged item gone: %d", res.StatusCode)
	}
	res, b = f.do(t, "POST", "/cache/limpar", "application/json", jsonBody(map[string]any{"area": "cardapio"}))
	if res.StatusCode != 200 || !strings.Contains(string(b), `"removidos":5`) {
		t.Errorf("clear: %d %s", res.StatusCode, b)
	}
	if res, _ := f.do(t, "DELETE", "/cache/areas/cardapio", "", nil); res.StatusCode != 204 {
		t.Errorf("delete area: %d", res.StatusCode)
	}
	if res, _ := f.do(t, "GET", "/cache/areas/cardapio", "", nil); res.StatusCode != 404 {
		t.Errorf("deleted area still there: %d", res.StatusCode)
	}
}

func TestStatisticsAndOptimiser(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.m.Area("padrao")
	// A skewed workload: some keys hot, many cold.
	for i := 0; i < 60000; i++ {
		k := fmt.Sprintf("k%d", (i*7919)%5000)
		if i%3 == 0 {
			k = fmt.Sprintf("quente%d", i%5)
		}
		if _, ok, _ := f.m.Get(ctx, "padrao", k); !ok {
			_ = f.m.Set(ctx, "padrao", &Value{Key: k, Data: []byte("valor"), ContentType: "text/plain"})
		}
	}
	a.snapshot(a.lastSnap.Add(10e9))
	res, b := f.do(t, "GET", "/cache/estatisticas?area=padrao", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	var s Stats
	if err := json.Unmarshal(b, &s); err != nil || len(s.Areas) != 1 {
		t.Fatalf("stats: %v %s", err, b)
	}
	as := s.Areas[0]
	if as.Hits == 0 || as.Misses == 0 || as.HitRatio <= 0 || as.Itens == 0 || as.Bytes == 0 || len(as.Serie) != 1 ||
		len(as.ChavesQuentes) == 0 || !strings.HasPrefix(as.ChavesQuentes[0].Chave, "quente") || len(as.CurvaHitRatio) == 0 ||
		len(as.Simulacoes) == 0 || as.Amostras < minSamples {
		t.Errorf("incomplete stats: %+v", as)
	}
	// A fresh area shows no curve before it has enough samples.
	res, b = f.do(t, "GET", "/cache/estatisticas?area=sessoes", "", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"curva_hit_ratio":[]`) || !strings.Contains(string(b), `"serie":[]`) {
		t.Errorf("empty area: %d %.300s", res.StatusCode, b)
	}
	res, b = f.do(t, "POST", "/cache/otimizar", "application/json", jsonBody(map[string]any{"simular": true}))
	if res.StatusCode != 200 || !strings.Contains(string(b), `"decisoes"`) {
		t.Errorf("optimise: %d %s", res.StatusCode, b)
	}
	if res, _ := f.do(t, "GET", "/cache/otimizacoes", "", nil); res.StatusCode != 200 {
		t.Errorf("log: %d", res.StatusCode)
	}
}
