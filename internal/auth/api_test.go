package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

func TestHTTPLogin(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		w := f.do(t, "POST", "/auth/login", map[string]string{"email": adminEmail, "senha": adminSenha})
		if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("login: %d %v %s", w.Code, w.Header(), w.Body)
		}
		var p TokenPair
		decode(t, w, &p)
		if p.TokenType != "bearer" || p.ExpiresIn != 900 || p.AccessToken == "" || !strings.HasPrefix(p.RefreshToken, RefreshPrefix) {
			t.Fatalf("pair %+v", p)
		}

		// The OAuth2 password form, as Swagger UI sends it.
		form := "grant_type=password&username=" + strings.ToUpper(adminEmail) + "&password=" + adminSenha + "&scope=&client_id="
		w = f.do(t, "POST", "/auth/login", form, "Content-Type", "application/x-www-form-urlencoded")
		if w.Code != 200 {
			t.Fatalf("form login: %d %s", w.Code, w.Body)
		}
		w = f.do(t, "POST", "/auth/login", "username=x%40y.com&password=errada1", "Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		expectProblem(t, w, 401, "")

		// A missing Content-Type is taken as JSON.
		w = f.do(t, "POST", "/auth/login", `{"email":"`+adminEmail+`","senha":"`+adminSenha+`"}`, "Content-Type", "")
		if w.Code != 200 {
			t.Fatalf("login without Content-Type: %d %s", w.Code, w.Body)
		}

		w = f.do(t, "POST", "/auth/login", map[string]string{"email": adminEmail, "senha": "errada"})
		expectProblem(t, w, 401, "")
		if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("401 without WWW-Authenticate: %v", w.Header())
		}

		for _, c := range []struct {
			ct, body string
			status   int
			loc      string
		}{
			{"application/json", `{"email":`, 400, ""},
			{"application/json", `[]`, 400, ""},
			{"application/json", `{"senha":"x"}`, 422, "body.email"},
			{"application/json", `{"email":"a@b.com"}`, 422, "body.senha"},
			{"application/json", `{"email":"","senha":"x"}`, 422, "body.email"},
			{"application/json", `{"email":42,"senha":"x"}`, 422, "body.email"},
			{"application/json", `{"email":"a@b.com","senha":""}`, 422, "body.senha"},
			{"application/json", `{"email":"a\u0000@b.com","senha":"x"}`, 422, "body.email"},
			{"application/json", `{"email":"a@b.com","senha":"` + strings.Repeat("x", 1025) + `"}`, 422, "body.senha"},
			{"application/x-www-form-urlencoded", "password=x", 422, "body.username"},
			{"application/x-www-form-urlencoded", "username=a@b.com", 422, "body.password"},
			{"application/x-www-form-urlencoded", "grant_type=client_credentials&username=a&password=b", 422, "body.grant_type"},
			{"application/x-www-form-urlencoded", "username=%zz&password=b", 400, ""},
			{"text/plain", "email=a", 415, ""},
			{"application/json; charset", "{}", 415, ""},
			{"application/json", "", 400, ""},
		} {
			w := f.do(t, "POST", "/auth/login", c.body, "Content-Type", c.ct)
			if w.Code != c.status {
				t.Errorf("%s %q: %d, want %d: %s", c.ct, c.body, w.Code, c.status, w.Body)
				continue
			}
			if c.loc != "" {
				expectProblem(t, w, c.status, c.loc)
			}
		}
		w = f.do(t, "POST", "/auth/login", `{"email":"a@b.com","senha":"`+strings.Repeat("x", 20000)+`"}`)
		if w.Code != 413 {
			t.Fatalf("huge body: %d", w.Code)
		}
	})
}

func TestHTTPLoginLockout(t *testing.T) {
	st := openStore(t, "")
	f := newFixture(t, st)
	bad := map[string]string{"email": adminEmail, "senha": "errada"}
	for i := range 4 {
		if w := f.do(t, "POST", "/auth/login", bad); w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	w := f.do(t, "POST", "/auth/login", bad)
	expectProblem(t, w, 401, "") // the 5th failure is checked, then locks
	// Locked: even the right password is refused, without being checked.
	good := map[string]string{"email": adminEmail, "senha": adminSenha}
	w = f.do(t, "POST", "/auth/login", good)
	expectProblem(t, w, 429, "")
	if w.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q, want 1", w.Header().Get("Retry-After"))
	}
	f.clk.Advance(time.Second)
	if w := f.do(t, "POST", "/auth/login", bad); w.Code != 401 {
		t.Fatalf("after the lock: %d", w.Code)
	}
	w = f.do(t, "POST", "/auth/login", good)
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("second lock: %d Retry-After %q, want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	f.clk.Advance(1500 * time.Millisecond)
	if w := f.do(t, "POST", "/auth/login", good); w.Header().Get("Retry-After") != "1" {
		t.Fatalf("0.5s left: Retry-After %q, want 1 (rounded up)", w.Header().Get("Retry-After"))
	}
	f.clk.Advance(500 * time.Millisecond)
	f.login(t, adminEmail, adminSenha)
	// Success cleared the email's failures.
	for i := range 4 {
		if w := f.do(t, "POST", "/auth/login", bad); w.Code != 401 {
			t.Fatalf("after success, failure %d: %d", i+1, w.Code)
		}
	}
}

func TestHTTPSessionRoutes(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		p := f.login(t, adminEmail, adminSenha)
		auth := "Bearer " + p.AccessToken

		w := f.do(t, "GET", "/auth/me", nil, "Authorization", auth)
		var me Principal
		decode(t, w, &me)
		if w.Code != 200 || me.Tipo != "usuario" || me.Email != adminEmail || me.Papel != RoleAdmin || len(me.Escopos) != len(AllPermissions()) {
			t.Fatalf("me: %d %s", w.Code, w.Body)
		}
		w = f.do(t, "GET", "/auth/me", nil)
		expectProblem(t, w, 401, "")
		if w.Header().Get("WWW-Authenticate") != `Bearer realm="painel"` {
			t.Fatalf("challenge without credentials: %q", w.Header().Get("WWW-Authenticate"))
		}
		w = f.do(t, "GET", "/auth/me", nil, "Authorization", "Bearer x.y.z")
		expectProblem(t, w, 401, "")
		if !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("challenge for a bad token: %q", w.Header().Get("WWW-Authenticate"))
		}
		w = f.do(t, "GET", "/auth/me", nil, "Authorization", "Basic YTpi")
		expectProblem(t, w, 401, "")
		// A token in the query string is refused on API operations (it would end up in logs
		// and history); only the WebSocket takes it (see TestRequireHTTP).
		if w := f.do(t, "GET", "/auth/me?token="+p.AccessToken, nil); w.Code != 401 {
			t.Fatalf("query token on an API operation: %d %s, want 401", w.Code, w.Body)
		}

		w = f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": p.RefreshToken})
		if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("refresh: %d %s", w.Code, w.Body)
		}
		var p2 TokenPair
		decode(t, w, &p2)
		w = f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": p.RefreshToken})
		expectProblem(t, w, 401, "")
		if !strings.Contains(w.Body.String(), "já utilizado") {
			t.Fatalf("reuse answer: %s", w.Body)
		}
		w = f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": p2.RefreshToken})
		expectProblem(t, w, 401, "")
		expectProblem(t, f.do(t, "POST", "/auth/refresh", map[string]string{}), 422, "body")
		expectProblem(t, f.do(t, "POST", "/auth/refresh", "{"), 400, "")

		p3 := f.login(t, adminEmail, adminSenha)
		w = f.do(t, "POST", "/auth/logout", map[string]string{"refresh_token": p3.RefreshToken}, "Authorization", "Bearer "+p3.AccessToken)
		if w.Code != 204 {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		expectProblem(t, f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": p3.RefreshToken}), 401, "")
		// Logout needs no access token (the refresh token is the credential: it must work once
		// the access token has expired) and is idempotent.
		p4 := f.login(t, adminEmail, adminSenha)
		if w := f.do(t, "POST", "/auth/logout", map[string]string{"refresh_token": p4.RefreshToken}); w.Code != 204 {
			t.Fatalf("logout without an access token: %d %s", w.Code, w.Body)
		}
		expectProblem(t, f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": p4.RefreshToken}), 401, "")
		if w := f.do(t, "POST", "/auth/logout", map[string]string{"refresh_token": p3.RefreshToken}); w.Code != 204 {
			t.Fatalf("second logout: %d %s", w.Code, w.Body)
		}
	})
}

func TestHTTPUsers(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		admin := "Bearer " + f.login(t, adminEmail, adminSenha).AccessToken
		do := func(method, path string, body any) (int, string) {
			w := f.do(t, method, path, body, "Authorization", admin)
			if strings.Contains(w.Body.String(), "argon2") || strings.Contains(w.Body.String(), "senha_hash") {
				t.Fatalf("%s %s leaked a password hash: %s", method, path, w.Body)
			}
			return w.Code, w.Body.String()
		}

		code, body := do("POST", "/usuarios", map[string]any{"nome": "João", "email": "Joao@Exemplo.com.br", "papel": "operador", "senha": "senha-do-joao"})
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		var joao User
		_ = json.Unmarshal([]byte(body), &joao)
		if joao.Email != "joao@exemplo.com.br" || joao.Papel != RoleOperador || !joao.Ativo || strings.Contains(body, "senha") {
			t.Fatalf("created %s", body)
		}
		id := strconv.FormatInt(joao.ID, 10)
		w := f.do(t, "POST", "/usuarios", map[string]any{"nome": "J", "email": "JOAO@exemplo.com.br", "papel": "leitura", "senha": "senha-do-joao"}, "Authorization", admin)
		expectProblem(t, w, 409, "body.email")
		expectProblem(t, f.do(t, "POST", "/usuarios", map[string]any{"nome": "J", "email": "x@y.com", "papel": "root", "senha": "senha-boa-1"}, "Authorization", admin), 422, "body.papel")
		expectProblem(t, f.do(t, "POST", "/usuarios", map[string]any{"nome": "J", "email": "nao-e-email", "papel": "leitura", "senha": "senha-boa-1"}, "Authorization", admin), 422, "body.email")
		expectProblem(t, f.do(t, "POST", "/usuarios", map[string]any{"nome": "J", "email": "x@y.com", "papel": "leitura", "senha": "curta"}, "Authorization", admin), 422, "body.senha")
		expectProblem(t, f.do(t, "POST", "/usuarios", map[string]any{"email": "x@y.com", "papel": "leitura", "senha": "senha-boa-1"}, "Authorization", admin), 422, "body")
		expectProblem(t, f.do(t, "POST", "/usuarios", `{"nome":`, "Authorization", admin), 400, "")

		if code, body := do("GET", "/usuarios/"+id, nil); code != 200 || !strings.Contains(body, `"email":"joao@exemplo.com.br"`) {
			t.Fatalf("get: %d %s", code, body)
		}
		expectProblem(t, f.do(t, "GET", "/usuarios/999", nil, "Authorization", admin), 404, "")
		expectProblem(t, f.do(t, "GET", "/usuarios/abc", nil, "Authorization", admin), 422, "path.id")

		// The operator cannot manage users.
		joaoTok := f.login(t, "joao@exemplo.com.br", "senha-do-joao")
		expectProblem(t, f.do(t, "GET", "/usuarios", nil, "Authorization", "Bearer "+joaoTok.AccessToken), 403, "")
		expectProblem(t, f.do(t, "GET", "/usuarios", nil), 401, "")

		code, body = do("PATCH", "/usuarios/"+id, map[string]any{"papel": "leitura", "nome": "João Silva"})
		if code != 200 || !strings.Contains(body, `"papel":"leitura"`) || !strings.Contains(body, `"nome":"João Silva"`) {
			t.Fatalf("patch: %d %s", code, body)
		}
		// The role change ended João's session.
		expectProblem(t, f.do(t, "GET", "/auth/me", nil, "Authorization", "Bearer "+joaoTok.AccessToken), 401, "")
		expectProblem(t, f.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": joaoTok.RefreshToken}), 401, "")
		expectProblem(t, f.do(t, "PATCH", "/usuarios/"+id, map[string]any{"senha": "curta"}, "Authorization", admin), 422, "body.senha")
		expectProblem(t, f.do(t, "PATCH", "/usuarios/999", map[string]any{"nome": "x"}, "Authorization", admin), 404, "")

		code, body = do("GET", "/usuarios?limite=1", nil)
		var page UserPage
		_ = json.Unmarshal([]byte(body), &page)
		if code != 200 || len(page.Usuarios) != 1 || page.ProximoCursor == "" {
			t.Fatalf("list: %d %s", code, body)
		}
		code, body = do("GET", "/usuarios?limite=1&cursor="+page.ProximoCursor, nil)
		_ = json.Unmarshal([]byte(body), &page)
		if code != 200 || len(page.Usuarios) != 1 || page.Usuarios[0].ID != joao.ID {
			t.Fatalf("list page 2: %d %s", code, body)
		}
		expectProblem(t, f.do(t, "GET", "/usuarios?cursor=abc", nil, "Authorization", admin), 422, "query.cursor")
		expectProblem(t, f.do(t, "GET", "/usuarios?limite=0", nil, "Authorization", admin), 422, "query.limite")

		// The last admin stays.
		adminUser, _ := f.s.userByEmail(t.Context(), adminEmail)
		aid := strconv.FormatInt(adminUser.ID, 10)
		expectProblem(t, f.do(t, "PATCH", "/usuarios/"+aid, map[string]any{"papel": "operador"}, "Authorization", admin), 409, "")
		expectProblem(t, f.do(t, "PATCH", "/usuarios/"+aid, map[string]any{"ativo": false}, "Authorization", admin), 409, "")
		expectProblem(t, f.do(t, "DELETE", "/usuarios/"+aid, nil, "Authorization", admin), 409, "")

		if code, body := do("DELETE", "/usuarios/"+id, nil); code != 204 {
			t.Fatalf("delete: %d %s", code, body)
		}
		expectProblem(t, f.do(t, "DELETE", "/usuarios/"+id, nil, "Authorization", admin), 404, "")
	})
}

func TestHTTPAPIKeys(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		admin := "Bearer " + f.login(t, adminEmail, adminSenha).AccessToken
		w := f.do(t, "POST", "/auth/chaves", map[string]any{"nome": "Leitor portão 2", "escopos": []string{"qr:validar", "qr:ler"}}, "Authorization", admin)
		if w.Code != 201 {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		var k APIKeyCreated
		decode(t, w, &k)
		if !strings.HasPrefix(k.Segredo, "pnk_"+k.ID+"_") || k.Nome != "Leitor portão 2" || len(k.Escopos) != 2 || k.CriadaPor == "" {
			t.Fatalf("created %s", w.Body)
		}

		w = f.do(t, "GET", "/auth/me", nil, "X-API-Key", k.Segredo)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"tipo":"chave"`) || !strings.Contains(w.Body.String(), `"auth:proprio"`) {
			t.Fatalf("me with a key: %d %s", w.Code, w.Body)
		}
		// A scanner key cannot manage keys.
		expectProblem(t, f.do(t, "GET", "/auth/chaves", nil, "Authorization", "Bearer "+k.Segredo), 403, "")

		w = f.do(t, "GET", "/auth/chaves", nil, "Authorization", admin)
		if w.Code != 200 || strings.Contains(w.Body.String(), k.Segredo) || strings.Contains(w.Body.String(), "segredo") || !strings.Contains(w.Body.String(), `"ultimo_uso_em"`) {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}

		p := expectProblem(t, f.do(t, "POST", "/auth/chaves", map[string]any{"nome": "x", "escopos": []string{"qr:tudo"}}, "Authorization", admin), 422, "body.escopos")
		if !strings.Contains(p.Errors[0].Message, "qr:tudo") {
			t.Fatalf("unknown scope message: %+v", p)
		}
		expectProblem(t, f.do(t, "POST", "/auth/chaves", map[string]any{"nome": "x", "escopos": []string{}}, "Authorization", admin), 422, "body.escopos")
		expectProblem(t, f.do(t, "POST", "/auth/chaves", map[string]any{"escopos": []string{"qr:ler"}}, "Authorization", admin), 422, "body")

		// An operator with chaves:admin? No: operators lack it, so only the
		// escalation check is left to test through a key holding it.
		kw := f.do(t, "POST", "/auth/chaves", map[string]any{"nome": "gestor", "escopos": []string{"chaves:admin"}}, "Authorization", admin)
		var gestor APIKeyCreated
		decode(t, kw, &gestor)
		expectProblem(t, f.do(t, "POST", "/auth/chaves", map[string]any{"nome": "x", "escopos": []string{"backup:admin"}}, "X-API-Key", gestor.Segredo), 403, "body.escopos")

		if w := f.do(t, "DELETE", "/auth/chaves/"+k.ID, nil, "Authorization", admin); w.Code != 204 {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		expectProblem(t, f.do(t, "GET", "/auth/me", nil, "X-API-Key", k.Segredo), 401, "")
		expectProblem(t, f.do(t, "DELETE", "/auth/chaves/0123456789abcdef", nil, "Authorization", admin), 404, "")
		expectProblem(t, f.do(t, "DELETE", "/auth/chaves/nao-hex", nil, "Authorization", admin), 422, "path.id")
		expectProblem(t, f.do(t, "GET", "/auth/chaves?cursor=zz", nil, "Authorization", admin), 422, "query.cursor")
	})
}

func TestHTTPAudit(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.do(t, "POST", "/auth/login", map[string]string{"email": adminEmail, "senha": "errada"})
		tok := f.login(t, adminEmail, adminSenha)
		admin := "Bearer " + tok.AccessToken
		f.do(t, "POST", "/usuarios", map[string]any{"nome": "Ana", "email": "ana@exemplo.com.br", "papel": "leitura", "senha": "senha-da-ana"}, "Authorization", admin)

		w := f.do(t, "GET", "/auditoria?acao=auth.login", nil, "Authorization", admin)
		var p AuditPage
		decode(t, w, &p)
		if w.Code != 200 || len(p.Entradas) != 2 {
			t.Fatalf("audit auth.login: %d %s", w.Code, w.Body)
		}
		ok, failed := p.Entradas[0], p.Entradas[1]
		if ok.Resultado != ResultSuccess || ok.QuemID == "" || ok.QuemTipo != "usuario" || ok.IP != "192.0.2.10" ||
			failed.Resultado != ResultFailure || failed.QuemTipo != "anonimo" || !strings.Contains(failed.Alvo, adminEmail) {
			t.Fatalf("entries: %s", w.Body)
		}
		w = f.do(t, "GET", "/auditoria?acao=usuarios.&limite=10", nil, "Authorization", admin)
		decode(t, w, &p)
		if len(p.Entradas) != 2 || p.Entradas[0].QuemNome != "Administrador" || p.Entradas[0].Acao != "usuarios.criar" {
			t.Fatalf("audit usuarios.: %s", w.Body)
		}
		since := queryTime(f.clk.Now().Add(time.Hour))
		w = f.do(t, "GET", "/auditoria?desde="+since, nil, "Authorization", admin)
		decode(t, w, &p)
		if len(p.Entradas) != 0 {
			t.Fatalf("desde in the future: %s", w.Body)
		}
		expectProblem(t, f.do(t, "GET", "/auditoria?desde=ontem", nil, "Authorization", admin), 422, "query.desde")
		expectProblem(t, f.do(t, "GET", "/auditoria?quem=%00", nil, "Authorization", admin), 422, "query.quem")
		expectProblem(t, f.do(t, "GET", "/auditoria?cursor=-", nil, "Authorization", admin), 422, "query.cursor")
		ana := "Bearer " + f.login(t, "ana@exemplo.com.br", "senha-da-ana").AccessToken
		expectProblem(t, f.do(t, "GET", "/auditoria", nil, "Authorization", ana), 403, "")
	})
}

func queryTime(t time.Time) string {
	return strings.ReplaceAll(t.UTC().Format(time.RFC3339), ":", "%3A")
}

func TestOpenAPIDocument(t *testing.T) {
	f := newFixture(t, openStore(t, ""))
	w := f.do(t, "GET", "/openapi.json", nil)
	if w.Code != 200 {
		t.Fatalf("openapi: %d", w.Code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			RequestBody struct {
				Content map[string]any `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	decode(t, w, &doc)
	login := doc.Paths["/auth/login"]["post"]
	if _, ok := login.RequestBody.Content["application/json"]; !ok || len(login.RequestBody.Content) != 2 {
		t.Errorf("login body media types: %v", login.RequestBody.Content)
	}
	if _, ok := login.RequestBody.Content["application/x-www-form-urlencoded"]; !ok {
		t.Errorf("login does not document the form")
	}
	if login.Responses["429"].Headers["Retry-After"] == nil || login.Responses["401"].Headers["WWW-Authenticate"] == nil {
		t.Errorf("login responses lack headers: %+v", login.Responses)
	}
	for _, name := range []string{"bearer", "apiKey", "oauth2"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("security scheme %s missing", name)
		}
	}
	ops := map[string]bool{}
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ops[op.OperationID] = true
		}
	}
	for id := range OperationPermissions() {
		if !ops[id] {
			t.Errorf("operation %s not in the document", id)
		}
	}
	if !strings.Contains(w.Body.String(), `"tokenUrl":"/auth/login"`) {
		t.Error("oauth2 password flow lacks tokenUrl")
	}
}

// TestRequireHTTP checks the guard for plain handlers (WebSockets).
func TestRequireHTTP(t *testing.T) {
	st := openStore(t, "")
	f := newFixture(t, st)
	h := f.s.RequireHTTP(PermMonitorLer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(PrincipalFrom(r.Context()).ID))
	}))
	_, secret, _ := f.s.CreateAPIKey(t.Context(), APIKeyInput{Nome: "tv", Escopos: []Permission{PermMonitorLer}})
	_, other, _ := f.s.CreateAPIKey(t.Context(), APIKeyInput{Nome: "pdv", Escopos: []Permission{PermComandaLer}})
	for _, c := range []struct {
		query string
		want  int
	}{{"token=" + secret, 200}, {"token=" + other, 403}, {"", 401}, {"token=lixo", 401}} {
		r, _ := http.NewRequest("GET", "/monitoramento/ws?"+c.query, nil)
		r.RemoteAddr = "192.0.2.1:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%q: %d, want %d", c.query, w.Code, c.want)
		}
		if c.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%q: 401 without challenge", c.query)
		}
	}
}
