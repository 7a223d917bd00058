package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/auth"
	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/httpapi"
)

// public marks an operation that needs no credentials.
const public auth.Permission = ""

// undecided is what an operation missing from operationAccess needs: a permission no role and
// no API key has, so a route added without deciding who may call it is closed to everybody
// (and TestEveryOperationIsGuarded fails).
const undecided auth.Permission = "nao-decidido"

// operationAccess decides, for every operation of the API, the one permission it needs
// (auth.Role.Permissions says which roles have it; an API key needs it among its scopes).
func operationAccess() map[string]auth.Permission {
	m := map[string]auth.Permission{
		// platform
		"healthz": public, "readyz": public, "versao": public,
		"metricas": auth.PermMetricasLer,

		// QR codes: generate, read, validate/redeem at the door, revoke
		"qr-gerar-checkin": auth.PermQRGerar, "qr-gerar-comanda": auth.PermQRGerar, "qr-gerar-evento": auth.PermQRGerar,
		"qr-gerar-mesa-pdv": auth.PermQRGerar, "qr-gerar-personalizado": auth.PermQRGerar, "qr-gerar-pix": auth.PermQRGerar,
		"qr-gerar-produto": auth.PermQRGerar, "qr-gerar-url": auth.PermQRGerar, "qr-lote": auth.PermQRGerar,
		"qr-validar": auth.PermQRValidar,
		"qr-obter":   auth.PermQRLer, "qr-imagem": auth.PermQRLer, "qr-estatisticas": auth.PermQRLer,
		"qr-revogar":        auth.PermQRRevogar,
		"comanda-saldo":     auth.PermComandaLer,
		"comanda-movimento": auth.PermComandaMovimentar,

		// cache
		"cache-ler": auth.PermCacheLer, "cache-ler-alias": auth.PermCacheLer,
		"cache-gravar": auth.PermCacheGravar, "cache-gravar-alias": auth.PermCacheGravar,
		"cache-remover": auth.PermCacheGravar, "cache-remover-alias": auth.PermCacheGravar,
		"cache-estatisticas": auth.PermCacheEstatisticas, "cache-otimizacoes": auth.PermCacheEstatisticas,
		"cache-areas": auth.PermCacheEstatisticas, "cache-area": auth.PermCacheEstatisticas,
		"cache-limpar": auth.PermCacheAdmin, "cache-otimizar": auth.PermCacheAdmin, "cache-tag-remover": auth.PermCacheAdmin,
		"cache-area-gravar": auth.PermCacheAdmin, "cache-area-remover": auth.PermCacheAdmin,

		// monitoring
		"monitoramento-metricas": auth.PermMonitorLer, "monitoramento-metricas-nomes": auth.PermMonitorLer,
		"monitoramento-dashboard": auth.PermMonitorLer, "monitoramento-historico": auth.PermMonitorLer,
		"monitoramento-alertas-listar": auth.PermMonitorLer, "monitoramento-alertas-ler": auth.PermMonitorLer,
		"monitoramento-alertas-eventos": auth.PermMonitorLer, "monitoramento-silencios-listar": auth.PermMonitorLer,
		"monitoramento-alertas-criar": auth.PermMonitorAlterar, "monitoramento-alertas-alterar": auth.PermMonitorAlterar,
		"monitoramento-alertas-remover": auth.PermMonitorAlterar, "monitoramento-alertas-reconhecer": auth.PermMonitorAlterar,
		"monitoramento-silencios-criar": auth.PermMonitorAlterar, "monitoramento-silencios-remover": auth.PermMonitorAlterar,

		// backup
		"backup-listar": auth.PermBackupListar, "backup-ler": auth.PermBackupListar, "backup-job": auth.PermBackupListar,
		"backup-executar": auth.PermBackupAdmin, "backup-restaurar": auth.PermBackupAdmin, "backup-remover": auth.PermBackupAdmin,
		"backup-verificar": auth.PermBackupAdmin, "backup-retencao": auth.PermBackupAdmin,
		"backup-configuracao-ler": auth.PermBackupAdmin, "backup-configuracao-alterar": auth.PermBackupAdmin,
	}
	for op, p := range auth.OperationPermissions() {
		m[op] = p
	}
	return m
}

// auditedOperations are the privileged actions every call of which goes to the audit log, by
// operation id, with the action name recorded. (The auth routes record their own: logins,
// sessions, users, API keys.)
var auditedOperations = map[string]string{
	"backup-executar":                  "backup.executar",
	"backup-restaurar":                 "backup.restaurar",
	"backup-remover":                   "backup.remover",
	"backup-verificar":                 "backup.verificar",
	"backup-retencao":                  "backup.retencao",
	"backup-configuracao-alterar":      "backup.configuracao",
	"monitoramento-alertas-criar":      "alerta.criar",
	"monitoramento-alertas-alterar":    "alerta.alterar",
	"monitoramento-alertas-remover":    "alerta.remover",
	"monitoramento-alertas-reconhecer": "alerta.reconhecer",
	"monitoramento-silencios-criar":    "silencio.criar",
	"monitoramento-silencios-remover":  "silencio.remover",
	"cache-limpar":                     "cache.limpar",
	"cache-otimizar":                   "cache.otimizar",
	"cache-tag-remover":                "cache.remover_tag",
	"cache-area-gravar":                "cache.area_gravar",
	"cache-area-remover":               "cache.area_remover",
	"qr-revogar":                       "qr.revogar",
}

// guard puts authentication, authorisation, rate limits and the audit log in front of every
// huma operation registered after it is installed, and documents each operation's security in
// the OpenAPI document.
type guard struct {
	log     *slog.Logger
	auth    *auth.Service
	access  map[string]auth.Permission
	byIP    *auth.Limiter // nil: no rate limit
	byWho   *auth.Limiter
	metrics string // scrape token for /metrics ("" none)
	// recheckEvery is how often a long-lived connection's credentials are checked again.
	recheckEvery time.Duration
}

func newGuard(a *auth.Service, cfg *config.Config, log *slog.Logger) *guard {
	g := &guard{log: log, auth: a, access: operationAccess(), metrics: cfg.MetricsToken, recheckEvery: 30 * time.Second}
	if cfg.RateLimit > 0 {
		burst := max(int(2*cfg.RateLimit), 1)
		g.byIP = auth.NewLimiter(cfg.RateLimit, burst, 100000, nil)
		g.byWho = auth.NewLimiter(cfg.RateLimit, burst, 100000, nil)
	}
	return g
}

// permission returns what op needs (undecided when the table does not name it).
func (g *guard) permission(op *huma.Operation) auth.Permission {
	if op == nil {
		return undecided
	}
	p, ok := g.access[op.OperationID]
	if !ok {
		return undecided
	}
	return p
}

// install adds the middlewares to api and the security requirements to its OpenAPI
// document (for operations registered later too).
func (g *guard) install(api huma.API) {
	auth.AddSecuritySchemes(api.OpenAPI())
	api.OpenAPI().OnAddOperation = append(api.OpenAPI().OnAddOperation, func(_ *huma.OpenAPI, op *huma.Operation) {
		g.document(op)
	})
	for _, op := range allOperations(api.OpenAPI()) {
		g.document(op)
	}
	api.UseMiddleware(g.limitIP(api), g.auditDenied, g.auth.Middleware(api, g.permission), g.limitPrincipal(api), g.audit)
}

// document declares who may call op: no security for public operations, else bearer token,
// API key or the OAuth2 password flow, with the permission in the description.
func (g *guard) document(op *huma.Operation) {
	p := g.permission(op)
	if p == public {
		op.Security = []map[string][]string{}
		return
	}
	op.Security = []map[string][]string{{"bearer": {}}, {"apiKey": {}}, {"oauth2": {}}}
	note := "Permissão: `" + string(p) + "` (papéis: " + rolesWith(p) + "; ou uma chave de API com esse escopo)."
	if !strings.Contains(op.Description, note) {
		op.Description = strings.TrimSpace(op.Description + "\n\n" + note)
	}
	for _, code := range []string{"401", "403", "429"} {
		if op.Responses == nil {
			op.Responses = map[string]*huma.Response{}
		}
		if _, ok := op.Responses[code]; !ok {
			op.Responses[code] = &huma.Response{Description: http.StatusText(mustAtoi(code)),
				Content: map[string]*huma.MediaType{"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/ErrorModel"}}}}
		}
	}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }

// rolesWith lists the roles that have p.
func rolesWith(p auth.Permission) string {
	var out []string
	for _, r := range auth.Roles() {
		if r.Has(p) {
			out = append(out, string(r))
		}
	}
	if len(out) == 0 {
		return "nenhum"
	}
	return strings.Join(out, ", ")
}

func allOperations(o *huma.OpenAPI) []*huma.Operation {
	var ops []*huma.Operation
	for _, item := range o.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if op != nil {
				ops = append(ops, op)
			}
		}
	}
	return ops
}

// tooMany answers 429 with Retry-After (whole seconds, rounded up).
func tooMany(api huma.API, ctx huma.Context, wait time.Duration) {
	ctx.SetHeader("Retry-After", strconv.FormatInt(auth.RetryAfterSeconds(wait), 10))
	_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, "muitas requisições; tente de novo em "+strconv.FormatInt(auth.RetryAfterSeconds(wait), 10)+" s")
}

// limitIP is the per-client-IP token bucket, in front of everything (login included).
func (g *guard) limitIP(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if g.byIP != nil {
			if ok, wait := g.byIP.Allow(limitKey(auth.RemoteHost(ctx.RemoteAddr()))); !ok {
				tooMany(api, ctx, wait)
				return
			}
		}
		next(ctx)
	}
}

// limitPrincipal is the per-user / per-API-key token bucket, after authentication.
func (g *guard) limitPrincipal(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if p := auth.PrincipalFrom(ctx.Context()); p != nil && g.byWho != nil {
			if ok, wait := g.byWho.Allow(p.String()); !ok {
				tooMany(api, ctx, wait)
				return
			}
		}
		next(ctx)
	}
}

// audit records the audited operations with their outcome (after authorisation: the caller is
// known).
func (g *guard) audit(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	action, ok := "", false
	if op != nil {
		action, ok = auditedOperations[op.OperationID]
	}
	if !ok {
		next(ctx)
		return
	}
	next(ctx)
	status := ctx.Status()
	result := "sucesso"
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return // recorded by auditDenied
	case status >= 400:
		result = "falha"
	}
	// The request's context may be ending; the entry must still be written.
	c := context.WithoutCancel(ctx.Context())
	if err := g.auth.Record(c, auth.AuditEntry{Acao: action, Alvo: ctx.Method() + " " + ctx.URL().Path,
		Resultado: result, Detalhe: "HTTP " + strconv.Itoa(status)}); err != nil {
		g.log.ErrorContext(c, "audit: could not record an action", "acao", action, "error", err)
	}
}

// auditDenied records the audited operations that were refused (401 or 403): it runs before
// authentication, so it sees the refusals, and names the caller when the credentials were valid
// but lacked the permission.
func (g *guard) auditDenied(ctx huma.Context, next func(huma.Context)) {
	next(ctx)
	op := ctx.Operation()
	if op == nil {
		return
	}
	action, ok := auditedOperations[op.OperationID]
	status := ctx.Status()
	if !ok || (status != http.StatusUnauthorized && status != http.StatusForbidden) {
		return
	}
	c := context.WithoutCancel(ctx.Context())
	e := auth.AuditEntry{Acao: action, Alvo: ctx.Method() + " " + ctx.URL().Path, IP: auth.RemoteHost(ctx.RemoteAddr()),
		Resultado: "negado", Detalhe: "HTTP " + strconv.Itoa(status), QuemTipo: "anonimo"}
	if p, err := g.auth.Authenticate(c, auth.RequestFromHuma(ctx)); err == nil && p != nil {
		e.QuemTipo, e.QuemID, e.QuemNome = p.Tipo, p.ID, p.Nome
	}
	if err := g.auth.Record(c, e); err != nil {
		g.log.ErrorContext(c, "audit: could not record a refusal", "acao", action, "error", err)
	}
}

// recheck ends a long-lived request (the live dashboard's WebSocket) once its credentials stop
// being valid: the access token expired, the user was deactivated or changed, the API key was
// revoked. They are checked again every recheckEvery; the console then reconnects with a
// refreshed token.
func (g *guard) recheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			t := time.NewTicker(g.recheckEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				var ae *auth.AuthError
				if _, err := g.auth.Authenticate(ctx, r); errors.As(err, &ae) {
					g.log.InfoContext(ctx, "closing a live connection whose credentials are no longer valid", "reason", ae.Reason)
					cancel()
					return
				}
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitHTTP puts the per-IP token bucket in front of a plain handler (the WebSocket, /metrics).
func (g *guard) limitHTTP(next http.Handler) http.Handler {
	if g.byIP == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := g.byIP.Allow(limitKey(auth.RemoteHost(r.RemoteAddr))); !ok {
			secs := strconv.FormatInt(auth.RetryAfterSeconds(wait), 10)
			w.Header().Set("Retry-After", secs)
			httpapi.WriteProblem(w, httpapi.Problem{Status: http.StatusTooManyRequests,
				Detail: "muitas requisições; tente de novo em " + secs + " s", Instance: r.URL.Path, RequestID: httpapi.RequestID(r.Context())})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// metricsGuard lets a request through to /metrics with the scrape token, or as a principal
// with metricas:ler.
func (g *guard) metricsGuard(next http.Handler) http.Handler {
	withRole := g.auth.RequireHTTP(auth.PermMetricasLer, next)
	return g.limitHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.metrics != "" {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
				subtle.ConstantTimeCompare([]byte(tok), []byte(g.metrics)) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		withRole.ServeHTTP(w, r)
	}))
}

// limitKey is the rate-limit key of a client address: the address itself for IPv4, its /64
// network for IPv6 (one host usually holds a whole /64, and could otherwise take a new bucket
// per address).
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
