package qrcode

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names a kind of code, as in the API paths and the `tipo` field.
type Kind string

// The kinds of code.
const (
	KindCheckin       Kind = "checkin"
	KindEvento        Kind = "evento"
	KindMesa          Kind = "mesa-pdv"
	KindComanda       Kind = "comanda"
	KindProduto       Kind = "produto"
	KindURL           Kind = "url"
	KindPersonalizado Kind = "personalizado"
	KindPix           Kind = "pix"
)

// Kinds lists every kind, in the order the API documents them.
func Kinds() []Kind {
	return []Kind{KindCheckin, KindEvento, KindMesa, KindComanda, KindProduto, KindURL, KindPersonalizado, KindPix}
}

// ParseKind reads a kind name.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Participante is the holder of a check-in ticket. It is stored on the
// server and never put in the code.
type Participante struct {
	Nome      string `json:"nome" minLength:"1" maxLength:"120" example:"Maria da Silva"`
	Documento string `json:"documento" minLength:"11" maxLength:"14" example:"529.982.247-25" doc:"CPF, with or without punctuation; check digits are verified"`
}

// CheckinInput issues a single-use check-in ticket.
type CheckinInput struct {
	EventoID     string       `json:"evento_id" minLength:"1" maxLength:"64" example:"festival-2026"`
	Participante Participante `json:"participante"`
	EventoNome   string       `json:"evento_nome,omitempty" maxLength:"120" example:"Festival de Verão"`
	DataEvento   *time.Time   `json:"data_evento,omitempty" doc:"When the event takes place (RFC 3339)"`
	ValidoAte    *time.Time   `json:"valido_ate,omitempty" doc:"Expiry (RFC 3339); the ticket is refused after it"`
}

// EventoInput issues a code with public event information.
type EventoInput struct {
	EventoID string     `json:"evento_id" minLength:"1" maxLength:"64" example:"festival-2026"`
	Nome     string     `json:"nome" minLength:"1" maxLength:"120" example:"Festival de Verão"`
	Data     *time.Time `json:"data,omitempty"`
	Local    string     `json:"local,omitempty" maxLength:"160" example:"Praça da Sé, São Paulo"`
	URL      string     `json:"url,omitempty" maxLength:"2000" doc:"When given, the code is this URL" example:"https://exemplo.com.br/festival"`
}

// MesaInput issues a reusable, revocable PDV table code.
type MesaInput struct {
	EventoID   string `json:"evento_id" minLength:"1" maxLength:"64" example:"bar-central"`
	Mesa       string `json:"mesa" minLength:"1" maxLength:"32" example:"12"`
	EventoNome string `json:"evento_nome,omitempty" maxLength:"120"`
}

// ComandaInput issues a comanda (tab); its balance lives on the server.
type ComandaInput struct {
	Numero               string `json:"numero" minLength:"1" maxLength:"32" example:"0042"`
	EventoID             string `json:"evento_id" minLength:"1" maxLength:"64" example:"bar-central"`
	SaldoInicialCentavos int64  `json:"saldo_inicial_centavos" minimum:"0" maximum:"100000000000" example:"5000"`
}

// ProdutoInput issues a product code.
type ProdutoInput struct {
	ProdutoID     string `json:"produto_id" minLength:"1" maxLength:"64" example:"cerveja-600"`
	Nome          string `json:"nome" minLength:"1" maxLength:"120" example:"Cerveja 600 ml"`
	PrecoCentavos int64  `json:"preco_centavos" minimum:"0" maximum:"100000000000" example:"1290"`
	Codigo        string `json:"codigo,omitempty" maxLength:"64" example:"7891234567895"`
}

// URLInput issues a code for a web address.
type URLInput struct {
	URL    string `json:"url" minLength:"1" maxLength:"2000" example:"https://exemplo.com.br/cardapio"`
	Titulo string `json:"titulo,omitempty" maxLength:"120"`
}

// PersonalizadoInput issues a code with free text or a JSON object.
type PersonalizadoInput struct {
	Dados any `json:"dados" doc:"Text (up to 2,000 characters) or a JSON object"`
}

// PixInput issues a static PIX BR Code.
type PixInput struct {
	Chave         string `json:"chave" minLength:"1" maxLength:"77" example:"123e4567-e12b-12d1-a456-426655440000"`
	NomeRecebedor string `json:"nome_recebedor" minLength:"1" maxLength:"25" example:"Fulano de Tal"`
	Cidade        string `json:"cidade" minLength:"1" maxLength:"15" example:"BRASILIA"`
	ValorCentavos int64  `json:"valor_centavos,omitempty" minimum:"0" maximum:"999999999999" example:"1500"`
	TxID          string `json:"txid,omitempty" maxLength:"25" example:"PEDIDO123"`
	Descricao     string `json:"descricao,omitempty" maxLength:"72"`
}

// ValidCPF checks a CPF's length and check digits ("529.982.247-25" or
// "52998224725").
func ValidCPF(s string) bool {
	d := make([]int, 0, 11)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d = append(d, int(r-'0'))
		case r == '.' || r == '-' || r == ' ':
		default:
			return false
		}
	}
	if len(d) != 11 {
		return false
	}
	same := true
	for _, v := range d[1:] {
		if v != d[0] {
			same = false
		}
	}
	if same {
		return false // 000.000.000-00 and the like pass the arithmetic but are invalid
	}
	for n := 9; n <= 10; n++ {
		sum := 0
		for i := 0; i < n; i++ {
			sum += d[i] * (n + 1 - i)
		}
		check := sum * 10 % 11 % 10
		if check != d[n] {
			return false
		}
	}
	return true
}

// cpfDigits returns the 11 digits of a valid CPF.
func cpfDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// validText checks a required or optional text field: valid UTF-8, no
// control characters, within max runes.
func validText(field, s string, required bool, max int) *FieldError {
	if strings.TrimSpace(s) == "" {
		if required {
			return fieldErr(field, "obrigatório")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "texto UTF-8 inválido")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fieldErr(field, "no máximo %d caracteres (tem %d)", max, n)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return fieldErr(field, "contém caractere de controle")
		}
	}
	return nil
}

// ValidateURL accepts absolute http and https URLs with a host.
func ValidateURL(field, raw string) *FieldError {
	if err := validText(field, raw, true, 2000); err != nil {
		return err
	}
	if strings.ContainsAny(raw, " \n\t") {
		return fieldErr(field, "URL não pode conter espaços")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fieldErr(field, "URL malformada")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fieldErr(field, "somente URLs http ou https")
	}
	host := u.Hostname()
	if host == "" {
		return fieldErr(field, "URL sem host")
	}
	if u.User != nil {
		return fieldErr(field, "URL com usuário/senha não é aceita")
	}
	if net.ParseIP(host) == nil && !strings.Contains(host, ".") && host != "localhost" {
		return fieldErr(field, "host %q inválido", host)
	}
	return nil
}

func firstErr(errs ...*FieldError) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (in *CheckinInput) validate(now time.Time) error {
	if err := firstErr(
		validText("evento_id", in.EventoID, true, 64),
		validText("participante.nome", in.Participante.Nome, true, 120),
		validText("evento_nome", in.EventoNome, false, 120),
	); err != nil {
		return err
	}
	if !ValidCPF(in.Participante.Documento) {
		return fieldErr("participante.documento", "CPF inválido (dígitos verificadores não conferem)")
	}
	// The token keeps whole minutes: the expiry must still be ahead once
	// truncated, or the ticket would be born expired.
	if in.ValidoAte != nil && !in.ValidoAte.Truncate(time.Minute).After(now) {
		return fieldErr("valido_ate", "deve estar pelo menos no próximo minuto")
	}
	return nil
}

func (in *EventoInput) validate() error {
	if err := firstErr(
		validText("evento_id", in.EventoID, true, 64),
		validText("nome", in.Nome, true, 120),
		validText("local", in.Local, false, 160),
	); err != nil {
		return err
	}
	if in.URL != "" {
		if err := ValidateURL("url", in.URL); err != nil {
			return err
		}
	}
	return nil
}

func (in *MesaInput) validate() error {
	return firstErr(
		validText("evento_id", in.EventoID, true, 64),
		validText("mesa", in.Mesa, true, 32),
		validText("evento_nome", in.EventoNome, false, 120),
	)
}

func (in *ComandaInput) validate() error {
	if err := firstErr(
		validText("numero", in.Numero, true, 32),
		validText("evento_id", in.EventoID, true, 64),
	); err != nil {
		return err
	}
	if in.SaldoInicialCentavos < 0 || in.SaldoInicialCentavos > 100_000_000_000 {
		return fieldErr("saldo_inicial_centavos", "entre 0 e 100000000000")
	}
	return nil
}

func (in *ProdutoInput) validate() error {
	if err := firstErr(
		validText("produto_id", in.ProdutoID, true, 64),
		validText("nome", in.Nome, true, 120),
		validText("codigo", in.Codigo, false, 64),
	); err != nil {
		return err
	}
	if in.PrecoCentavos < 0 || in.PrecoCentavos > 100_000_000_000 {
		return fieldErr("preco_centavos", "entre 0 e 100000000000")
	}
	return nil
}

func (in *URLInput) validate() error {
	return firstErr(ValidateURL("url", in.URL), validText("titulo", in.Titulo, false, 120))
}

// personalizadoText returns the text a custom code carries: the string
// itself, or the JSON object in compact form.
func (in *PersonalizadoInput) text() (string, error) {
	switch v := in.Dados.(type) {
	case string:
		if err := validText("dados", v, true, 2000); err != nil {
			return "", err
		}
		return v, nil
	case map[string]any:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep & < > as written
		if err := enc.Encode(v); err != nil {
			return "", fieldErr("dados", "objeto JSON inválido")
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if len(b) > 2000 {
			return "", fieldErr("dados", "objeto JSON grande demais (%d bytes; máximo 2000)", len(b))
		}
		return string(b), nil
	case nil:
		return "", fieldErr("dados", "obrigatório")
	default:
		return "", fieldErr("dados", "deve ser texto ou objeto JSON")
	}
}
