package qrcode

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/qrcode/qr"
	"github.com/painel-universal/painel/internal/qrcode/render"
)

// MaxBatch is the most items one batch may hold.
const MaxBatch = 1000

// Limits on each image of a batch.
const (
	maxBatchPixels = 1024
	maxBatchScale  = 16
)

// sheetLayout converts the request's layout, with the defaults.
func sheetLayout(l *Layout) render.SheetLayout {
	layout := render.SheetLayout{Columns: 4, Rows: 6, MarginMM: 10, GapMM: 4, PageSize: "A4"}
	if l != nil {
		if l.Colunas > 0 {
			layout.Columns = l.Colunas
		}
		if l.Linhas > 0 {
			layout.Rows = l.Linhas
		}
		if l.MargemMM > 0 {
			layout.MarginMM = l.MargemMM
		}
		if l.EspacamentoMM > 0 {
			layout.GapMM = l.EspacamentoMM
		}
	}
	return layout
}

// checkLayout renders one version-10 label with the layout, so a layout
// whose cells are too small fails before any code is issued.
func checkLayout(l *Layout) error {
	c, err := encode(strings.Repeat("9", 400), qr.M) // a version-10 payload
	if err != nil {
		return err
	}
	if err := render.Sheet(io.Discard, []render.Label{{Grid: gridOf(c), Caption: "Etiqueta"}}, sheetLayout(l)); err != nil {
		return fieldErr("layout", "as etiquetas não cabem na página: %v", err)
	}
	return nil
}

// LoteItem is one code of a batch.
type LoteItem struct {
	Tipo  string         `json:"tipo" enum:"checkin,evento,mesa-pdv,comanda,produto,url,personalizado,pix"`
	Dados map[string]any `json:"dados" doc:"The fields of the kind, as in its own route"`
	Texto string         `json:"texto,omitempty" maxLength:"80" doc:"Caption on this item's label (default: derived from the data)"`
}

// Layout is the label sheet of a PDF batch.
type Layout struct {
	Colunas       int     `json:"colunas,omitempty" minimum:"0" maximum:"10" doc:"Labels per row (default 4)"`
	Linhas        int     `json:"linhas,omitempty" minimum:"0" maximum:"15" doc:"Rows per page (default 6)"`
	MargemMM      float64 `json:"margem_mm,omitempty" minimum:"0" maximum:"50" doc:"Page margin in mm (default 10)"`
	EspacamentoMM float64 `json:"espacamento_mm,omitempty" minimum:"0" maximum:"30" doc:"Gap between labels in mm (default 4)"`
}

// LoteInput is a batch request.
type LoteInput struct {
	Itens   []LoteItem `json:"itens" minItems:"1" maxItems:"1000"`
	Formato string     `json:"formato,omitempty" enum:"json,zip,pdf," doc:"json (data URIs, default), zip (one file per code plus manifesto.json) or pdf (A4 label sheet)"`
	Layout  *Layout    `json:"layout,omitempty"`
	Opcoes  *Opcoes    `json:"opcoes,omitempty" doc:"Rendering options for every item; opcoes.formato is the file format inside a zip"`
}

// LoteResultado is the outcome of one item.
type LoteResultado struct {
	Indice   int       `json:"indice"`
	OK       bool      `json:"ok"`
	ID       string    `json:"id,omitempty"`
	Tipo     string    `json:"tipo"`
	Conteudo string    `json:"conteudo,omitempty"`
	Versao   int       `json:"versao,omitempty"`
	Imagem   string    `json:"imagem,omitempty"`
	Arquivo  string    `json:"arquivo,omitempty" doc:"File name inside the zip"`
	Erro     *LoteErro `json:"erro,omitempty"`
}

// LoteErro says why an item failed.
type LoteErro struct {
	Campo  string `json:"campo"`
	Motivo string `json:"motivo"`
}

// LoteResposta is the JSON answer of a batch.
type LoteResposta struct {
	Total   int             `json:"total"`
	Sucesso int             `json:"sucesso"`
	Falhas  int             `json:"falhas"`
	Itens   []LoteResultado `json:"itens"`
}

func inputFor(kind Kind) any {
	switch kind {
	case KindCheckin:
		return &CheckinInput{}
	case KindEvento:
		return &EventoInput{}
	case KindMesa:
		return &MesaInput{}
	case KindComanda:
		return &ComandaInput{}
	case KindProduto:
		return &ProdutoInput{}
	case KindURL:
		return &URLInput{}
	case KindPersonalizado:
		return &PersonalizadoInput{}
	case KindPix:
		return &PixInput{}
	}
	return nil
}

// decodeItem turns an item's dados into its kind's input, refusing unknown
// fields.
func decodeItem(it LoteItem) (Kind, any, error) {
	kind, ok := ParseKind(it.Tipo)
	if !ok {
		return "", nil, fieldErr("tipo", "tipo desconhecido %q", it.Tipo)
	}
	raw, err := json.Marshal(it.Dados)
	if err != nil {
		return "", nil, fieldErr("dados", "JSON inválido")
	}
	in := inputFor(kind)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return "", nil, fieldErr("dados", "%v", err)
	}
	return kind, in, nil
}

// caption is the default label text of an issued code.
func caption(r *Record) string {
	m := r.Metadados
	str := func(k string) string { s, _ := m[k].(string); return s }
	switch r.Tipo {
	case KindCheckin:
		if p, ok := m["participante"].(map[string]any); ok {
			if n, ok := p["nome"].(string); ok {
				return n
			}
		}
	case KindComanda:
		return "Comanda " + str("numero")
	case KindMesa:
		return "Mesa " + str("mesa")
	case KindProduto, KindEvento:
		return str("nome")
	case KindURL:
		if t := str("titulo"); t != "" {
			return t
		}
		return r.Conteudo
	case KindPix:
		return str("nome_recebedor")
	}
	return ""
}

// Batch issues every item, reporting failures per item.
func (s *Service) Batch(ctx context.Context, in LoteInput) (*LoteResposta, []*Issued, error) {
	if len(in.Itens) == 0 || len(in.Itens) > MaxBatch {
		return nil, nil, fieldErr("itens", "entre 1 e %d itens", MaxBatch)
	}
	var o Opcoes
	if in.Opcoes != nil {
		o = *in.Opcoes
	}
	// Every item is rendered (and styled ones decoded): bound the image size
	// so a batch cannot ask for a thousand 4,000-pixel renders.
	if o.Tamanho > maxBatchPixels {
		return nil, nil, fieldErr("opcoes.tamanho", "no lote, no máximo %d pixels", maxBatchPixels)
	}
	if o.Escala > maxBatchScale {
		return nil, nil, fieldErr("opcoes.escala", "no lote, no máximo %d pixels por módulo", maxBatchScale)
	}
	switch in.Formato {
	case "", "json":
		o.Formato = FormatoBase64
	case "pdf":
		o.Formato = FormatoPNG
		if err := checkLayout(in.Layout); err != nil {
			return nil, nil, err
		}
	case "zip":
		if o.Formato == "" || o.Formato == FormatoBase64 {
			o.Formato = FormatoPNG
		}
	default:
		return nil, nil, fieldErr("formato", "use json, zip ou pdf")
	}
	plan, err := o.plan()
	if err != nil {
		var fe *FieldError
		if asField(err, &fe) {
			fe.Field = "opcoes." + fe.Field
		}
		return nil, nil, err
	}
	if in.Formato == "pdf" {
		plan.noFile = true // the sheet draws its own vectors
	}
	resp := &LoteResposta{Total: len(in.Itens)}
	issued := make([]*Issued, len(in.Itens))
	for i, it := range in.Itens {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		res := LoteResultado{Indice: i, Tipo: it.Tipo}
		out, err := s.batchItem(ctx, it, plan)
		if err != nil {
			var fe *FieldError
			if !asField(err, &fe) {
				return nil, nil, err // store failure: the batch as a whole fails
			}
			res.Erro = &LoteErro{Campo: fmt.Sprintf("itens[%d].%s", i, fe.Field), Motivo: fe.Reason}
			resp.Falhas++
		} else {
			issued[i] = out
			res.OK, res.ID, res.Conteudo, res.Versao, res.Imagem = true, out.ID, out.Conteudo, out.Versao, out.Imagem
			resp.Sucesso++
		}
		resp.Itens = append(resp.Itens, res)
	}
	return resp, issued, nil
}

func (s *Service) batchItem(ctx context.Context, it LoteItem, plan *renderPlan) (*Issued, error) {
	if err := validText("texto", it.Texto, false, 80); err != nil {
		return nil, err
	}
	kind, input, err := decodeItem(it)
	if err != nil {
		return nil, err
	}
	is, err := s.prepare(kind, input)
	if err != nil {
		return nil, err
	}
	p := *plan
	if it.Texto != "" {
		p.opts.Caption = it.Texto
	}
	return s.issue(ctx, is, &p)
}

func asField(err error, fe **FieldError) bool { return errors.As(err, fe) }

// Sheet renders the issued codes as a PDF label sheet, in the batch's style
// and colours (already validated by Batch; a logo is not drawn on labels).
func Sheet(issued []*Issued, captions []string, l *Layout, o *Opcoes) ([]byte, error) {
	layout := sheetLayout(l)
	if o != nil {
		if st, err := render.ParseStyle(o.Estilo); err == nil && o.Estilo != "" {
			layout.Style = st
		}
		if c, err := render.ParseHexColor(o.Cor); err == nil && o.Cor != "" {
			layout.Foreground = c
		}
		if c, err := render.ParseHexColor(o.CorFundo); err == nil && o.CorFundo != "" {
			layout.Background = c
		}
	}
	var labels []render.Label
	for i, is := range issued {
		if is == nil {
			continue
		}
		level, _ := qr.ParseLevel(is.NivelCorrecao)
		c, err := encode(is.Conteudo, level)
		if err != nil {
			return nil, err
		}
		text := captions[i]
		if text == "" {
			text = caption(&is.Record)
		}
		labels = append(labels, render.Label{Grid: gridOf(c), Caption: text})
	}
	if len(labels) == 0 {
		return nil, fieldErr("itens", "nenhum item válido para a folha de etiquetas")
	}
	var buf bytes.Buffer
	if err := render.Sheet(&buf, labels, layout); err != nil {
		if errors.Is(err, render.ErrInvalidOptions) || errors.Is(err, render.ErrTooLarge) {
			return nil, fieldErr("layout", "%v", err)
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

type loteRequest struct {
	Body LoteInput
}

func (a *API) registerBatch(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "qr-lote", Method: http.MethodPost, Path: "/qr-codes/lote",
		Summary: "Issue many codes at once",
		Description: "Up to 1,000 items, of one kind or mixed. Items that fail are reported per item and the rest succeed. " +
			"`formato`: json (data URIs), zip (one file per code plus manifesto.json) or pdf (an A4 label sheet; " +
			"failed items are listed in the X-Lote-Falhas-Indices header).",
		Tags: []string{"qr-codes"},
		Responses: map[string]*huma.Response{"200": {Description: "The batch", Content: map[string]*huma.MediaType{
			"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(typeOf[LoteResposta](), true, "")},
			"application/zip":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			"application/pdf":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		}}},
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *loteRequest) (*batchOutput, error) {
		select {
		case a.batches <- struct{}{}:
			defer func() { <-a.batches }()
		default:
			return nil, huma.Error503ServiceUnavailable("lotes demais em andamento; tente de novo em instantes")
		}
		// Finish well inside the server's write timeout, or say so.
		ctx, cancel := context.WithTimeout(ctx, batchTimeout)
		defer cancel()
		resp, issued, err := a.svc.Batch(ctx, in.Body)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, huma.Error503ServiceUnavailable("o lote demorou demais; divida-o em lotes menores")
		}
		if err != nil {
			return nil, a.apiErr(ctx, err)
		}
		out := &batchOutput{Falhas: strconv.Itoa(resp.Falhas)}
		var failed []string
		captions := make([]string, len(in.Body.Itens))
		for i, r := range resp.Itens {
			if !r.OK {
				failed = append(failed, strconv.Itoa(r.Indice))
			}
			captions[i] = in.Body.Itens[i].Texto
		}
		out.FalhasIndices = strings.Join(failed, ",")
		switch in.Body.Formato {
		case "pdf":
			b, err := Sheet(issued, captions, in.Body.Layout, in.Body.Opcoes)
			if err != nil {
				return nil, a.apiErr(ctx, err)
			}
			out.ContentType, out.ContentDisposition, out.Body = "application/pdf", `attachment; filename="qr-codes.pdf"`, b
		case "zip":
			b, err := zipBatch(resp, issued)
			if err != nil {
				return nil, a.apiErr(ctx, err)
			}
			out.ContentType, out.ContentDisposition, out.Body = "application/zip", `attachment; filename="qr-codes.zip"`, b
		default:
			b, err := json.Marshal(resp)
			if err != nil {
				return nil, err
			}
			out.ContentType, out.Body = "application/json", b
		}
		return out, nil
	})
}

// batchTimeout bounds one batch; concurrent batches are limited too.
const (
	batchTimeout      = 45 * time.Second
	maxConcurrentLote = 2
)

type batchOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Falhas             string `header:"X-Lote-Falhas" doc:"How many items failed"`
	FalhasIndices      string `header:"X-Lote-Falhas-Indices" doc:"Indices of the failed items"`
	Body               []byte
}

func zipBatch(resp *LoteResposta, issued []*Issued) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range resp.Itens {
		r := &resp.Itens[i]
		is := issued[i]
		if is == nil || is.File == nil {
			continue
		}
		r.Arquivo = fmt.Sprintf("%04d-%s-%s.%s", r.Indice, r.Tipo, r.ID, is.File.Ext)
		w, err := zw.Create(r.Arquivo)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(is.File.Data); err != nil {
			return nil, err
		}
		r.Imagem = ""
	}
	w, err := zw.Create("manifesto.json")
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(resp); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
