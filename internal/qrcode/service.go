package qrcode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/painel-universal/painel/internal/qrcode/pix"
	"github.com/painel-universal/painel/internal/qrcode/qr"
	"github.com/painel-universal/painel/internal/qrcode/token"
	"github.com/painel-universal/painel/internal/store"
)

// Service issues, renders and validates codes. It is used by the HTTP API
// and the CLI.
type Service struct {
	st   *store.Store
	keys *token.Keyring
	log  *slog.Logger
	now  func() time.Time
}

// NewService returns a service on the store, signing with keys.
func NewService(st *store.Store, keys *token.Keyring, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, keys: keys, log: log, now: time.Now}
}

// Record is an issued code as the store keeps it.
type Record struct {
	ID              string         `json:"id" example:"9f86d081884c7d65"`
	Tipo            Kind           `json:"tipo" example:"checkin"`
	Conteudo        string         `json:"conteudo" doc:"The exact text encoded in the code"`
	Metadados       map[string]any `json:"metadados" doc:"Kind-specific data kept on the server (never in the code)"`
	EventoID        string         `json:"evento_id,omitempty"`
	Versao          int            `json:"versao" doc:"QR version (1-40)"`
	NivelCorrecao   string         `json:"nivel_correcao" enum:"L,M,Q,H"`
	CriadoEm        time.Time      `json:"criado_em"`
	ValidoAte       *time.Time     `json:"valido_ate"`
	Status          string         `json:"status" enum:"ativo,revogado,utilizado,expirado"`
	RevogadoEm      *time.Time     `json:"revogado_em,omitempty"`
	MotivoRevogacao string         `json:"motivo_revogacao,omitempty"`
	Usos            int            `json:"usos"`
	UsadoEm         *time.Time     `json:"usado_em,omitempty"`
	UsadoPor        string         `json:"usado_por,omitempty"`
	UsadoLocal      string         `json:"usado_local,omitempty"`
}

// Issued is the answer to a generating request.
type Issued struct {
	Record
	Imagem string   `json:"imagem,omitempty" doc:"The code as a data URI (PNG unless formato says otherwise)"`
	Avisos []string `json:"avisos,omitempty"`
	File   *File    `json:"-"`
}

func newID() ([8]byte, string) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return b, hex.EncodeToString(b[:])
}

func contentHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// scopeOf is the token scope of an event: a 32-bit hash of its id, so a
// door scanner can tell a ticket of another event without the server.
func scopeOf(eventoID string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(eventoID))
	return h.Sum32()
}

// issue is what each kind contributes to a new code.
type issue struct {
	kind      Kind
	content   string
	meta      map[string]any
	eventoID  string
	validoAte *time.Time
	comanda   *ComandaInput
}

// prepare validates the input of kind and builds the code's content
// (signing a token for the kinds that grant something).
func (s *Service) prepare(kind Kind, input any) (*issue, error) {
	now := s.now()
	id, idHex := newID()
	is := &issue{kind: kind, meta: map[string]any{"id": idHex}}
	sign := func(k token.Kind, eventoID string, exp *time.Time) error {
		c := token.Claims{Kind: k, ID: id, Scope: scopeOf(eventoID)}
		if exp != nil {
			c.Expires = *exp
		}
		t, err := s.keys.Sign(c)
		is.content = t
		return err
	}
	switch in := input.(type) {
	case *CheckinInput:
		if err := in.validate(now); err != nil {
			return nil, err
		}
		is.eventoID, is.validoAte = in.EventoID, in.ValidoAte
		is.meta = map[string]any{
			"participante": map[string]any{"nome": in.Participante.Nome, "documento": cpfDigits(in.Participante.Documento)},
			"evento_nome":  in.EventoNome,
		}
		if in.DataEvento != nil {
			is.meta["data_evento"] = in.DataEvento.UTC().Format(time.RFC3339)
		}
		if err := sign(token.Checkin, in.EventoID, in.ValidoAte); err != nil {
			return nil, err
		}
	case *MesaInput:
		if err := in.validate(); err != nil {
			return nil, err
		}
		is.eventoID = in.EventoID
		is.meta = map[string]any{"mesa": in.Mesa, "evento_nome": in.EventoNome}
		if err := sign(token.Mesa, in.EventoID, nil); err != nil {
			return nil, err
		}
	case *ComandaInput:
		if err := in.validate(); err != nil {
			return nil, err
		}
		is.eventoID, is.comanda = in.EventoID, in
		is.meta = map[string]any{"numero": in.Numero, "saldo_inicial_centavos": in.SaldoInicialCentavos}
		if err := sign(token.Comanda, in.EventoID, nil); err != nil {
			return nil, err
		}
	case *EventoInput:
		if err := in.validate(); err != nil {
			return nil, err
		}
		is.eventoID = in.EventoID
		is.meta = map[string]any{"nome": in.Nome, "local": in.Local, "url": in.URL}
		if in.URL != "" {
			is.content = in.URL
		} else {
			var b strings.Builder
			b.WriteString(in.Nome)
			if in.Data != nil {
				b.WriteString("\n" + in.Data.UTC().Format("02/01/2006 15:04") + " UTC")
				is.meta["data"] = in.Data.UTC().Format(time.RFC3339)
			}
			if in.Local != "" {
				b.WriteString("\n" + in.Local)
			}
			is.content = b.String()
		}
	case *ProdutoInput:
		if err := in.validate(); err != nil {
			return nil, err
		}
		is.meta = map[string]any{"produto_id": in.ProdutoID, "nome": in.Nome, "preco_centavos": in.PrecoCentavos, "codigo": in.Codigo}
		is.content = "PRODUTO:" + in.ProdutoID
		if in.Codigo != "" {
			is.content += ":" + in.Codigo
		}
	case *URLInput:
		if err := in.validate(); err != nil {
			return nil, err
		}
		is.meta = map[string]any{"titulo": in.Titulo}
		is.content = in.URL
	case *PersonalizadoInput:
		t, err := in.text()
		if err != nil {
			return nil, err
		}
		is.meta = map[string]any{}
		is.content = t
	case *PixInput:
		text, err := pix.Build(pix.Payload{Chave: in.Chave, NomeRecebedor: in.NomeRecebedor, Cidade: in.Cidade,
			ValorCentavos: in.ValorCentavos, TxID: in.TxID, Descricao: in.Descricao})
		if err != nil {
			var fe *pix.FieldError
			if errors.As(err, &fe) {
				return nil, &FieldError{Field: fe.Field, Reason: fe.Reason}
			}
			return nil, err
		}
		is.meta = map[string]any{"chave": in.Chave, "nome_recebedor": in.NomeRecebedor, "cidade": in.Cidade,
			"valor_centavos": in.ValorCentavos, "txid": in.TxID}
		is.content = text
	default:
		return nil, fmt.Errorf("qrcode: unknown input %T", input)
	}
	is.meta["id"] = idHex
	return is, nil
}

// Generate validates input (a *CheckinInput, *EventoInput, ...), encodes,
// renders and records a new code.
func (s *Service) Generate(ctx context.Context, kind Kind, input any, o Opcoes) (*Issued, error) {
	is, err := s.prepare(kind, input)
	if err != nil {
		return nil, err
	}
	plan, err := o.plan()
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, is, plan)
}

// encode encodes text at the plan's level. Text beyond ASCII goes as
// UTF-8 behind an ECI 26 header, never as bare ISO-8859-1: measured here,
// zbar 0.23 reads Latin-1 bytes ("cardápio", "Promoção") as Shift_JIS with
// or without ECI 3, and ZXing-family readers guess Shift_JIS for runs of
// accented capitals ("AÇÃO"); UTF-8 with ECI 26 reads right in zbar,
// ZXing-cpp and gozxing. It costs 12 bits plus a byte per accent.
func encode(text string, level qr.Level) (*qr.Code, error) {
	c, err := qr.Encode(text, level, qr.Options{UTF8: true})
	if errors.Is(err, qr.ErrTooLong) {
		return nil, fieldErr("conteudo", "texto longo demais para um QR code no nível %s", level)
	}
	return c, err
}

func (s *Service) issue(ctx context.Context, is *issue, plan *renderPlan) (*Issued, error) {
	code, err := encode(is.content, plan.level)
	if err != nil {
		return nil, err
	}
	var file *File
	if !plan.noFile {
		if file, err = plan.renderFile(code, is.content); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	rec := Record{
		ID: is.meta["id"].(string), Tipo: is.kind, Conteudo: is.content, Metadados: is.meta,
		EventoID: is.eventoID, Versao: code.Version, NivelCorrecao: code.Level.String(),
		CriadoEm: now, ValidoAte: is.validoAte, Status: "ativo",
	}
	delete(rec.Metadados, "id")
	if rec.ValidoAte != nil {
		t := rec.ValidoAte.UTC().Truncate(time.Minute) // the token keeps minutes
		rec.ValidoAte = &t
	}
	if err := s.insert(ctx, &rec, is.comanda); err != nil {
		return nil, err
	}
	out := &Issued{Record: *rec.Public(), Avisos: plan.avisos, File: file}
	if plan.formato == FormatoBase64 && file != nil {
		out.Imagem = file.DataURI()
	}
	return out, nil
}

func msOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func (s *Service) insert(ctx context.Context, r *Record, comanda *ComandaInput) error {
	meta, err := json.Marshal(r.Metadados)
	if err != nil {
		return err
	}
	var evento any
	if r.EventoID != "" {
		evento = r.EventoID
	}
	return s.st.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO qr_codes (id, tipo, conteudo, conteudo_hash, metadados, evento_id,
			versao, nivel_correcao, criado_em, valido_ate, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'ativo')`,
			r.ID, string(r.Tipo), r.Conteudo, contentHash(r.Conteudo), string(meta), evento,
			r.Versao, r.NivelCorrecao, r.CriadoEm.UnixMilli(), msOrNil(r.ValidoAte))
		if err != nil {
			return fmt.Errorf("record code: %w", err)
		}
		if comanda != nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO comandas (id, numero, evento_id, saldo_centavos, atualizado_em)
				VALUES ($1,$2,$3,$4,$5)`, r.ID, comanda.Numero, comanda.EventoID, comanda.SaldoInicialCentavos, r.CriadoEm.UnixMilli())
		}
		return err
	})
}

const recordColumns = `id, tipo, conteudo, metadados, evento_id, versao, nivel_correcao, criado_em, valido_ate,
	status, revogado_em, motivo_revogacao, usos, usado_em, usado_por, usado_local`

type rowScanner interface{ Scan(dest ...any) error }

func msTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

func scanRecord(row rowScanner, now time.Time) (*Record, error) {
	var r Record
	var tipo, meta string
	var evento, motivo, usadoPor, usadoLocal sql.NullString
	var criado int64
	var valido, revogado, usado sql.NullInt64
	err := row.Scan(&r.ID, &tipo, &r.Conteudo, &meta, &evento, &r.Versao, &r.NivelCorrecao, &criado, &valido,
		&r.Status, &revogado, &motivo, &r.Usos, &usado, &usadoPor, &usadoLocal)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Tipo = Kind(tipo)
	if err := json.Unmarshal([]byte(meta), &r.Metadados); err != nil {
		return nil, fmt.Errorf("metadados of %s: %w", r.ID, err)
	}
	r.EventoID, r.MotivoRevogacao, r.UsadoPor, r.UsadoLocal = evento.String, motivo.String, usadoPor.String, usadoLocal.String
	r.CriadoEm = time.UnixMilli(criado).UTC()
	r.ValidoAte, r.RevogadoEm, r.UsadoEm = msTime(valido), msTime(revogado), msTime(usado)
	switch {
	case r.Status == "revogado":
	case r.UsadoEm != nil && r.Tipo == KindCheckin:
		r.Status = "utilizado"
	case r.ValidoAte != nil && !now.Before(*r.ValidoAte):
		r.Status = "expirado"
	}
	return &r, nil
}

// validID tells an id we could have issued: 16 lowercase hex digits.
// Anything else is simply not found (and never reaches the database, which
// may refuse invalid UTF-8 or NUL bytes).
func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Get returns the code with id.
func (s *Service) Get(ctx context.Context, id string) (*Record, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	return scanRecord(s.st.DB.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM qr_codes WHERE id = $1`, id), s.now())
}

// Public returns a copy of r fit to show: the participant's CPF masked.
// The full CPF stays on the server for whoever checks the database.
func (r *Record) Public() *Record {
	out := *r
	if p, ok := r.Metadados["participante"].(map[string]any); ok {
		meta := make(map[string]any, len(r.Metadados))
		for k, v := range r.Metadados {
			meta[k] = v
		}
		doc, _ := p["documento"].(string)
		meta["participante"] = map[string]any{"nome": p["nome"], "documento": maskCPF(doc)}
		out.Metadados = meta
	}
	return &out
}

func (s *Service) byContent(ctx context.Context, text string) (*Record, error) {
	return scanRecord(s.st.DB.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM qr_codes
		WHERE conteudo_hash = $1 AND conteudo = $2 ORDER BY criado_em DESC LIMIT 1`, contentHash(text), text), s.now())
}

// Image renders a recorded code again with the given options.
func (s *Service) Image(ctx context.Context, id string, o Opcoes) (*File, *Record, []string, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	plan, err := o.plan()
	if err != nil {
		return nil, nil, nil, err
	}
	if o.NivelCorrecao == "" && plan.opts.Logo == nil {
		plan.level, _ = qr.ParseLevel(r.NivelCorrecao)
	}
	code, err := encode(r.Conteudo, plan.level)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := plan.renderFile(code, r.Conteudo)
	return f, r, plan.avisos, err
}

// Revoke marks a code revoked; revoking again changes nothing.
func (s *Service) Revoke(ctx context.Context, id, motivo string) (*Record, error) {
	if err := validText("motivo", motivo, false, 200); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, ErrNotFound
	}
	res, err := s.st.DB.ExecContext(ctx, `UPDATE qr_codes SET status = 'revogado', revogado_em = $2, motivo_revogacao = $3
		WHERE id = $1 AND status <> 'revogado'`, id, s.now().UnixMilli(), motivo)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.Get(ctx, id)
}

// Estatisticas describes how a text encodes.
type Estatisticas struct {
	Versao         int        `json:"versao"`
	NivelCorrecao  string     `json:"nivel_correcao"`
	Modulos        int        `json:"modulos" doc:"Modules per side"`
	Segmentos      []Segmento `json:"segmentos"`
	BitsUsados     int        `json:"bits_usados"`
	CapacidadeBits int        `json:"capacidade_bits"`
	Eficiencia     float64    `json:"eficiencia" doc:"Used share of the version's data capacity (0-1)"`
	Charset        string     `json:"charset,omitempty"`
	Mascara        int        `json:"mascara"`
}

// Segmento is one mode segment of an encoded text.
type Segmento struct {
	Modo       string `json:"modo" enum:"numerico,alfanumerico,byte,eci"`
	Caracteres int    `json:"caracteres"`
	Bits       int    `json:"bits"`
}

// Stats encodes text and reports how.
func Stats(text, nivel string) (*Estatisticas, error) {
	if text == "" {
		return nil, fieldErr("texto", "obrigatório")
	}
	level := qr.M
	if nivel != "" {
		l, err := qr.ParseLevel(nivel)
		if err != nil {
			return nil, fieldErr("nivel_correcao", "use L, M, Q ou H")
		}
		level = l
	}
	c, err := encode(text, level)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Field = "texto"
		}
		return nil, err
	}
	out := &Estatisticas{Versao: c.Version, NivelCorrecao: c.Level.String(), Modulos: c.Size, BitsUsados: c.DataBits,
		CapacidadeBits: c.CapacityBits, Charset: c.Charset, Mascara: c.Mask}
	if c.CapacityBits > 0 {
		out.Eficiencia = float64(c.DataBits) / float64(c.CapacityBits)
	}
	for _, sg := range c.Segments {
		out.Segmentos = append(out.Segmentos, Segmento{Modo: sg.Mode.String(), Caracteres: sg.Chars, Bits: sg.Bits})
	}
	return out, nil
}
