package qrcode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Request bodies of the generating routes: the kind's fields plus the
// rendering options.
type (
	CheckinRequest struct {
		CheckinInput
		Opcoes
	}
	EventoRequest struct {
		EventoInput
		Opcoes
	}
	MesaRequest struct {
		MesaInput
		Opcoes
	}
	ComandaRequest struct {
		ComandaInput
		Opcoes
	}
	ProdutoRequest struct {
		ProdutoInput
		Opcoes
	}
	URLRequest struct {
		URLInput
		Opcoes
	}
	PersonalizadoRequest struct {
		PersonalizadoInput
		Opcoes
	}
	PixRequest struct {
		PixInput
		Opcoes
	}
)

type genRequest[T any] struct {
	Formato string `query:"formato" enum:"png,svg,pdf,eps,txt,base64" doc:"File format of the response (overrides the body's formato); or send a matching Accept header"`
	Accept  string `header:"Accept"`
	Body    T
}

// fileOutput is a response whose body is either JSON we encoded or a file.
type fileOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func jsonOutput(v any) (*fileOutput, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &fileOutput{ContentType: "application/json", Body: b}, nil
}

func fileResponse(f *File, name string) *fileOutput {
	return &fileOutput{ContentType: f.MediaType, ContentDisposition: fmt.Sprintf(`inline; filename="%s.%s"`, name, f.Ext), Body: f.Data}
}

// API mounts the QR code routes.
type API struct {
	svc     *Service
	log     *slog.Logger
	batches chan struct{} // slots for concurrent batches
}

// apiErr maps service errors to problem responses; unexpected errors are
// logged and answered without their details.
func (a *API) apiErr(ctx context.Context, err error) error {
	var fe *FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{
			Location: "body." + fe.Field, Message: fe.Reason})
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound("código não encontrado")
	case errors.Is(err, ErrInsufficient):
		return huma.Error409Conflict("saldo insuficiente para o débito")
	case errors.Is(err, ErrConflict):
		return huma.Error409Conflict(err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return huma.Error503ServiceUnavailable("requisição cancelada")
	}
	a.log.ErrorContext(ctx, "qr-codes: unexpected error", "error", err)
	return huma.Error500InternalServerError("erro interno; informe o request id")
}

// binaryResponses documents a 200 that is one of the file formats, or an
// Issued as JSON when withJSON.
func binaryResponses(api huma.API, desc string, withJSON bool) map[string]*huma.Response {
	content := map[string]*huma.MediaType{}
	if withJSON {
		content["application/json"] = &huma.MediaType{Schema: api.OpenAPI().Components.Schemas.Schema(typeOf[Issued](), true, "")}
	}
	for _, f := range []string{FormatoPNG, FormatoSVG, FormatoPDF, FormatoEPS, FormatoTXT} {
		mt := strings.SplitN(mediaTypes[f], ";", 2)[0]
		content[mt] = &huma.MediaType{Schema: &huma.Schema{Type: "string", Format: "binary"}}
	}
	return map[string]*huma.Response{"200": {Description: desc, Content: content}}
}

func typeOf[T any]() reflect.Type { return reflect.TypeOf((*T)(nil)).Elem() }

func registerGen[T any](a *API, api huma.API, kind Kind, summary, desc string, split func(*T) (any, Opcoes)) {
	huma.Register(api, huma.Operation{
		OperationID: "qr-gerar-" + string(kind),
		Method:      http.MethodPost,
		Path:        "/qr-codes/" + string(kind),
		Summary:     summary,
		Description: desc + "\n\nAnswers JSON with the code as a data URI, or the file itself with `?formato=png|svg|pdf|eps|txt` or a matching `Accept` header.",
		Tags:        []string{"qr-codes"},
		Responses:   binaryResponses(api, "The issued code", true),
		Errors:      []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *genRequest[T]) (*fileOutput, error) {
		input, o := split(&in.Body)
		if f := pickFormat(in.Formato, in.Accept); f != "" {
			o.Formato = f
		}
		out, err := a.svc.Generate(ctx, kind, input, o)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		if o.Formato != "" && o.Formato != FormatoBase64 {
			return fileResponse(out.File, "qr-"+out.ID), nil
		}
		return jsonOutput(out)
	})
}

func pickFormat(query, accept string) string {
	if query != "" {
		return query
	}
	return FormatFromAccept(accept)
}

// Register mounts the /qr-codes routes on api.
func Register(api huma.API, svc *Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{svc: svc, log: log, batches: make(chan struct{}, maxConcurrentLote)}
	registerGen(a, api, KindCheckin, "Issue a check-in ticket",
		"Single-use ticket. The participant's name and CPF stay on the server; the code carries only an Ed25519-signed token of 198 digits (QR version 5 at level M).",
		func(r *CheckinRequest) (any, Opcoes) { return &r.CheckinInput, r.Opcoes })
	registerGen(a, api, KindEvento, "Issue an event information code",
		"Public information: the event URL when given, otherwise name, date and place as text.",
		func(r *EventoRequest) (any, Opcoes) { return &r.EventoInput, r.Opcoes })
	registerGen(a, api, KindMesa, "Issue a PDV table code", "Reusable, revocable, signed.",
		func(r *MesaRequest) (any, Opcoes) { return &r.MesaInput, r.Opcoes })
	registerGen(a, api, KindComanda, "Issue a comanda (tab)",
		"The code identifies the comanda with a signed token; the balance lives on the server (see /qr-codes/comandas/{id}/saldo).",
		func(r *ComandaRequest) (any, Opcoes) { return &r.ComandaInput, r.Opcoes })
	registerGen(a, api, KindProduto, "Issue a product code", "",
		func(r *ProdutoRequest) (any, Opcoes) { return &r.ProdutoInput, r.Opcoes })
	registerGen(a, api, KindURL, "Issue a URL code", "Only http and https URLs.",
		func(r *URLRequest) (any, Opcoes) { return &r.URLInput, r.Opcoes })
	registerGen(a, api, KindPersonalizado, "Issue a custom code", "Free text or a JSON object.",
		func(r *PersonalizadoRequest) (any, Opcoes) { return &r.PersonalizadoInput, r.Opcoes })
	registerGen(a, api, KindPix, "Issue a static PIX BR Code",
		"EMV BR Code \"copia e cola\" with CRC16/CCITT-FALSE; names are transliterated to ASCII.",
		func(r *PixRequest) (any, Opcoes) { return &r.PixInput, r.Opcoes })

	a.registerValidate(api)
	// huma documents a RawBody as application/octet-stream too; this route
	// takes only JSON and multipart.
	if pi := api.OpenAPI().Paths["/qr-codes/validar"]; pi != nil && pi.Post != nil && pi.Post.RequestBody != nil {
		delete(pi.Post.RequestBody.Content, "application/octet-stream")
	}
	a.registerRecords(api)
	a.registerComandas(api)
	a.registerStats(api)
	a.registerBatch(api)
}

type validateRequest struct {
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}

type validateOutput struct {
	Body *Validacao
}

// maxUpload bounds an uploaded image for validation.
const maxUpload = 8 << 20

func (a *API) registerValidate(api huma.API) {
	jsonSchema := api.OpenAPI().Components.Schemas.Schema(typeOf[ValidarInput](), true, "")
	huma.Register(api, huma.Operation{
		OperationID: "qr-validar",
		Method:      http.MethodPost,
		Path:        "/qr-codes/validar",
		Summary:     "Validate (and redeem) a scanned code",
		Description: "Send the scanned text as JSON `conteudo`, or a photo of the code as multipart field `imagem` " +
			"(PNG or JPEG; decoded on the server) with the other fields as form fields. Answers `valido` and, " +
			"when false, a machine-readable `motivo`. With `consumir: true` a check-in is redeemed atomically.",
		Tags:         []string{"qr-codes"},
		MaxBodyBytes: maxUpload,
		// The body is JSON or multipart; parseValidate checks both (huma
		// would validate every content type against the JSON schema).
		SkipValidateBody: true,
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: jsonSchema},
			"multipart/form-data": {Schema: &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
				"imagem":        {Type: "string", Format: "binary", Description: "PNG or JPEG photo of the code"},
				"conteudo":      {Type: "string", Description: "The scanned text (instead of imagem)"},
				"consumir":      {Type: "boolean"},
				"tipo_esperado": {Type: "string"},
				"evento_id":     {Type: "string"},
				"operador":      {Type: "string"},
				"local":         {Type: "string"},
			}}},
		}},
		Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType},
	}, func(ctx context.Context, in *validateRequest) (*validateOutput, error) {
		req, err := parseValidate(in.ContentType, in.RawBody)
		if err != nil {
			return nil, err
		}
		v, err := a.svc.Validate(ctx, *req)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &validateOutput{Body: v}, nil
	})
}

func parseValidate(contentType string, body []byte) (*ValidarInput, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "application/json"
	}
	var in ValidarInput
	switch mt {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return nil, huma.Error400BadRequest("JSON inválido", &huma.ErrorDetail{Location: "body", Message: err.Error()})
		}
		if strings.TrimSpace(in.Conteudo) == "" {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.conteudo", Message: "obrigatório (ou envie uma imagem como multipart)"})
		}
	case "multipart/form-data":
		r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		form, err := r.ReadForm(maxUpload)
		if err != nil {
			return nil, huma.Error400BadRequest("multipart inválido", &huma.ErrorDetail{Location: "body", Message: err.Error()})
		}
		defer form.RemoveAll()
		get := func(k string) string {
			if v := form.Value[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		in.TipoEsperado, in.EventoID, in.Operador, in.Local = get("tipo_esperado"), get("evento_id"), get("operador"), get("local")
		if c := get("consumir"); c != "" {
			b, err := strconv.ParseBool(c)
			if err != nil {
				return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.consumir", Message: "use true ou false", Value: c})
			}
			in.Consumir = b
		}
		if in.TipoEsperado != "" {
			if _, ok := ParseKind(in.TipoEsperado); !ok {
				return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.tipo_esperado", Message: "tipo desconhecido", Value: in.TipoEsperado})
			}
		}
		files := form.File["imagem"]
		if len(files) == 0 {
			if c := get("conteudo"); c != "" {
				in.Conteudo = c
				return &in, nil
			}
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.imagem", Message: "obrigatório"})
		}
		f, err := files[0].Open()
		if err != nil {
			return nil, huma.Error400BadRequest("arquivo ilegível")
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, huma.Error400BadRequest("arquivo ilegível")
		}
		text, err := DecodeBytes(data)
		if err != nil {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body.imagem", Message: err.Error()})
		}
		in.Conteudo = text
	default:
		return nil, huma.NewError(http.StatusUnsupportedMediaType, "use application/json ou multipart/form-data")
	}
	return &in, nil
}

type idPath struct {
	ID string `path:"id" minLength:"1" maxLength:"64" doc:"Code id"`
}

type recordOutput struct {
	Body *Record
}

type imageRequest struct {
	ID            string `path:"id" minLength:"1" maxLength:"64" doc:"Code id"`
	Formato       string `query:"formato" enum:"png,svg,pdf,eps,txt" doc:"File format (default png, or from Accept)"`
	Accept        string `header:"Accept"`
	Escala        int    `query:"escala" minimum:"0" maximum:"40"`
	Tamanho       int    `query:"tamanho" minimum:"0" maximum:"4000"`
	Borda         int    `query:"borda" minimum:"-1" maximum:"16" default:"-1" doc:"Quiet zone in modules (default 4, minimum 2)"`
	Estilo        string `query:"estilo" enum:"quadrado,redondo,circulo"`
	Cor           string `query:"cor" maxLength:"7"`
	CorFundo      string `query:"cor_fundo" maxLength:"7"`
	Texto         string `query:"texto" maxLength:"80"`
	NivelCorrecao string `query:"nivel_correcao" enum:"L,M,Q,H"`
}

type revokeRequest struct {
	ID   string      `path:"id" minLength:"1" maxLength:"64" doc:"Code id"`
	Body *revokeBody `required:"false"`
}

type revokeBody struct {
	Motivo string `json:"motivo,omitempty" maxLength:"200" example:"ingresso extraviado"`
}

func (a *API) registerRecords(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "qr-obter", Method: http.MethodGet, Path: "/qr-codes/{id}",
		Summary: "Get an issued code", Tags: []string{"qr-codes"}, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *idPath) (*recordOutput, error) {
		r, err := a.svc.Get(ctx, in.ID)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &recordOutput{Body: r.Public()}, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "qr-imagem", Method: http.MethodGet, Path: "/qr-codes/{id}/imagem",
		Summary: "Render an issued code again", Tags: []string{"qr-codes"},
		Responses: binaryResponses(api, "The code's image", false),
		Errors:    []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *imageRequest) (*fileOutput, error) {
		o := Opcoes{Formato: pickFormat(in.Formato, in.Accept), Escala: in.Escala, Tamanho: in.Tamanho, Estilo: in.Estilo,
			Cor: in.Cor, CorFundo: in.CorFundo, Texto: in.Texto, NivelCorrecao: in.NivelCorrecao}
		if o.Formato == "" {
			o.Formato = FormatoPNG
		}
		if in.Borda >= 0 {
			o.Borda = &in.Borda
		}
		f, r, _, err := a.svc.Image(ctx, in.ID, o)
		var fe *FieldError
		if errors.As(err, &fe) { // these options came as query parameters
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "query." + fe.Field, Message: fe.Reason})
		}
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return fileResponse(f, "qr-"+r.ID), nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "qr-revogar", Method: http.MethodPost, Path: "/qr-codes/{id}/revogar",
		Summary: "Revoke a code", Description: "A revoked code is refused by /qr-codes/validar with motivo revogado. Revoking again changes nothing.",
		Tags: []string{"qr-codes"}, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *revokeRequest) (*recordOutput, error) {
		motivo := ""
		if in.Body != nil {
			motivo = in.Body.Motivo
		}
		r, err := a.svc.Revoke(ctx, in.ID, motivo)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &recordOutput{Body: r.Public()}, nil
	})
}

type saldoOutput struct {
	Body *Saldo
}

type movimentoRequest struct {
	ID   string `path:"id" minLength:"1" maxLength:"64" doc:"Comanda id"`
	Body MovimentoInput
}

type movimentoOutput struct {
	Body *Movimento
}

func (a *API) registerComandas(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "comanda-saldo", Method: http.MethodGet, Path: "/qr-codes/comandas/{id}/saldo",
		Summary: "Balance of a comanda", Tags: []string{"comandas"}, Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *idPath) (*saldoOutput, error) {
		s, err := a.svc.Balance(ctx, in.ID)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &saldoOutput{Body: s}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "comanda-movimento", Method: http.MethodPost, Path: "/qr-codes/comandas/{id}/movimentos",
		Summary:     "Credit or debit a comanda",
		Description: "A debit past zero is refused with 409. Repeating `chave_idempotencia` returns the first result (`repetido: true`) without moving money again.",
		Tags:        []string{"comandas"}, Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *movimentoRequest) (*movimentoOutput, error) {
		m, err := a.svc.Move(ctx, in.ID, in.Body)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &movimentoOutput{Body: m}, nil
	})
}

type statsRequest struct {
	Body struct {
		Texto         string `json:"texto" minLength:"1" maxLength:"8000" example:"https://exemplo.com.br/e/2026"`
		NivelCorrecao string `json:"nivel_correcao,omitempty" enum:"L,M,Q,H,"`
	}
}

type statsOutput struct {
	Body *Estatisticas
}

func (a *API) registerStats(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "qr-estatisticas", Method: http.MethodPost, Path: "/qr-codes/estatisticas",
		Summary:     "How a text encodes",
		Description: "Version, modules, mode segments (numeric, alphanumeric, byte, ECI), capacity and efficiency.",
		Tags:        []string{"qr-codes"}, Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *statsRequest) (*statsOutput, error) {
		s, err := Stats(in.Body.Texto, in.Body.NivelCorrecao)
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		return &statsOutput{Body: s}, nil
	})
}
