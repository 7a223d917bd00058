package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
)

// Authentication errors. Every *AuthError matches ErrUnauthenticated with
// errors.Is; one for a request without any credential also matches
// ErrNoCredentials.
var (
	ErrUnauthenticated = errors.New("auth: unauthenticated")
	ErrNoCredentials   = errors.New("auth: no credentials")
)

// AuthError is a failed authentication. Reason is safe to show to the
// client (it never says whether a user or key exists).
type AuthError struct {
	Missing bool   // no credential at all, as opposed to a bad one
	Reason  string // in Portuguese, for the problem document
}

func (e *AuthError) Error() string { return "auth: " + e.Reason }

// Is makes errors.Is(err, ErrUnauthenticated) hold for every AuthError and
// errors.Is(err, ErrNoCredentials) for a missing credential.
func (e *AuthError) Is(target error) bool {
	return target == ErrUnauthenticated || (e.Missing && target == ErrNoCredentials)
}

func badCredentials(reason string) *AuthError { return &AuthError{Reason: reason} }

var errNoCredentials = &AuthError{Missing: true, Reason: "credenciais ausentes: envie Authorization: Bearer <token> ou X-API-Key"}

// maxCredentialLen bounds any credential looked at.
const maxCredentialLen = 8192

// credential finds the request's credential, in order: the Authorization
// header (Bearer only), the X-API-Key header, the token query parameter
// (for browser WebSocket upgrades, which cannot set headers).
func credential(header func(string) string, query func(string) string) (string, error) {
	if h := header("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", badCredentials("esquema de autorização não suportado; use Bearer")
		}
		if tok = strings.TrimSpace(tok); tok == "" {
			return "", badCredentials("token ausente após Bearer")
		}
		return tok, nil
	}
	if k := strings.TrimSpace(header("X-API-Key")); k != "" {
		if !strings.HasPrefix(k, APIKeyPrefix) {
			return "", badCredentials("chave de API malformada")
		}
		return k, nil
	}
	if q := query("token"); q != "" {
		return q, nil
	}
	return "", errNoCredentials
}

// Authenticate resolves the principal of a request from its credential
// (see credential): an access token (JWT) or an API key ("pnk_..."). The
// error is an *AuthError (missing or bad credential) or, rarely, a store
// error.
func (s *Service) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	return s.authenticate(ctx, r.Header.Get, r.URL.Query().Get)
}

func (s *Service) authenticate(ctx context.Context, header, query func(string) string) (*Principal, error) {
	tok, err := credential(header, query)
	if err != nil {
		return nil, err
	}
	if len(tok) > maxCredentialLen {
		return nil, badCredentials("credencial grande demais")
	}
	if strings.HasPrefix(tok, APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, tok)
	}
	return s.authenticateJWT(ctx, tok)
}

// authenticateJWT verifies an access token and checks its user against
// the store (cached for Options.CacheTTL): it must exist, be active, and
// have the role and session version the token was issued with.
func (s *Service) authenticateJWT(ctx context.Context, tok string) (*Principal, error) {
	c, id, err := s.parseAccessToken(tok)
	if err != nil {
		return nil, err
	}
	u, err := s.cachedUser(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, badCredentials("token inválido")
	}
	if err != nil {
		return nil, err
	}
	if !u.Ativo || u.Papel != c.Papel || u.versao != c.Versao {
		return nil, badCredentials("sessão encerrada; entre novamente")
	}
	return userPrincipal(u), nil
}

// Challenge is the WWW-Authenticate value for a 401 (RFC 6750).
func Challenge(err error) string {
	var ae *AuthError
	if errors.As(err, &ae) && !ae.Missing {
		// RFC 6750 allows only printable ASCII here; the reason, in Portuguese, is in the
		// problem document's detail.
		return `Bearer realm="painel", error="invalid_token", error_description="the access token or API key is invalid, expired or revoked"`
	}
	return `Bearer realm="painel"`
}

// unauthorized is the huma error for a failed authentication, with its
// WWW-Authenticate header.
func unauthorized(err error) error {
	msg := "não autenticado"
	var ae *AuthError
	if errors.As(err, &ae) {
		msg = ae.Reason
	}
	return huma.ErrorWithHeaders(huma.Error401Unauthorized(msg), http.Header{"WWW-Authenticate": {Challenge(err)}})
}

// Middleware returns a huma middleware that guards every operation with
// the permission perm(op): "" leaves the operation public; otherwise the
// request must authenticate (401 with WWW-Authenticate) as a principal
// that Can the permission (403). The principal and the client IP are put
// in the request context (PrincipalFrom, ClientIPFrom). Credentials come from
// headers only (Authorization, X-API-Key), never from the URL. Install it with
// api.UseMiddleware before registering the operations it guards.
func (s *Service) Middleware(api huma.API, perm func(op *huma.Operation) Permission) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		var ip string
		if s.peerIP { // the common case, on every request: no request to rebuild
			ip = RemoteHost(ctx.RemoteAddr())
		} else {
			ip = s.opts.ClientIP(RequestFromHuma(ctx))
		}
		c := WithClientIP(ctx.Context(), ip)
		need := perm(ctx.Operation())
		if need == "" {
			next(huma.WithContext(ctx, c))
			return
		}
		// Headers only: a token in the URL ends up in proxy logs, browser history and
		// bookmarks. Only the WebSocket (RequireHTTP), which browsers cannot give headers,
		// takes ?token=.
		p, err := s.authenticate(c, ctx.Header, noQuery)
		if err != nil {
			writeAuthError(api, ctx, s, err)
			return
		}
		if !p.Can(need) {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, "permissão necessária: "+string(need))
			return
		}
		next(huma.WithContext(ctx, WithPrincipal(c, p)))
	}
}

func noQuery(string) string { return "" }

// writeAuthError answers a failed authentication: 401 with a challenge,
// or 503 when the store failed.
func writeAuthError(api huma.API, ctx huma.Context, s *Service, err error) {
	var ae *AuthError
	if !errors.As(err, &ae) {
		s.log.ErrorContext(ctx.Context(), "auth: authenticate", "error", err)
		_ = huma.WriteErr(api, ctx, http.StatusServiceUnavailable, "autenticação indisponível; informe o request id")
		return
	}
	ctx.SetHeader("WWW-Authenticate", Challenge(err))
	_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, ae.Reason)
}

// RequireHTTP guards a plain net/http handler (a WebSocket, a file) with
// perm, like Middleware does for huma operations.
func (s *Service) RequireHTTP(perm Permission, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := WithClientIP(r.Context(), s.opts.ClientIP(r))
		p, err := s.Authenticate(ctx, r)
		var ae *AuthError
		switch {
		case errors.As(err, &ae):
			w.Header().Set("WWW-Authenticate", Challenge(err))
			httpapi.WriteProblem(w, httpapi.Problem{Status: http.StatusUnauthorized, Detail: ae.Reason,
				Instance: r.URL.Path, RequestID: httpapi.RequestID(ctx)})
		case err != nil:
			s.log.ErrorContext(ctx, "auth: authenticate", "error", err)
			httpapi.WriteProblem(w, httpapi.Problem{Status: http.StatusServiceUnavailable,
				Detail: "autenticação indisponível; informe o request id", Instance: r.URL.Path, RequestID: httpapi.RequestID(ctx)})
		case !p.Can(perm):
			httpapi.WriteProblem(w, httpapi.Problem{Status: http.StatusForbidden, Detail: "permissão necessária: " + string(perm),
				Instance: r.URL.Path, RequestID: httpapi.RequestID(ctx)})
		default:
			next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
		}
	})
}

// RequestFromHuma rebuilds the parts of a request that authentication and
// the ClientIP function look at (remote address, headers, URL, host, TLS)
// from a huma context, whatever the adapter.
func RequestFromHuma(ctx huma.Context) *http.Request {
	u := ctx.URL()
	r := &http.Request{Method: ctx.Method(), URL: &url.URL{Path: u.Path, RawQuery: u.RawQuery}, Host: ctx.Host(),
		RemoteAddr: ctx.RemoteAddr(), Header: http.Header{}, TLS: ctx.TLS()}
	ctx.EachHeader(func(name, value string) { r.Header.Add(name, value) })
	return r.WithContext(ctx.Context())
}
