package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
)

// API mounts the /cache routes.
type API struct {
	m   *Manager
	log *slog.Logger
}

func (a *API) apiErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, ErrNoArea):
		return huma.Error404NotFound("área não encontrada")
	case errors.Is(err, ErrTooLarge):
		return huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.valor", Message: "valor maior que o tamanho máximo da área"})
	case errors.Is(err, ErrBudget):
		return huma.Error409Conflict(err.Error())
	}
	return httpapi.ServiceError(ctx, a.log, "cache", err)
}

type keyInput struct {
	Chave string `path:"chave" minLength:"1" maxLength:"512" doc:"The key (URL-encoded). Keys named like the literal routes (estatisticas, areas...) must use /cache/chaves/{chave}"`
	Area  string `query:"area" default:"padrao" maxLength:"63" doc:"Area (default padrao)"`
}

type valueOutput struct {
	ContentType string `header:"Content-Type"`
	Area        string `header:"X-Cache-Area"`
	ExpiresAt   string `header:"X-Cache-Expira-Em" doc:"RFC 3339, when the item expires (absent: never)"`
	Body        []byte
}

type putInput struct {
	Chave       string   `path:"chave" minLength:"1" maxLength:"512"`
	Area        string   `query:"area" default:"padrao" maxLength:"63"`
	TTLSegundos int64    `query:"ttl_segundos" minimum:"0" maximum:"31536000" doc:"For raw bodies (JSON bodies say it inside)"`
	Tags        []string `query:"tags" maxItems:"16" doc:"For raw bodies (JSON bodies say it inside)"`
	ContentType string   `header:"Content-Type"`
	RawBody     []byte
}

// PutBody is the JSON form of a PUT.
type PutBody struct {
	Valor       json.RawMessage `json:"valor" doc:"Any JSON value"`
	TTLSegundos int64           `json:"ttl_segundos,omitempty" minimum:"0" maximum:"31536000"`
	Tags        []string        `json:"tags,omitempty" maxItems:"16"`
}

type putOutput struct {
	Area string `header:"X-Cache-Area"`
	Body struct {
		Chave    string     `json:"chave"`
		Area     string     `json:"area"`
		Bytes    int        `json:"bytes"`
		ExpiraEm *time.Time `json:"expira_em,omitempty"`
	}
}

type deleteOutput struct {
	Body struct {
		Removido bool `json:"removido"`
	}
}

// Register mounts the routes.
func Register(api huma.API, m *Manager, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{m: m, log: log}
	for _, base := range []string{"/cache/{chave}", "/cache/chaves/{chave}"} {
		suffix := ""
		if strings.Contains(base, "chaves") {
			suffix = "-alias"
		}
		a.registerItem(api, base, suffix)
	}
	a.registerAdmin(api)
}

func (a *API) registerItem(api huma.API, path, suffix string) {
	huma.Register(api, huma.Operation{
		OperationID: "cache-ler" + suffix, Method: http.MethodGet, Path: path, Tags: []string{"cache"},
		Summary:     "Read a cached value",
		Description: "Returns the value with the media type it was stored with, and `X-Cache-Area`. A miss is a 404 problem.",
		Responses: map[string]*huma.Response{"200": {Description: "The value", Content: map[string]*huma.MediaType{
			"application/json":         {Schema: &huma.Schema{Description: "A JSON value stored with PUT {valor}"}},
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}}},
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *keyInput) (*valueOutput, error) {
		if err := ValidateKey(in.Chave); err != nil {
			return nil, a.apiErr(ctx, err)
		}
		v, ok, err := a.m.Get(ctx, in.Area, in.Chave)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		if !ok {
			return nil, huma.Error404NotFound("chave não está no cache")
		}
		out := &valueOutput{ContentType: v.ContentType, Area: in.Area, Body: v.Data}
		if !v.ExpiresAt.IsZero() {
			out.ExpiresAt = v.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return out, nil
	})

	jsonSchema := api.OpenAPI().Components.Schemas.Schema(typeOfPutBody(), true, "")
	huma.Register(api, huma.Operation{
		OperationID: "cache-gravar" + suffix, Method: http.MethodPut, Path: path, Tags: []string{"cache"},
		Summary: "Store a value",
		Description: "JSON body `{\"valor\": ..., \"ttl_segundos\": 60, \"tags\": [\"x\"]}` stores a JSON value; any other " +
			"media type stores the raw body as is (TTL and tags then come as query parameters). Keys up to 512 bytes, values up to 8 MiB.",
		SkipValidateBody: true,
		MaxBodyBytes:     MaxValueBytes + 4096,
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json":         {Schema: jsonSchema},
			"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}},
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge},
	}, func(ctx context.Context, in *putInput) (*putOutput, error) {
		v, err := parsePut(in)
		if err != nil {
			return nil, err
		}
		if err := a.m.Set(ctx, in.Area, v); err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &putOutput{Area: in.Area}
		out.Body.Chave, out.Body.Area, out.Body.Bytes = v.Key, in.Area, len(v.Data)
		if !v.ExpiresAt.IsZero() {
			t := v.ExpiresAt.UTC()
			out.Body.ExpiraEm = &t
		}
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "cache-remover" + suffix, Method: http.MethodDelete, Path: path, Tags: []string{"cache"},
		Summary: "Remove a value", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *keyInput) (*deleteOutput, error) {
		if err := ValidateKey(in.Chave); err != nil {
			return nil, a.apiErr(ctx, err)
		}
		ok, err := a.m.Delete(ctx, in.Area, in.Chave)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		if !ok && a.m.tier == nil {
			return nil, huma.Error404NotFound("chave não está no cache")
		}
		out := &deleteOutput{}
		out.Body.Removido = ok
		return out, nil
	})
}

func parsePut(in *putInput) (*Value, error) {
	if err := ValidateKey(in.Chave); err != nil {
		return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "path.chave", Message: err.(*FieldError).Reason})
	}
	mt, _, err := mime.ParseMediaType(in.ContentType)
	if err != nil || in.ContentType == "" {
		mt = "application/octet-stream"
	}
	v := &Value{Key: in.Chave}
	ttl := in.TTLSegundos
	if mt == "application/json" {
		var body PutBody
		dec := json.NewDecoder(bytes.NewReader(in.RawBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return nil, huma.Error400BadRequest("JSON inválido", &huma.ErrorDetail{Location: "body", Message: err.Error()})
		}
		if len(bytes.TrimSpace(body.Valor)) == 0 {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.valor", Message: "obrigatório"})
		}
		if body.TTLSegundos < 0 || body.TTLSegundos > 31536000 {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.ttl_segundos", Message: "entre 0 e 31536000"})
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, body.Valor); err != nil {
			return nil, huma.Error400BadRequest("JSON inválido", &huma.ErrorDetail{Location: "body.valor", Message: err.Error()})
		}
		v.Data, v.ContentType, v.Tags = compact.Bytes(), "application/json", body.Tags
		ttl = body.TTLSegundos
	} else {
		v.Data, v.ContentType, v.Tags = append([]byte(nil), in.RawBody...), in.ContentType, in.Tags
		if in.ContentType == "" {
			v.ContentType = "application/octet-stream"
		}
	}
	if ttl > 0 {
		v.ExpiresAt = time.Now().Add(time.Duration(ttl) * time.Second)
	}
	return v, nil
}

type statsInput struct {
	Area string `query:"area" maxLength:"63" doc:"Only this area"`
}

type statsOutput struct{ Body *Stats }

type optimiseInput struct {
	Body struct {
		Simular bool `json:"simular,omitempty" doc:"Only say what would change"`
	}
}

type optimiseOutput struct {
	Body struct {
		Decisoes []Decision `json:"decisoes"`
	}
}

type logOutput struct {
	Body struct {
		Decisoes []Decision `json:"decisoes"`
	}
}

type clearInput struct {
	Body struct {
		Area string `json:"area,omitempty" maxLength:"63" doc:"Only this area (default: every area)"`
	}
}

type countOutput struct {
	Body struct {
		Removidos int `json:"removidos"`
	}
}

type areaPath struct {
	Nome string `path:"nome" minLength:"1" maxLength:"63"`
}

type areaOutput struct{ Body AreaConfig }

type areasOutput struct {
	Body struct {
		OrcamentoBytes int64        `json:"orcamento_bytes"`
		ReservadoBytes int64        `json:"reservado_bytes"`
		Areas          []AreaConfig `json:"areas"`
	}
}

type putAreaInput struct {
	Nome string `path:"nome" minLength:"1" maxLength:"63"`
	Body struct {
		Estrategia        string `json:"estrategia" enum:"lru,lfu,fifo,ttl,adaptativo"`
		TamanhoMaxBytes   int64  `json:"tamanho_max_bytes" minimum:"1024"`
		MaxItens          int    `json:"max_itens,omitempty" minimum:"0"`
		TTLPadraoSegundos int64  `json:"ttl_padrao_segundos,omitempty" minimum:"0" maximum:"31536000"`
		Otimizar          *bool  `json:"otimizar,omitempty" doc:"Default true"`
	}
}

type putAreaOutput struct {
	Status int
	Body   AreaConfig
}

type tagInput struct {
	Tag string `path:"tag" minLength:"1" maxLength:"64"`
}

func (a *API) registerAdmin(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "cache-estatisticas", Method: http.MethodGet, Path: "/cache/estatisticas", Tags: []string{"cache"},
		Summary: "Measured behaviour of the areas",
		Description: "Per area: hits, misses, hit ratio now and every 10 s over the last hour, evictions by cause, bytes, " +
			"items, mean entry size, load; hot keys (Space-Saving); the expected hit ratio at other sizes (SHARDS) and " +
			"under other policies (miniature simulations); and quantified recommendations.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *statsInput) (*statsOutput, error) {
		s, err := a.m.Stats(in.Area)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &statsOutput{Body: s}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-otimizar", Method: http.MethodPost, Path: "/cache/otimizar", Tags: []string{"cache"},
		Summary:     "Run the optimiser",
		Description: "Chooses each area's policy from its miniature simulations and moves bytes between areas by marginal gain; applies only changes whose expected gain passes a threshold, and logs them.",
	}, func(ctx context.Context, in *optimiseInput) (*optimiseOutput, error) {
		d, err := a.m.Optimise(ctx, in.Body.Simular)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &optimiseOutput{}
		out.Body.Decisoes = append([]Decision{}, d...)
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-otimizacoes", Method: http.MethodGet, Path: "/cache/otimizacoes", Tags: []string{"cache"},
		Summary: "The optimiser's log, with the measured result of each change",
	}, func(ctx context.Context, _ *struct{}) (*logOutput, error) {
		d, err := a.m.Decisions(ctx, 200)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &logOutput{}
		out.Body.Decisoes = append([]Decision{}, d...)
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-limpar", Method: http.MethodPost, Path: "/cache/limpar", Tags: []string{"cache"},
		Summary: "Empty one area or all", Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *clearInput) (*countOutput, error) {
		n, err := a.m.Clear(ctx, in.Body.Area)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &countOutput{}
		out.Body.Removidos = n
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-areas", Method: http.MethodGet, Path: "/cache/areas", Tags: []string{"cache"},
		Summary: "List the areas and the global byte budget",
	}, func(ctx context.Context, _ *struct{}) (*areasOutput, error) {
		out := &areasOutput{}
		out.Body.OrcamentoBytes, out.Body.ReservadoBytes = a.m.Budget()
		out.Body.Areas = []AreaConfig{}
		for _, ar := range a.m.Areas() {
			out.Body.Areas = append(out.Body.Areas, ar.Config())
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-area", Method: http.MethodGet, Path: "/cache/areas/{nome}", Tags: []string{"cache"},
		Summary: "An area's configuration", Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *areaPath) (*areaOutput, error) {
		ar, err := a.m.Area(in.Nome)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &areaOutput{Body: ar.Config()}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-area-gravar", Method: http.MethodPut, Path: "/cache/areas/{nome}", Tags: []string{"cache"},
		Summary:     "Create or reconfigure an area",
		Description: "201 when created. The sum of the areas' sizes must fit the global budget (409 otherwise). Changing the strategy keeps the items that fit.",
		Errors:      []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *putAreaInput) (*putAreaOutput, error) {
		c := AreaConfig{Nome: in.Nome, Estrategia: in.Body.Estrategia, TamanhoMaxBytes: in.Body.TamanhoMaxBytes,
			MaxItens: in.Body.MaxItens, TTLPadraoSegundos: in.Body.TTLPadraoSegundos, Otimizar: true}
		if in.Body.Otimizar != nil {
			c.Otimizar = *in.Body.Otimizar
		}
		created, err := a.m.PutArea(ctx, c)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return &putAreaOutput{Status: status, Body: c}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-area-remover", Method: http.MethodDelete, Path: "/cache/areas/{nome}", Tags: []string{"cache"},
		Summary: "Remove an area and its items", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *areaPath) (*struct{}, error) {
		return nil, a.apiErr(ctx, a.m.DeleteArea(ctx, in.Nome))
	})
	huma.Register(api, huma.Operation{
		OperationID: "cache-tag-remover", Method: http.MethodDelete, Path: "/cache/tags/{tag}", Tags: []string{"cache"},
		Summary: "Remove every item with a tag, in every area",
	}, func(ctx context.Context, in *tagInput) (*countOutput, error) {
		n, err := a.m.DeleteTag(ctx, in.Tag)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &countOutput{}
		out.Body.Removidos = n
		return out, nil
	})
}

func typeOfPutBody() reflect.Type { return reflect.TypeOf(PutBody{}) }
