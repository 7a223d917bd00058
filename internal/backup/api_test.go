package backup

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/httpapi"
)

func TestAPI(t *testing.T) {
	e := newEnv(t, "")
	e.write("a.txt", "conteúdo")
	srv := httpapi.New(httpapi.Options{})
	Register(srv.API, e.svc, nil)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	loc := func(m map[string]any) string {
		errs, _ := m["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		l, _ := errs[0].(map[string]any)["location"].(string)
		return l
	}

	if code, m := do("POST", "/backup/executar", `{"tipo":"semanal"}`); code != 422 || loc(m) != "body.tipo" {
		t.Errorf("bad tipo: %d %v", code, m)
	}
	code, m := do("POST", "/backup/executar", `{"tipo":"incremental"}`)
	if code != 202 {
		t.Fatalf("executar: %d %v", code, m)
	}
	jobID := m["id"].(string)
	code, m = do("GET", "/backup/jobs/"+jobID+"?aguardar=true", "")
	if code != 200 || m["status"] != "concluido" || m["tipo"] != Full {
		t.Fatalf("job: %d %v (an incremental without a full is made as a full)", code, m)
	}
	full := m["backup_id"].(string)
	if code, _ := do("GET", "/backup/jobs/nada", ""); code != 404 {
		t.Errorf("unknown job: %d", code)
	}
	// While the lock is held (a backup running here or in another instance), runs get 409.
	release, err := e.svc.lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if code, m := do("POST", "/backup/executar", `{"tipo":"completo"}`); code != 409 {
		t.Errorf("busy: %d %v", code, m)
	}
	release()
	code, m = do("POST", "/backup/executar", `{"tipo":"diferencial"}`)
	if code != 202 {
		t.Fatal(m)
	}
	do("GET", "/backup/jobs/"+m["id"].(string)+"?aguardar=true", "")

	code, m = do("GET", "/backup/listar?por_pagina=1", "")
	if code != 200 || m["total"].(float64) != 2 || len(m["backups"].([]any)) != 1 {
		t.Fatalf("listar: %v", m)
	}
	newest := m["backups"].([]any)[0].(map[string]any)
	if newest["tipo"] != Differential || newest["pai"] != full {
		t.Errorf("newest %v", newest)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"GET", "/backup/listar?pagina=0", "", 422},
		{"GET", "/backup/20261128t000000000z-000000", "", 404},
		{"GET", "/backup/nao-e-um-id", "", 422},
		{"POST", "/backup/20261128t000000000z-000000/verificar", "", 404},
		{"DELETE", "/backup/" + full, "", 409}, // the differential depends on it
		{"POST", "/backup/restaurar/" + full, `{"destino":"../fora"}`, 422},
		{"POST", "/backup/restaurar/" + full, `{"destino":"/etc"}`, 422},
		{"POST", "/backup/restaurar/" + full, `{"destino":""}`, 422},
		{"POST", "/backup/restaurar/" + full, `{"destino":"ativo"}`, 422}, // no maintenance hook here
		{"POST", "/backup/restaurar/20261128t000000000z-000000", `{"destino":"x"}`, 404},
		{"PUT", "/backup/configuracao", `{"agendamento":{"completo":"toda segunda"},"retencao":{},"fontes":[]}`, 422},
		{"PUT", "/backup/configuracao", `{"agendamento":{},"retencao":{"manter_ultimos":-1},"fontes":[]}`, 422},
		{"PUT", "/backup/configuracao", `{"agendamento":{},"retencao":{},"fontes":["relativo"]}`, 422},
		{"PUT", "/backup/configuracao", `{"agendamento":{},"retencao":{},"fontes":["/nao/existe"]}`, 422},
	} {
		if code, m := do(c.method, c.path, c.body); code != c.code {
			t.Errorf("%s %s %s: %d %v (want %d)", c.method, c.path, c.body, code, m, c.code)
		}
	}
	code, m = do("PUT", "/backup/configuracao", `{"agendamento":{"completo":"0 3 * * 0","incremental":"@hourly"},"retencao":{"manter_ultimos":3},"fontes":[]}`)
	if code != 200 {
		t.Fatalf("config: %d %v", code, m)
	}
	code, m = do("GET", "/backup/configuracao", "")
	if code != 200 || m["agendamento"].(map[string]any)["completo"] != "0 3 * * 0" {
		t.Errorf("config read back: %v", m)
	}
	code, m = do("POST", "/backup/"+full+"/verificar", "")
	if code != 200 || m["ok"] != true {
		t.Errorf("verificar: %d %v", code, m)
	}
	code, m = do("GET", "/backup/"+full, "")
	if code != 200 || m["verificacao"] == nil || len(m["dependentes"].([]any)) != 1 {
		t.Errorf("detail: %d %v", code, m)
	}
	code, m = do("POST", "/backup/restaurar/"+full, `{"destino":"r1"}`)
	if code != 202 {
		t.Fatalf("restaurar: %d %v", code, m)
	}
	code, m = do("GET", "/backup/jobs/"+m["id"].(string)+"?aguardar=true", "")
	if code != 200 || m["status"] != "concluido" || m["arquivos"].(float64) != 2 {
		t.Errorf("restore job: %v", m)
	}
	if code, _ := do("POST", "/backup/restaurar/"+full, `{"destino":"r1"}`); code != 422 {
		t.Errorf("restore into a non-empty folder: %d", code)
	}
	code, m = do("DELETE", "/backup/"+full+"?cascata=true", "")
	if code != 200 || len(m["removidos"].([]any)) != 2 {
		t.Errorf("cascade delete: %d %v", code, m)
	}
}
