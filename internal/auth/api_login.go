package auth

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// authLoginJSON is the JSON body of POST /auth/login.
type authLoginJSON struct {
	Email string `json:"email" maxLength:"254" example:"maria@exemplo.com.br"`
	Senha string `json:"senha" maxLength:"1024" example:"correta-cavalo-bateria"`
}

// authLoginForm is the OAuth2 password-grant form body of POST
// /auth/login (what Swagger UI's Authorize button sends).
type authLoginForm struct {
	GrantType string `json:"grant_type,omitempty" enum:"password" doc:"password (optional)"`
	Username  string `json:"username" maxLength:"254" doc:"The email"`
	Password  string `json:"password" maxLength:"1024"`
	Scope     string `json:"scope,omitempty" doc:"Ignored"`
}

// authLoginInput takes the raw body (JSON or form, parsed by parseLogin)
// and, through Resolve, the request for the client IP.
type authLoginInput struct {
	ContentType string `header:"Content-Type"`
	RawBody     []byte
	req         *http.Request
}

// Resolve keeps the request's addressing, for Options.ClientIP.
func (in *authLoginInput) Resolve(ctx huma.Context) []error {
	in.req = RequestFromHuma(ctx)
	return nil
}

// loginMaxBody bounds the login body.
const loginMaxBody = 16 << 10

func (a *api) registerLogin(hapi huma.API) {
	reg := hapi.OpenAPI().Components.Schemas
	huma.Register(hapi, huma.Operation{OperationID: OpLogin, Method: http.MethodPost, Path: "/auth/login",
		Tags: []string{"autenticação"}, Summary: "Log in with email and password",
		Description: "Takes JSON `{\"email\",\"senha\"}` or the OAuth2 password form (`username`, `password`), and " +
			"answers an access token (JWT, `expires_in` seconds) and a single-use refresh token. After repeated " +
			"failures for an email or from an address, attempts are refused for a while (429 with Retry-After) " +
			"without the password being checked.",
		MaxBodyBytes: loginMaxBody,
		// The body is JSON or a form; parseLogin checks both.
		SkipValidateBody: true,
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: reg.Schema(typeOf[authLoginJSON](), true, ""),
				Example: authLoginJSON{Email: "maria@exemplo.com.br", Senha: "correta-cavalo-bateria"}},
			"application/x-www-form-urlencoded": {Schema: reg.Schema(typeOf[authLoginForm](), true, "")},
		}},
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, a.login)
	// huma documents a RawBody as application/octet-stream too; this route
	// takes only JSON and the form.
	if pi := hapi.OpenAPI().Paths["/auth/login"]; pi != nil && pi.Post != nil && pi.Post.RequestBody != nil {
		delete(pi.Post.RequestBody.Content, "application/octet-stream")
	}
	documentHeaders(hapi, http.MethodPost, "/auth/login")
}

// login is the POST /auth/login handler.
func (a *api) login(ctx context.Context, in *authLoginInput) (*authTokenOutput, error) {
	email, senha, err := parseLogin(in.ContentType, in.RawBody)
	if err != nil {
		return nil, err
	}
	ip := ""
	if in.req != nil {
		ip = a.s.opts.ClientIP(in.req)
	}
	ctx = WithClientIP(ctx, ip)
	pair, err := a.s.Login(ctx, email, senha, ip)
	var locked *LockedError
	switch {
	case errors.As(err, &locked):
		return nil, huma.ErrorWithHeaders(
			huma.Error429TooManyRequests("muitas tentativas de login; tente novamente em "+retryAfter(locked.RetryAfter)+" s"),
			http.Header{"Retry-After": {retryAfter(locked.RetryAfter)}})
	case errors.Is(err, ErrInvalidCredentials):
		return nil, unauthorized(badCredentials("e-mail ou senha incorretos"))
	case err != nil:
		return nil, a.err(ctx, err)
	}
	return tokenOutput(pair), nil
}

// loginField is a 422 naming a body field.
func loginField(field, msg string) error {
	return huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body." + field, Message: msg})
}

// parseLogin reads the email and password from a JSON or form body.
func parseLogin(contentType string, body []byte) (email, senha string, err error) {
	mt := "application/json"
	if strings.TrimSpace(contentType) != "" {
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return "", "", huma.NewError(http.StatusUnsupportedMediaType, "Content-Type inválido; use application/json ou application/x-www-form-urlencoded")
		}
	}
	emailField, senhaField := "email", "senha"
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		email, senha, err = parseLoginJSON(body)
	case mt == "application/x-www-form-urlencoded":
		emailField, senhaField = "username", "password"
		email, senha, err = parseLoginForm(body)
	default:
		return "", "", huma.NewError(http.StatusUnsupportedMediaType, "use application/json ou application/x-www-form-urlencoded")
	}
	if err != nil {
		return "", "", err
	}
	return email, senha, checkLoginFields(emailField, senhaField, email, senha)
}

// parseLoginJSON decodes {"email","senha"}.
func parseLoginJSON(body []byte) (string, string, error) {
	var in struct {
		Email *string `json:"email"`
		Senha *string `json:"senha"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && (te.Field == "email" || te.Field == "senha") {
			return "", "", loginField(te.Field, "deve ser um texto")
		}
		return "", "", huma.Error400BadRequest("JSON inválido", &huma.ErrorDetail{Location: "body", Message: "esperado um objeto {\"email\", \"senha\"}"})
	}
	switch {
	case in.Email == nil:
		return "", "", loginField("email", "obrigatório")
	case in.Senha == nil:
		return "", "", loginField("senha", "obrigatório")
	}
	return *in.Email, *in.Senha, nil
}

// parseLoginForm decodes the OAuth2 password grant form.
func parseLoginForm(body []byte) (string, string, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return "", "", huma.Error400BadRequest("formulário inválido", &huma.ErrorDetail{Location: "body", Message: "application/x-www-form-urlencoded malformado"})
	}
	if g := v.Get("grant_type"); g != "" && g != "password" {
		return "", "", loginField("grant_type", "apenas password é aceito aqui; para renovar use POST /auth/refresh")
	}
	switch {
	case !v.Has("username"):
		return "", "", loginField("username", "obrigatório (o e-mail)")
	case !v.Has("password"):
		return "", "", loginField("password", "obrigatório")
	}
	return v.Get("username"), v.Get("password"), nil
}

// checkLoginFields bounds the credentials before any work is done on them.
func checkLoginFields(emailField, senhaField, email, senha string) error {
	e := strings.TrimSpace(email)
	switch {
	case e == "":
		return loginField(emailField, "obrigatório")
	case len(e) > 254 || !validText(e):
		return loginField(emailField, "e-mail inválido")
	case senha == "":
		return loginField(senhaField, "obrigatório")
	case len(senha) > maxPasswordBytes:
		return loginField(senhaField, "no máximo 1024 bytes")
	}
	return nil
}
