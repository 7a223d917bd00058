package qrcode

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/painel-universal/painel/internal/qrcode/token"
)

// Reasons a code is refused (the `motivo` field).
const (
	MotivoAssinaturaInvalida = "assinatura_invalida"
	MotivoExpirado           = "expirado"
	MotivoJaUtilizado        = "ja_utilizado"
	MotivoRevogado           = "revogado"
	MotivoTipoIncorreto      = "tipo_incorreto"
	MotivoDesconhecido       = "desconhecido"
	MotivoMalformado         = "malformado"
)

// ValidarInput asks whether a scanned code is good, and optionally redeems
// a check-in.
type ValidarInput struct {
	Conteudo     string `json:"conteudo,omitempty" maxLength:"8000" doc:"The scanned text (or send an image instead, as multipart field imagem)"`
	Consumir     bool   `json:"consumir,omitempty" doc:"Redeem a check-in ticket: atomically marks it used"`
	TipoEsperado string `json:"tipo_esperado,omitempty" enum:"checkin,evento,mesa-pdv,comanda,produto,url,personalizado,pix," doc:"Refuse codes of another kind with tipo_incorreto"`
	EventoID     string `json:"evento_id,omitempty" maxLength:"64" doc:"Refuse codes of another event with tipo_incorreto"`
	Operador     string `json:"operador,omitempty" maxLength:"120" doc:"Who is scanning (recorded on redemption)"`
	Local        string `json:"local,omitempty" maxLength:"120" doc:"Where (door, gate), recorded on redemption"`
}

// Validacao is the answer of /qr-codes/validar.
type Validacao struct {
	Valido       bool       `json:"valido"`
	Motivo       string     `json:"motivo,omitempty" enum:"assinatura_invalida,expirado,ja_utilizado,revogado,tipo_incorreto,desconhecido,malformado"`
	Detalhe      string     `json:"detalhe,omitempty"`
	ID           string     `json:"id,omitempty"`
	Tipo         Kind       `json:"tipo,omitempty"`
	EventoID     string     `json:"evento_id,omitempty"`
	Consumido    bool       `json:"consumido" doc:"True when this request redeemed the check-in"`
	UsadoEm      *time.Time `json:"usado_em,omitempty"`
	UsadoPor     string     `json:"usado_por,omitempty"`
	UsadoLocal   string     `json:"usado_local,omitempty"`
	ValidoAte    *time.Time `json:"valido_ate,omitempty"`
	Participante *struct {
		Nome      string `json:"nome"`
		Documento string `json:"documento" doc:"Masked CPF, for checking an ID at the door"`
	} `json:"participante,omitempty"`
}

func refuse(motivo, detalhe string) *Validacao {
	return &Validacao{Motivo: motivo, Detalhe: detalhe}
}

// maskCPF shows only the middle digits: ***.982.247-**.
func maskCPF(d string) string {
	if len(d) != 11 {
		return "***"
	}
	return "***." + d[3:6] + "." + d[6:9] + "-**"
}

// Validate checks a scanned text: the token's signature and expiry for
// the kinds that carry one, then the record (revoked, used, kind, event).
// With Consumir, a check-in is redeemed atomically: of many concurrent
// redeems of one ticket exactly one succeeds.
func (s *Service) Validate(ctx context.Context, in ValidarInput) (*Validacao, error) {
	if err := firstErr(
		validText("operador", in.Operador, false, 120),
		validText("local", in.Local, false, 120),
	); err != nil {
		return nil, err
	}
	if in.TipoEsperado != "" {
		if _, ok := ParseKind(in.TipoEsperado); !ok {
			return nil, fieldErr("tipo_esperado", "tipo desconhecido")
		}
	}
	if err := validText("evento_id", in.EventoID, false, 64); err != nil {
		return nil, err
	}
	// Keyboard-wedge scanners add CR/LF; leading or trailing blanks are never
	// part of a code we issue.
	text := strings.TrimSpace(in.Conteudo)
	if text == "" {
		return refuse(MotivoMalformado, "conteúdo vazio"), nil
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return refuse(MotivoMalformado, "conteúdo com bytes inválidos"), nil
	}
	now := s.now()
	var rec *Record
	var err error
	expired := false
	if token.Looks(text) {
		claims, verr := s.keys.Verify(text, now)
		switch {
		case errors.Is(verr, token.ErrMalformed):
			return refuse(MotivoMalformado, "token com formato inválido"), nil
		case errors.Is(verr, token.ErrUnknownKey), errors.Is(verr, token.ErrBadSignature):
			return refuse(MotivoAssinaturaInvalida, "a assinatura do código não confere: código falsificado ou alterado"), nil
		case errors.Is(verr, token.ErrExpired):
			expired = true
		case verr != nil:
			return nil, verr
		}
		rec, err = s.Get(ctx, hexID(claims.ID))
		if err == nil && rec.Conteudo != text {
			err = ErrNotFound // signed by us, but not the code we recorded under that id
		}
	} else {
		rec, err = s.byContent(ctx, text)
		// A long run of digits we never issued as such is most likely a
		// misread or edited ticket (a custom code of digits is found above).
		if errors.Is(err, ErrNotFound) && looksLikeTruncatedToken(text) {
			return refuse(MotivoMalformado, "parece um ingresso, mas está incompleto ou alterado"), nil
		}
	}
	if errors.Is(err, ErrNotFound) {
		return refuse(MotivoDesconhecido, "código não emitido por este painel"), nil
	}
	if err != nil {
		return nil, err
	}
	v := describe(rec)
	switch {
	case in.TipoEsperado != "" && string(rec.Tipo) != in.TipoEsperado:
		v.Motivo, v.Detalhe = MotivoTipoIncorreto, "código do tipo "+string(rec.Tipo)+", esperado "+in.TipoEsperado
	case in.EventoID != "" && rec.EventoID != in.EventoID:
		v.Motivo, v.Detalhe = MotivoTipoIncorreto, "código de outro evento"
	case rec.Status == "revogado":
		v.Motivo, v.Detalhe = MotivoRevogado, rec.MotivoRevogacao
	case rec.Status == "utilizado":
		v.Motivo, v.Detalhe = MotivoJaUtilizado, "ingresso já utilizado"
	case expired || rec.Status == "expirado":
		v.Motivo, v.Detalhe = MotivoExpirado, "validade encerrada"
	default:
		v.Valido = true
	}
	if !v.Valido {
		v.Participante = nil // only the door that may let the holder in sees who it is
	}
	if !v.Valido || !in.Consumir || rec.Tipo != KindCheckin {
		return v, nil
	}
	return s.redeem(ctx, rec, in)
}

func describe(rec *Record) *Validacao {
	v := &Validacao{ID: rec.ID, Tipo: rec.Tipo, EventoID: rec.EventoID, UsadoEm: rec.UsadoEm,
		UsadoPor: rec.UsadoPor, UsadoLocal: rec.UsadoLocal, ValidoAte: rec.ValidoAte}
	if p, ok := rec.Metadados["participante"].(map[string]any); ok {
		nome, _ := p["nome"].(string)
		doc, _ := p["documento"].(string)
		v.Participante = &struct {
			Nome      string `json:"nome"`
			Documento string `json:"documento" doc:"Masked CPF, for checking an ID at the door"`
		}{nome, maskCPF(doc)}
	}
	return v
}

// redeem marks a check-in used, unless something else did first.
func (s *Service) redeem(ctx context.Context, rec *Record, in ValidarInput) (*Validacao, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	res, err := s.st.DB.ExecContext(ctx, `UPDATE qr_codes SET usos = usos + 1, usado_em = $2, usado_por = $3, usado_local = $4
		WHERE id = $1 AND usado_em IS NULL AND status = 'ativo' AND (valido_ate IS NULL OR valido_ate > $2)`,
		rec.ID, now.UnixMilli(), in.Operador, in.Local)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 1 {
		v := describe(rec)
		v.Valido, v.Consumido = true, true
		v.UsadoEm, v.UsadoPor, v.UsadoLocal = &now, in.Operador, in.Local
		return v, nil
	}
	// Someone redeemed or revoked it between our read and our update.
	cur, err := s.Get(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	v := describe(cur)
	switch cur.Status {
	case "revogado":
		v.Motivo, v.Detalhe = MotivoRevogado, cur.MotivoRevogacao
	case "expirado":
		v.Motivo, v.Detalhe = MotivoExpirado, "validade encerrada"
	default:
		v.Motivo, v.Detalhe = MotivoJaUtilizado, "ingresso já utilizado"
	}
	return v, nil
}

func hexID(id [8]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i, c := range id {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// looksLikeTruncatedToken spots digit strings near a token's length: a
// misread or edited ticket, rather than some other code.
func looksLikeTruncatedToken(s string) bool {
	if len(s) < 150 || len(s) > 260 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
