package app

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/painel-universal/painel/internal/auth"
	"github.com/painel-universal/painel/internal/config"
)

// principals of an instance: the admin, an operador, a leitura user and a door scanner's API key
// (scope qr:validar).
type principals struct {
	admin, operador, leitura, scanner string
}

func setupPrincipals(t *testing.T, in *instance) principals {
	t.Helper()
	p := principals{admin: in.token}
	for _, u := range []struct{ email, papel string }{{"op@teste.painel", "operador"}, {"leit@teste.painel", "leitura"}} {
		body, _ := json.Marshal(map[string]any{"nome": "Pessoa " + u.papel, "email": u.email, "papel": u.papel, "senha": "outra-senha-longa"})
		if code, b, _ := do(t, http.MethodPost, in.base+"/usuarios", in.token, "application/json", body); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", u.papel, code, b)
		}
	}
	p.operador = login(t, in.base, "op@teste.painel", "outra-senha-longa")
	p.leitura = login(t, in.base, "leit@teste.painel", "outra-senha-longa")
	code, b, _ := do(t, http.MethodPost, in.base+"/auth/chaves", in.token, "application/json",
		[]byte(`{"nome":"Leitor da porta 1","escopos":["qr:validar"]}`))
	var key struct{ Segredo string }
	if code != http.StatusCreated || json.Unmarshal(b, &key) != nil || !strings.HasPrefix(key.Segredo, "pnk_") {
		t.Fatalf("create API key: %d %s", code, b)
	}
	p.scanner = key.Segredo
	return p
}

type apiOperation struct{ id, method, path string }

func operations(t *testing.T, in *instance) []apiOperation {
	t.Helper()
	code, b, _ := get(t, in.base+"/openapi.json")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                 `json:"operationId"`
			Security    *[]map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if code != 200 || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("/openapi.json: %d", code)
	}
	access := operationAccess()
	var ops []apiOperation
	for path, items := range doc.Paths {
		for method, op := range items {
			perm, decided := access[op.OperationID]
			if !decided {
				t.Errorf("%s %s (%s): no permission decided for it in operationAccess (access.go)", strings.ToUpper(method), path, op.OperationID)
				continue
			}
			// The document says who may call it.
			switch {
			case op.Security == nil:
				t.Errorf("%s: the OpenAPI document declares no security", op.OperationID)
			case perm == public && len(*op.Security) != 0:
				t.Errorf("%s is public but declares security %v", op.OperationID, *op.Security)
			case perm != public && len(*op.Security) == 0:
				t.Errorf("%s needs %s but declares no security scheme", op.OperationID, perm)
			}
			ops = append(ops, apiOperation{op.OperationID, strings.ToUpper(method), path})
		}
	}
	slices.SortFunc(ops, func(a, b apiOperation) int { return strings.Compare(a.id, b.id) })
	if len(ops) < 60 {
		t.Fatalf("only %d operations in /openapi.json", len(ops))
	}
	return ops
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// call sends op with credential cred (an access token, an API key pnk_... in X-API-Key, or ""):
// path parameters point at things that do not exist, and bodies are empty objects, so that
// an authorised call fails validation or finds nothing instead of changing anything.
func call(t *testing.T, in *instance, op apiOperation, cred string) int {
	t.Helper()
	path := pathParam.ReplaceAllStringFunc(op.path, func(p string) string {
		switch p {
		case "{acao}":
			return "verificar"
		case "{id}", "{backupId}":
			if strings.HasPrefix(op.path, "/backup") {
				return "20000101t000000000z-000000"
			}
		}
		return "999999"
	})
	req, _ := http.NewRequest(op.method, in.base+path, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(cred, "pnk_"):
		req.Header.Set("X-API-Key", cred)
	case cred != "":
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", op.method, path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestEveryOperationIsGuarded is issue 7's acceptance 1 (and 3 for what the scanner key may
// not do): every operation of the OpenAPI document has a decided permission; without a token
// every non-public one answers 401; a principal without its permission gets 403; one with it
// gets neither. A door scanner's key may only validate (and redeem) QR codes.
func TestEveryOperationIsGuarded(t *testing.T) {
	in := start(t, map[string]string{"PAINEL_RATE_LIMIT": "0"}, hooks{})
	who := setupPrincipals(t, in)
	roles := map[string]struct {
		cred string
		can  func(auth.Permission) bool
	}{
		"admin":    {who.admin, auth.RoleAdmin.Has},
		"operador": {who.operador, auth.RoleOperador.Has},
		"leitura":  {who.leitura, auth.RoleLeitura.Has},
		"scanner": {who.scanner, func(p auth.Permission) bool {
			return p == auth.PermQRValidar || p == auth.PermAuthProprio
		}},
	}
	access := operationAccess()
	scannerAllowed := 0
	for _, op := range operations(t, in) {
		perm := access[op.id]
		code := call(t, in, op, "")
		if perm == public {
			if code == http.StatusUnauthorized || code == http.StatusForbidden {
				t.Errorf("public %s %s answered %d without a token", op.method, op.path, code)
			}
			continue
		}
		if code != http.StatusUnauthorized {
			t.Errorf("%s %s (%s) without a token = %d, want 401", op.method, op.path, op.id, code)
		}
		if code := call(t, in, op, "not-a-token"); code != http.StatusUnauthorized {
			t.Errorf("%s %s with a bad token = %d, want 401", op.method, op.path, code)
		}
		for name, r := range roles {
			// Logging out ends the session the other calls use: only without a valid body.
			code := call(t, in, op, r.cred)
			if r.can(perm) {
				if code == http.StatusUnauthorized || code == http.StatusForbidden {
					t.Errorf("%s %s (%s needs %s) as %s = %d, want neither 401 nor 403", op.method, op.path, op.id, perm, name, code)
				}
				if name == "scanner" && perm == auth.PermQRValidar {
					scannerAllowed++
				}
			} else if code != http.StatusForbidden {
				t.Errorf("%s %s (%s needs %s) as %s = %d, want 403", op.method, op.path, op.id, perm, name, code)
			}
		}
	}
	if scannerAllowed != 1 {
		t.Errorf("the scanner key may call %d operations with qr:validar, want 1 (qr-validar)", scannerAllowed)
	}

	// The routes outside huma: the live dashboard's WebSocket and /metrics.
	ws := "ws" + strings.TrimPrefix(in.base, "http") + "/monitoramento/ws"
	for _, c := range []struct {
		name, query string
		want        int
	}{{"no token", "", 401}, {"bad token", "?token=x", 401}, {"scanner key", "?token=" + who.scanner, 403}} {
		_, res, err := websocket.Dial(t.Context(), ws+c.query, nil)
		if err == nil || res == nil || res.StatusCode != c.want {
			t.Errorf("WebSocket with %s: %v %v, want %d before the upgrade", c.name, res, err, c.want)
		}
	}
	conn, _, err := websocket.Dial(t.Context(), ws+"?token="+who.leitura, nil)
	if err != nil {
		t.Errorf("WebSocket as leitura: %v", err)
	} else {
		conn.CloseNow()
	}
	if code, _, _ := get(t, in.base+"/metrics", who.scanner); code != http.StatusForbidden {
		t.Errorf("/metrics with the scanner key = %d, want 403", code)
	}
	if code, _, _ := get(t, in.base+"/metrics", who.leitura); code != 200 {
		t.Errorf("/metrics as leitura = %d, want 200", code)
	}
}

// TestScannerKeyRedeemsCheckins is acceptance 3's positive side: the scanner's key validates a
// check-in and redeems it once; the second scan is refused as already used.
func TestScannerKeyRedeemsCheckins(t *testing.T) {
	in := start(t, map[string]string{"PAINEL_RATE_LIMIT": "0"}, hooks{})
	who := setupPrincipals(t, in)
	body := []byte(`{"evento_id":"festival-2026","evento_nome":"Festival de Verão",
		"participante":{"nome":"João da Conceição","documento":"529.982.247-25"}}`)
	code, b, _ := do(t, http.MethodPost, in.base+"/qr-codes/checkin", who.operador, "application/json", body)
	var qr struct{ Conteudo string }
	if code != http.StatusCreated && code != http.StatusOK || json.Unmarshal(b, &qr) != nil || qr.Conteudo == "" {
		t.Fatalf("generate a check-in as operador: %d %s", code, b)
	}
	scan, _ := json.Marshal(map[string]any{"conteudo": qr.Conteudo, "consumir": true})
	for i, want := range []bool{true, false} {
		req, _ := http.NewRequest(http.MethodPost, in.base+"/qr-codes/validar", strings.NewReader(string(scan)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+who.scanner) // a key works as a bearer token too
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Valido    bool
			Consumido bool
			Motivo    string
		}
		err = json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || v.Consumido != want {
			t.Fatalf("scan %d with the scanner key: %d %+v %v, want consumido=%v", i+1, res.StatusCode, v, err, want)
		}
		if i == 1 && (v.Valido || v.Motivo == "") {
			t.Fatalf("second scan of a redeemed check-in: %+v, want refused with a reason", v)
		}
	}
	// And nothing else: reading the code it just scanned is refused.
	if code, _, _ := do(t, http.MethodGet, in.base+"/qr-codes/999999", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("GET a QR code without credentials = %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodGet, in.base+"/auth/me", nil)
	req.Header.Set("X-API-Key", who.scanner)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me auth.Principal
	_ = json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res.StatusCode != 200 || me.Tipo != auth.PrincipalAPIKey || !slices.Equal(me.Escopos, []auth.Permission{auth.PermQRValidar, auth.PermAuthProprio}) {
		t.Errorf("/auth/me with the scanner key: %d %+v", res.StatusCode, me)
	}
}

// TestRateLimitRetryAfter: past its burst a client gets 429 with Retry-After.
func TestRateLimitRetryAfter(t *testing.T) {
	in := start(t, map[string]string{"PAINEL_RATE_LIMIT": "1"}, hooks{}) // 1/s, bursts of 2
	var last int
	var hdr http.Header
	for range 5 {
		last, _, hdr = get(t, in.base+"/backup/listar", in.token)
		if last == http.StatusTooManyRequests {
			break
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("5 quick requests at 1/s: last answered %d, want 429", last)
	}
	if ra := hdr.Get("Retry-After"); ra != "1" && ra != "2" {
		t.Fatalf("429 Retry-After = %q, want 1 or 2 seconds", ra)
	}
	// The WebSocket and /metrics count against the same bucket.
	if code, _, hdr := get(t, in.base+"/metrics", in.token); code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("/metrics past the limit: %d, Retry-After %q", code, hdr.Get("Retry-After"))
	}
	time.Sleep(2100 * time.Millisecond)
	if code, _, _ := get(t, in.base+"/backup/listar", in.token); code != 200 {
		t.Fatalf("after waiting Retry-After: %d, want 200", code)
	}
}

// TestAuditOfPrivilegedActions is acceptance 6: each privileged action lands in the audit log
// with who, when, from where and the outcome.
func TestAuditOfPrivilegedActions(t *testing.T) {
	in := start(t, map[string]string{"PAINEL_RATE_LIMIT": "0"}, hooks{})
	who := setupPrincipals(t, in)
	post := func(path, tok, body string) (int, []byte) {
		code, b, _ := do(t, http.MethodPost, in.base+path, tok, "application/json", []byte(body))
		return code, b
	}
	code, b, hdr := do(t, http.MethodPost, in.base+"/backup/executar", who.admin, "application/json", []byte(`{"tipo":"completo"}`))
	if code != http.StatusAccepted || hdr.Get("Location") == "" {
		t.Fatalf("backup: %d %s", code, b)
	}
	if code, b, _ := get(t, in.base+hdr.Get("Location")+"?aguardar=true", who.leitura); code != 200 || !strings.Contains(string(b), `"concluido"`) {
		t.Fatalf("backup job: %d %s", code, b)
	}
	if code, b := post("/cache/limpar", who.admin, `{}`); code >= 300 {
		t.Fatalf("cache clear: %d %s", code, b)
	}
	code, b = post("/monitoramento/alertas", who.admin, `{"nome":"CPU","metrica":"cpu.total_pct","operador":">","limite":95,"severidade":"aviso","canais":[{"tipo":"websocket"}]}`)
	var rule struct{ ID int64 }
	if code != http.StatusCreated || json.Unmarshal(b, &rule) != nil {
		t.Fatalf("alert rule: %d %s", code, b)
	}
	if code, b, _ := do(t, http.MethodDelete, in.base+"/monitoramento/alertas/"+jsonInt(rule.ID), who.admin, "", nil); code >= 300 {
		t.Fatalf("delete alert rule: %d %s", code, b)
	}
	code, b = post("/qr-codes/url", who.operador, `{"url":"https://exemplo.com.br"}`)
	var qr struct{ ID string }
	if code >= 300 || json.Unmarshal(b, &qr) != nil {
		t.Fatalf("QR: %d %s", code, b)
	}
	if code, b := post("/qr-codes/"+qr.ID+"/revogar", who.admin, `{"motivo":"teste"}`); code >= 300 {
		t.Fatalf("revoke: %d %s", code, b)
	}
	// Refused attempts are recorded too: an operador's (named) and an anonymous one.
	if code, _ := post("/cache/limpar", who.operador, `{}`); code != http.StatusForbidden {
		t.Fatalf("operador clearing the cache: %d, want 403", code)
	}
	if code, _ := post("/backup/executar", "", `{"tipo":"completo"}`); code != http.StatusUnauthorized {
		t.Fatalf("anonymous backup: %d, want 401", code)
	}

	code, b, _ = get(t, in.base+"/auditoria?limite=200", who.admin)
	var page auth.AuditPage
	if code != 200 || json.Unmarshal(b, &page) != nil {
		t.Fatalf("/auditoria: %d %s", code, b)
	}
	byAction := map[string]auth.AuditEntry{}
	for _, e := range page.Entradas {
		if _, seen := byAction[e.Acao]; !seen && e.Resultado == "sucesso" {
			byAction[e.Acao] = e
		}
	}
	for _, action := range []string{"backup.executar", "cache.limpar", "alerta.criar", "alerta.remover", "qr.revogar",
		"auth.login", "usuarios.criar", "chaves.criar"} {
		e, ok := byAction[action]
		switch {
		case !ok:
			t.Errorf("no audit entry for %s; entries: %v", action, keys(byAction))
		case e.Resultado != "sucesso" || e.IP == "" || e.Quando.IsZero() || e.QuemTipo != auth.PrincipalUser:
			t.Errorf("audit entry for %s: %+v, want a success by a user, with IP and time", action, e)
		}
	}
	if e := byAction["qr.revogar"]; e.QuemNome == "" || !strings.Contains(e.Alvo, qr.ID) {
		t.Errorf("qr.revogar entry %+v does not name who and which code", e)
	}
	var deniedOp, deniedAnon bool
	for _, e := range page.Entradas {
		if e.Acao == "cache.limpar" && e.Resultado == "negado" && e.QuemTipo == auth.PrincipalUser && e.QuemNome == "Pessoa operador" && e.IP != "" {
			deniedOp = true
		}
		if e.Acao == "backup.executar" && e.Resultado == "negado" && e.QuemTipo == "anonimo" && e.Detalhe == "HTTP 401" {
			deniedAnon = true
		}
	}
	if !deniedOp || !deniedAnon {
		t.Errorf("refusals in the audit log: operador's %v, anonymous %v; entries %+v", deniedOp, deniedAnon, page.Entradas[:min(6, len(page.Entradas))])
	}
	// The audit log is the admin's: others are refused.
	if code, _, _ := get(t, in.base+"/auditoria", who.operador); code != http.StatusForbidden {
		t.Errorf("/auditoria as operador = %d, want 403", code)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRoleMatrix pins the roles to representative operations, so the table in
// access.go cannot drift from them: operador generates, validates and redeems QR codes, moves
// comandas, reads and writes the cache, reads monitoring and lists backups; leitura only reads
// monitoring, cache statistics and the backup list; everything else is admin's.
func TestRoleMatrix(t *testing.T) {
	access := operationAccess()
	all := []auth.Role{auth.RoleAdmin, auth.RoleOperador, auth.RoleLeitura}
	for op, want := range map[string][]auth.Role{
		"qr-gerar-checkin": all[:2], "qr-validar": all[:2], "comanda-movimento": all[:2], "comanda-saldo": all[:2],
		"cache-ler": all[:2], "cache-gravar": all[:2], "cache-remover": all[:2],
		"cache-estatisticas": all, "monitoramento-dashboard": all, "monitoramento-historico": all,
		"monitoramento-alertas-listar": all, "backup-listar": all, "backup-ler": all, "metricas": all, "auth-me": all,
		"cache-limpar": all[:1], "cache-area-gravar": all[:1], "qr-revogar": all[:1],
		"monitoramento-alertas-criar": all[:1], "monitoramento-silencios-criar": all[:1],
		"backup-executar": all[:1], "backup-restaurar": all[:1], "backup-remover": all[:1], "backup-configuracao-alterar": all[:1],
		"usuarios-criar": all[:1], "chaves-criar": all[:1], "auditoria-listar": all[:1],
	} {
		perm, ok := access[op]
		if !ok {
			t.Errorf("%s is not in the access table", op)
			continue
		}
		for _, r := range all {
			if got := r.Has(perm); got != slices.Contains(want, r) {
				t.Errorf("%s (%s): role %s allowed=%v, want %v", op, perm, r, got, !got)
			}
		}
	}
	for _, op := range []string{"healthz", "readyz", "versao", "auth-login", "auth-refresh"} {
		if p, ok := access[op]; !ok || p != public {
			t.Errorf("%s should be public, is %q", op, p)
		}
	}
}

// TestUserCommand: `painel user create -admin` makes the first admin of a stopped service, who
// can then log in; bad input is refused with the field named.
func TestUserCommand(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"PAINEL_DATA_DIR": dataDir}
	code, out, errOut := runCmdIn(t, env, "uma-senha-boa\n", "user", "create", "-admin", "-email", "chefe@teste.painel", "-nome", "Chefe")
	if code != 0 || !strings.Contains(out, "chefe@teste.painel (admin)") {
		t.Fatalf("user create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCmdIn(t, env, "curta\n", "user", "create", "-email", "x@teste.painel", "-nome", "X"); code == 0 || !strings.Contains(errOut, "senha") {
		t.Fatalf("a short password: %d %q", code, errOut)
	}
	if code, _, errOut := runCmdIn(t, env, "uma-senha-boa\n", "user", "create", "-email", "chefe@teste.painel", "-nome", "Outro"); code == 0 || !strings.Contains(errOut, "email") {
		t.Fatalf("a duplicate e-mail: %d %q", code, errOut)
	}
	if code, out, _ := runCmdIn(t, env, "", "user", "list"); code != 0 || !strings.Contains(out, "chefe@teste.painel") {
		t.Fatalf("user list: %d %q", code, out)
	}
	in := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir, "PAINEL_ADMIN_EMAIL": "", "PAINEL_ADMIN_PASSWORD": ""}, hooks{})
	tok := login(t, in.base, "chefe@teste.painel", "uma-senha-boa")
	if code, _, _ := get(t, in.base+"/usuarios", tok); code != 200 {
		t.Fatalf("/usuarios as the new admin: %d", code)
	}
}

func runCmdIn(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(t.Context(), append([]string{"painel"}, args...), envFrom(env), strings.NewReader(stdin), &out, &errOut, hooks{})
	return code, out.String(), errOut.String()
}

// TestSigningKeyRotation: with the old key in PAINEL_AUTH_PREVIOUS_KEYS, tokens signed before a
// rotation still verify; without it they do not.
func TestSigningKeyRotation(t *testing.T) {
	k1, _ := auth.GenerateSigningKey()
	k2, _ := auth.GenerateSigningKey()
	dataDir := filepath.Join(t.TempDir(), "data")
	in := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir, "PAINEL_AUTH_SIGNING_KEY": k1}, hooks{})
	old := in.token
	in.stop(t)
	for _, c := range []struct {
		previous string
		want     int
	}{{k1, 200}, {"", 401}} {
		in := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir, "PAINEL_AUTH_SIGNING_KEY": k2, "PAINEL_AUTH_PREVIOUS_KEYS": c.previous}, hooks{})
		if code, b, _ := get(t, in.base+"/auth/me", old); code != c.want {
			t.Errorf("a token of the old key, old key kept %v: %d %s, want %d", c.previous != "", code, b, c.want)
		}
		in.stop(t)
	}
}

// TestAuditRetention: entries older than PAINEL_AUDIT_RETENTION are pruned, newer ones kept, and
// a retention of 0 keeps everything.
func TestAuditRetention(t *testing.T) {
	ctx := t.Context()
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg, err := config.Bind(flag.NewFlagSet("x", flag.ContinueOnError), envFrom(map[string]string{"PAINEL_DATA_DIR": dataDir}))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := auth.NewService(st, authOptions(cfg), log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, age := range []time.Duration{400 * 24 * time.Hour, 10 * 24 * time.Hour} {
		if err := a.Record(ctx, auth.AuditEntry{Quando: now.Add(-age), Acao: "teste.idade", Resultado: "sucesso", Detalhe: age.String()}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		page, err := a.ListAudit(ctx, auth.AuditFilter{AcaoPrefixo: "teste."})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Entradas)
	}
	pruneAuth(ctx, a, now, 0, log)
	if n := count(); n != 2 {
		t.Fatalf("retention 0 kept %d entries, want 2", n)
	}
	pruneAuth(ctx, a, now, cfg.AuditRetention, log) // the default, 365 days
	if n := count(); n != 1 {
		t.Fatalf("after pruning at the default retention %v: %d entries, want 1", cfg.AuditRetention, n)
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "::ffff:192.0.2.7": "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"not-an-ip": "not-an-ip",
	} {
		if got := limitKey(in); got != want {
			t.Errorf("limitKey(%q) = %q, want %q", in, got, want)
		}
	}
	if limitKey(auth.RemoteHost("[2001:db8::1]:5000")) != "2001:db8::/64" {
		t.Errorf("clientIP of a bracketed IPv6 peer: %q", auth.RemoteHost("[2001:db8::1]:5000"))
	}
}

// TestWebSocketEndsWithItsCredentials: the live stream of a user who is deactivated, or of an
// API key that is revoked, is closed at the next check, not left running.
func TestWebSocketEndsWithItsCredentials(t *testing.T) {
	in := start(t, map[string]string{"PAINEL_RATE_LIMIT": "0", "PAINEL_MONITOR_INTERVAL": "250ms"}, hooks{recheckEvery: 100 * time.Millisecond})
	who := setupPrincipals(t, in)
	code, b, _ := do(t, http.MethodPost, in.base+"/auth/chaves", in.token, "application/json",
		[]byte(`{"nome":"Painel da recepção","escopos":["monitor:ler"]}`))
	var key struct{ ID, Segredo string }
	if code != http.StatusCreated || json.Unmarshal(b, &key) != nil {
		t.Fatalf("create key: %d %s", code, b)
	}
	code, b, _ = get(t, in.base+"/usuarios", in.token)
	var users struct {
		Usuarios []struct {
			ID    int64
			Email string
		}
	}
	if code != 200 || json.Unmarshal(b, &users) != nil {
		t.Fatalf("/usuarios: %d %s", code, b)
	}
	var leituraID int64
	for _, u := range users.Usuarios {
		if u.Email == "leit@teste.painel" {
			leituraID = u.ID
		}
	}
	ws := "ws" + strings.TrimPrefix(in.base, "http") + "/monitoramento/ws?token="
	for _, c := range []struct {
		name, cred string
		end        func()
	}{
		{"deactivated user", who.leitura, func() {
			if code, b, _ := do(t, http.MethodPatch, in.base+"/usuarios/"+jsonInt(leituraID), in.token, "application/json", []byte(`{"ativo":false}`)); code != 200 {
				t.Fatalf("deactivate: %d %s", code, b)
			}
		}},
		{"revoked key", key.Segredo, func() {
			if code, b, _ := do(t, http.MethodDelete, in.base+"/auth/chaves/"+key.ID, in.token, "", nil); code >= 300 {
				t.Fatalf("revoke: %d %s", code, b)
			}
		}},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		conn, _, err := websocket.Dial(ctx, ws+c.cred, nil)
		if err != nil {
			cancel()
			t.Fatalf("%s: dial: %v", c.name, err)
		}
		if _, _, err := conn.Read(ctx); err != nil { // the snapshot: the stream is live
			t.Fatalf("%s: first message: %v", c.name, err)
		}
		c.end()
		ended := time.Now()
		for {
			if _, _, err = conn.Read(ctx); err != nil {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: the stream went on for 20 s after the credentials ended", c.name)
		}
		t.Logf("%s: stream closed %v after the credentials ended (%v)", c.name, time.Since(ended).Round(time.Millisecond), err)
		conn.CloseNow()
		cancel()
	}
}
