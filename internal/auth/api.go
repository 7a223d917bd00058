package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
)

type api struct {
	s   *Service
	log *slog.Logger
}

// err maps a service error to the API's answer.
func (a *api) err(ctx context.Context, err error) error {
	var ae *AuthError
	switch {
	case errors.As(err, &ae):
		return unauthorized(err)
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("não encontrado")
	case errors.Is(err, ErrEmailTaken):
		return huma.Error409Conflict("e-mail já cadastrado", &huma.ErrorDetail{Location: "body.email", Message: "já existe um usuário com este e-mail"})
	case errors.Is(err, ErrLastAdmin):
		return huma.Error409Conflict("o último administrador ativo não pode ser removido, rebaixado nem desativado")
	case errors.Is(err, ErrScopeNotHeld):
		return huma.Error403Forbidden("não é possível conceder a uma chave um escopo que você não tem",
			&huma.ErrorDetail{Location: "body.escopos", Message: strings.TrimPrefix(err.Error(), ErrScopeNotHeld.Error()+": ")})
	case errors.Is(err, ErrRefreshReused):
		return unauthorized(badCredentials("refresh token já utilizado: a sessão foi encerrada por segurança; entre novamente"))
	case errors.Is(err, ErrRefreshInvalid):
		return unauthorized(badCredentials("refresh token inválido, expirado ou revogado"))
	}
	return httpapi.ServiceError(ctx, a.log, "autenticação", err)
}

// Input and output types. Body types are named after their operation so
// that huma's schema names stay unique across the whole API.

type authTokenOutput struct {
	CacheControl string `header:"Cache-Control"`
	Pragma       string `header:"Pragma"`
	Body         TokenPair
}

func tokenOutput(p TokenPair) *authTokenOutput {
	return &authTokenOutput{CacheControl: "no-store", Pragma: "no-cache", Body: p}
}

// authRefreshBody is the body of /auth/refresh and /auth/logout.
type authRefreshBody struct {
	RefreshToken string `json:"refresh_token" minLength:"1" maxLength:"256" example:"pnr_Vt1kQ0d0m3a5s0bLZ0l3cF9pY2xKc3RhcmJ1Y2tzLTEyMw"`
}

type authRefreshInput struct{ Body authRefreshBody }

type authMeOutput struct{ Body *Principal }

type usuariosListInput struct {
	Limite int    `query:"limite" default:"50" minimum:"1" maximum:"500"`
	Cursor string `query:"cursor" maxLength:"32" doc:"proximo_cursor of the previous page"`
}

type usuariosListOutput struct{ Body UserPage }

type usuariosCreateInput struct{ Body UserInput }

type usuarioOutput struct{ Body User }

type usuarioIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

type usuariosPatchInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body UserPatch
}

type chavesCreateInput struct{ Body APIKeyInput }

// APIKeyCreated is a new API key with its secret, shown only once.
type APIKeyCreated struct {
	APIKey
	Segredo string `json:"segredo" example:"pnk_3f9a1c0de2b47a65_q8Yy2m0tQ1hS6w3Zr9cXbN4kL7pV0aE5dF2gH8jK1mU" doc:"The whole key, for Authorization: Bearer or X-API-Key. Shown only now: store it safely"`
}

type chavesCreateOutput struct{ Body APIKeyCreated }

type chavesListInput struct {
	Limite int    `query:"limite" default:"50" minimum:"1" maximum:"500"`
	Cursor string `query:"cursor" maxLength:"64" doc:"proximo_cursor of the previous page"`
}

type chavesListOutput struct{ Body APIKeyPage }

type chaveIDInput struct {
	ID string `path:"id" minLength:"16" maxLength:"16" pattern:"^[0-9a-f]{16}$" doc:"Key id (the part after pnk_)"`
}

type auditoriaListInput struct {
	Acao   string    `query:"acao" maxLength:"100" doc:"Prefix of the action, e.g. auth. or backup.executar"`
	Quem   string    `query:"quem" maxLength:"200" doc:"Actor id or name"`
	Desde  time.Time `query:"desde" doc:"RFC 3339; entries at or after"`
	Ate    time.Time `query:"ate" doc:"RFC 3339; entries before"`
	Limite int       `query:"limite" default:"50" minimum:"1" maximum:"500"`
	Cursor string    `query:"cursor" maxLength:"32" doc:"proximo_cursor of the previous page"`
}

type auditoriaListOutput struct{ Body AuditPage }

// Operation ids of this package's routes.
const (
	OpLogin           = "auth-login"
	OpRefresh         = "auth-refresh"
	OpLogout          = "auth-logout"
	OpMe              = "auth-me"
	OpUsuariosListar  = "usuarios-listar"
	OpUsuariosCriar   = "usuarios-criar"
	OpUsuariosLer     = "usuarios-ler"
	OpUsuariosAlterar = "usuarios-alterar"
	OpUsuariosRemover = "usuarios-remover"
	OpChavesCriar     = "chaves-criar"
	OpChavesListar    = "chaves-listar"
	OpChavesRevogar   = "chaves-revogar"
	OpAuditoriaListar = "auditoria-listar"
)

// OperationPermissions maps this package's operations to the permission
// each needs; "" is public (login and refresh authenticate by their body).
func OperationPermissions() map[string]Permission {
	return map[string]Permission{
		OpLogin: "", OpRefresh: "",
		// Logout is authenticated by the refresh token in its body: it must work after the
		// access token expired (a console left open ends its session the next morning).
		OpLogout: "", OpMe: PermAuthProprio,
		OpUsuariosListar: PermUsuariosAdmin, OpUsuariosCriar: PermUsuariosAdmin, OpUsuariosLer: PermUsuariosAdmin,
		OpUsuariosAlterar: PermUsuariosAdmin, OpUsuariosRemover: PermUsuariosAdmin,
		OpChavesCriar: PermChavesAdmin, OpChavesListar: PermChavesAdmin, OpChavesRevogar: PermChavesAdmin,
		OpAuditoriaListar: PermAuditoriaLer,
	}
}

// Register mounts the /auth, /usuarios, /auth/chaves and /auditoria
// routes. It does not enforce permissions (see Middleware and
// OperationPermissions).
func Register(hapi huma.API, s *Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{s: s, log: log}
	a.registerSession(hapi)
	a.registerUsers(hapi)
	a.registerKeys(hapi)
	a.registerAudit(hapi)
}

// documentHeaders adds the WWW-Authenticate header to the 401 response
// and Retry-After to the 429 one of the operation at method path.
func documentHeaders(hapi huma.API, method, path string) {
	pi := hapi.OpenAPI().Paths[path]
	if pi == nil {
		return
	}
	op := map[string]*huma.Operation{http.MethodGet: pi.Get, http.MethodPost: pi.Post, http.MethodPatch: pi.Patch,
		http.MethodDelete: pi.Delete}[method]
	if op == nil {
		return
	}
	if r := op.Responses["401"]; r != nil {
		r.Headers = map[string]*huma.Header{"WWW-Authenticate": {Description: "Bearer challenge (RFC 6750)",
			Schema: &huma.Schema{Type: "string"}}}
	}
	if r := op.Responses["429"]; r != nil {
		r.Headers = map[string]*huma.Header{"Retry-After": {Description: "Seconds until a new attempt is accepted",
			Schema: &huma.Schema{Type: "integer"}}}
	}
}

func (a *api) registerSession(hapi huma.API) {
	tags := []string{"autenticação"}
	a.registerLogin(hapi)
	huma.Register(hapi, huma.Operation{OperationID: OpRefresh, Method: http.MethodPost, Path: "/auth/refresh", Tags: tags,
		Summary: "Exchange a refresh token for a new pair",
		Description: "The refresh token is single use: the answer carries its successor. Presenting a token that was " +
			"already exchanged revokes the whole session (every token descended from the same login) and answers 401.",
		MaxBodyBytes: 4 << 10, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *authRefreshInput) (*authTokenOutput, error) {
			p, err := a.s.Refresh(ctx, strings.TrimSpace(in.Body.RefreshToken))
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return tokenOutput(p), nil
		})
	documentHeaders(hapi, http.MethodPost, "/auth/refresh")
	huma.Register(hapi, huma.Operation{OperationID: OpLogout, Method: http.MethodPost, Path: "/auth/logout", Tags: tags,
		Summary: "End a session", Description: "Revokes the refresh token's whole session. An unknown token is not an error.",
		DefaultStatus: http.StatusNoContent, MaxBodyBytes: 4 << 10,
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *authRefreshInput) (*struct{}, error) {
			return nil, a.err(ctx, a.s.Logout(ctx, strings.TrimSpace(in.Body.RefreshToken)))
		})
	documentHeaders(hapi, http.MethodPost, "/auth/logout")
	huma.Register(hapi, huma.Operation{OperationID: OpMe, Method: http.MethodGet, Path: "/auth/me", Tags: tags,
		Summary: "Who is calling", Description: "The authenticated user or API key, with what it may do.",
		Errors: []int{http.StatusUnauthorized}},
		func(ctx context.Context, _ *struct{}) (*authMeOutput, error) {
			p := PrincipalFrom(ctx)
			if p == nil {
				return nil, unauthorized(errNoCredentials)
			}
			return &authMeOutput{Body: p}, nil
		})
	documentHeaders(hapi, http.MethodGet, "/auth/me")
}

func (a *api) registerUsers(hapi huma.API) {
	tags := []string{"usuários"}
	huma.Register(hapi, huma.Operation{OperationID: OpUsuariosListar, Method: http.MethodGet, Path: "/usuarios", Tags: tags,
		Summary: "List users", Description: "By id, `limite` at a time; follow `proximo_cursor`.",
		Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *usuariosListInput) (*usuariosListOutput, error) {
			p, err := a.s.ListUsers(ctx, in.Limite, in.Cursor)
			if err != nil {
				return nil, queryError(a.err(ctx, err))
			}
			return &usuariosListOutput{Body: p}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpUsuariosCriar, Method: http.MethodPost, Path: "/usuarios", Tags: tags,
		Summary: "Create a user", DefaultStatus: http.StatusCreated, MaxBodyBytes: 16 << 10,
		Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *usuariosCreateInput) (*usuarioOutput, error) {
			u, err := a.s.CreateUser(ctx, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &usuarioOutput{Body: u}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpUsuariosLer, Method: http.MethodGet, Path: "/usuarios/{id}", Tags: tags,
		Summary: "Read a user", Errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *usuarioIDInput) (*usuarioOutput, error) {
			u, err := a.s.GetUser(ctx, in.ID)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &usuarioOutput{Body: u}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpUsuariosAlterar, Method: http.MethodPatch, Path: "/usuarios/{id}", Tags: tags,
		Summary: "Change a user",
		Description: "Only the fields present change. Changing the password, the role or `ativo` ends the user's sessions. " +
			"The last active admin cannot be demoted or deactivated (409).",
		MaxBodyBytes: 16 << 10, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *usuariosPatchInput) (*usuarioOutput, error) {
			u, err := a.s.UpdateUser(ctx, in.ID, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &usuarioOutput{Body: u}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpUsuariosRemover, Method: http.MethodDelete, Path: "/usuarios/{id}", Tags: tags,
		Summary: "Delete a user and their sessions", Description: "The last active admin cannot be deleted (409).",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusConflict}},
		func(ctx context.Context, in *usuarioIDInput) (*struct{}, error) {
			return nil, a.err(ctx, a.s.DeleteUser(ctx, in.ID))
		})
}

// queryError moves a 422 about "body.cursor" to "query.cursor" (the
// service names fields as if they were in a body).
func queryError(err error) error {
	var em *huma.ErrorModel
	if errors.As(err, &em) {
		for _, d := range em.Errors {
			d.Location = strings.Replace(d.Location, "body.", "query.", 1)
		}
	}
	return err
}

func (a *api) registerKeys(hapi huma.API) {
	tags := []string{"chaves de API"}
	huma.Register(hapi, huma.Operation{OperationID: OpChavesCriar, Method: http.MethodPost, Path: "/auth/chaves", Tags: tags,
		Summary: "Create an API key for a device",
		Description: "Answers the whole key (`segredo`) this once; only its hash is stored. Use it as " +
			"`Authorization: Bearer pnk_...` or `X-API-Key: pnk_...`. Scopes are permissions; a key cannot get one its creator lacks.",
		DefaultStatus: http.StatusCreated, MaxBodyBytes: 16 << 10,
		Errors: []int{http.StatusForbidden, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *chavesCreateInput) (*chavesCreateOutput, error) {
			k, secret, err := a.s.CreateAPIKey(ctx, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &chavesCreateOutput{Body: APIKeyCreated{APIKey: k, Segredo: secret}}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpChavesListar, Method: http.MethodGet, Path: "/auth/chaves", Tags: tags,
		Summary: "List API keys (without secrets)", Description: "Oldest first, revoked ones included; follow `proximo_cursor`.",
		Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *chavesListInput) (*chavesListOutput, error) {
			p, err := a.s.ListAPIKeys(ctx, in.Limite, in.Cursor)
			if err != nil {
				return nil, queryError(a.err(ctx, err))
			}
			return &chavesListOutput{Body: p}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: OpChavesRevogar, Method: http.MethodDelete, Path: "/auth/chaves/{id}", Tags: tags,
		Summary: "Revoke an API key", Description: "Takes effect within seconds on every instance. Revoking twice is not an error.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *chaveIDInput) (*struct{}, error) {
			return nil, a.err(ctx, a.s.RevokeAPIKey(ctx, in.ID))
		})
}

func (a *api) registerAudit(hapi huma.API) {
	huma.Register(hapi, huma.Operation{OperationID: OpAuditoriaListar, Method: http.MethodGet, Path: "/auditoria",
		Tags: []string{"auditoria"}, Summary: "Read the audit log, newest first",
		Description: "Logins, sessions, users, API keys and the administrative actions of the other modules. " +
			"Filter by action prefix, actor and time; follow `proximo_cursor` for older entries.",
		Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *auditoriaListInput) (*auditoriaListOutput, error) {
			for name, v := range map[string]string{"acao": in.Acao, "quem": in.Quem} {
				if !validText(v) {
					return nil, huma.Error422UnprocessableEntity("validation failed",
						&huma.ErrorDetail{Location: "query." + name, Message: "texto UTF-8 sem caracteres de controle"})
				}
			}
			p, err := a.s.ListAudit(ctx, AuditFilter{AcaoPrefixo: in.Acao, Quem: in.Quem, Desde: in.Desde, Ate: in.Ate,
				Limite: in.Limite, Cursor: in.Cursor})
			if err != nil {
				return nil, queryError(a.err(ctx, err))
			}
			return &auditoriaListOutput{Body: p}, nil
		})
}

// AddSecuritySchemes declares the API's security schemes: "bearer" (an
// access token), "apiKey" (X-API-Key) and "oauth2" (password flow at
// /auth/login, so Swagger UI's Authorize button logs in). Operations name
// the ones they accept in their Security field.
func AddSecuritySchemes(oapi *huma.OpenAPI) {
	if oapi.Components == nil {
		oapi.Components = &huma.Components{}
	}
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes["bearer"] = &huma.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "Access token from POST /auth/login (or an API key pnk_...)."}
	oapi.Components.SecuritySchemes["apiKey"] = &huma.SecurityScheme{Type: "apiKey", In: "header", Name: "X-API-Key",
		Description: "API key of a device (pnk_...), created at POST /auth/chaves."}
	// No OAuth scopes: what a user may do follows from their role.
	oapi.Components.SecuritySchemes["oauth2"] = &huma.SecurityScheme{Type: "oauth2",
		Description: "Log in with email (as username) and password; what you may do follows from your role.",
		Flows:       &huma.OAuthFlows{Password: &huma.OAuthFlow{TokenURL: "/auth/login", Scopes: map[string]string{}}}}
}

// typeOf returns the reflect.Type of T.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// retryAfter is the Retry-After header value for a wait.
func retryAfter(d time.Duration) string { return strconv.FormatInt(RetryAfterSeconds(d), 10) }
