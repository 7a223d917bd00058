package pix

import (
	"fmt"
	"strconv"
	"strings"
)

// field is one ID-length-value element.
type field struct {
	id    string
	value string
}

// Parse reads a static PIX BR Code ("copia e cola" text or a scanned QR
// code), checking its structure and CRC, and returns its payload in the
// normal form Build uses: trimmed, ASCII, the key as the DICT writes it
// (e-mail and random key in lower case, CPF/CNPJ without punctuation) and
// a TxID of "***" as empty; so Build(p) of the result reproduces the same
// Payload. Fields Build does not write (01 point of initiation, 61 postal
// code, 64 language template, 80-99 unreserved templates, other
// sub-fields of 26 and 62) are checked for structure and ignored; fields
// may come in any order between 00 (first) and 63 (last). Spaces and
// line breaks around the text are ignored.
//
// Errors: ErrMalformed, ErrCRC or ErrUnsupported (wrapped, with details),
// or a *FieldError naming the field whose value Build would refuse.
func Parse(text string) (Payload, error) {
	text = strings.TrimSpace(text) // as pasted: a trailing newline, say
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c > 0x7e {
			return Payload{}, fmt.Errorf("%w: caractere não ASCII ou de controle na posição %d", ErrMalformed, i)
		}
	}
	n := len(text)
	if n < 8 || text[n-8:n-4] != "6304" {
		return Payload{}, fmt.Errorf("%w: não termina com o campo de CRC (6304 e 4 dígitos hexadecimais)", ErrMalformed)
	}
	want, err := strconv.ParseUint(text[n-4:], 16, 16)
	if err != nil {
		return Payload{}, fmt.Errorf("%w: CRC %q não é hexadecimal", ErrMalformed, text[n-4:])
	}
	if got := crc16(text[:n-4]); got != uint16(want) {
		return Payload{}, fmt.Errorf("%w: calculado %s, no código %s", ErrCRC, hex4(got), strings.ToUpper(text[n-4:]))
	}
	fields, err := parseTLVs(text[:n-8], "")
	if err != nil {
		return Payload{}, err
	}
	if len(fields) == 0 || fields[0].id != "00" {
		return Payload{}, fmt.Errorf("%w: o primeiro campo deve ser 00", ErrMalformed)
	}
	top := make(map[string]string, len(fields))
	for _, f := range fields {
		top[f.id] = f.value
	}
	if top["00"] != "01" {
		return Payload{}, fmt.Errorf("%w: versão %q do formato (campo 00)", ErrUnsupported, top["00"])
	}
	if v, ok := top["01"]; ok && v != "11" && v != "12" {
		return Payload{}, fmt.Errorf("%w: campo 01 deve ser 11 ou 12, não %q", ErrMalformed, v)
	}
	for _, id := range []string{"52", "53", "58", "59", "60"} {
		if _, ok := top[id]; !ok {
			return Payload{}, fmt.Errorf("%w: falta o campo obrigatório %s", ErrMalformed, id)
		}
	}
	if v := top["52"]; len(v) != 4 || !allDigits(v) {
		return Payload{}, fmt.Errorf("%w: categoria (campo 52) %q não tem 4 dígitos", ErrMalformed, v)
	}
	if v := top["53"]; v != "986" {
		return Payload{}, fmt.Errorf("%w: moeda %q (campo 53); só reais (986)", ErrUnsupported, v)
	}
	if v := top["58"]; v != "BR" {
		return Payload{}, fmt.Errorf("%w: país %q (campo 58); só BR", ErrUnsupported, v)
	}

	var p Payload
	// The PIX merchant account: the template among 26..51 whose GUI is
	// br.gov.bcb.pix.
	var acct []field
	others := false
	for _, f := range fields {
		if f.id < "26" || f.id > "51" {
			continue
		}
		if len(f.value) < 4+len(gui) || f.value[:4] != "0014" || !strings.EqualFold(f.value[4:4+len(gui)], gui) {
			// Another scheme's account; its structure is not ours to judge.
			others = true
			continue
		}
		sub, err := parseTLVs(f.value, f.id)
		if err != nil {
			return Payload{}, err
		}
		if acct != nil {
			return Payload{}, fmt.Errorf("%w: mais de um campo de conta PIX", ErrMalformed)
		}
		acct = sub
	}
	if acct == nil {
		if others {
			return Payload{}, fmt.Errorf("%w: não é um código PIX (nenhum campo 26-51 com %s)", ErrUnsupported, gui)
		}
		return Payload{}, fmt.Errorf("%w: falta o campo 26 (conta PIX)", ErrMalformed)
	}
	for _, f := range acct {
		switch f.id {
		case "01":
			p.Chave = f.value
		case "02":
			p.Descricao = f.value
		case "25":
			return Payload{}, fmt.Errorf("%w: PIX dinâmico (com URL) não é suportado", ErrUnsupported)
		}
	}
	if p.Chave == "" {
		return Payload{}, fmt.Errorf("%w: falta a chave (campo 26, subcampo 01)", ErrMalformed)
	}

	if v, ok := top["54"]; ok {
		c, ferr := parseValor(v)
		if ferr != nil {
			return Payload{}, ferr
		}
		p.ValorCentavos = c
	}
	p.NomeRecebedor = top["59"]
	p.Cidade = top["60"]
	if v, ok := top["62"]; ok {
		sub, err := parseTLVs(v, "62")
		if err != nil {
			return Payload{}, err
		}
		for _, f := range sub {
			if f.id == "05" {
				p.TxID = f.value
			}
		}
	}
	return normalize(p)
}

// parseTLVs splits s into fields, refusing repeated IDs. parent names the
// enclosing template in errors ("" at the top level).
func parseTLVs(s, parent string) ([]field, error) {
	where := ""
	if parent != "" {
		where = " no campo " + parent
	}
	var fields []field
	seen := map[string]bool{}
	for i := 0; i < len(s); {
		if len(s)-i < 4 || !allDigits(s[i:i+4]) {
			return nil, fmt.Errorf("%w: campo malformado na posição %d%s", ErrMalformed, i, where)
		}
		id := s[i : i+2]
		l := int(s[i+2]-'0')*10 + int(s[i+3]-'0')
		i += 4
		if l == 0 || l > len(s)-i {
			return nil, fmt.Errorf("%w: campo %s%s com tamanho %d inválido", ErrMalformed, id, where, l)
		}
		if seen[id] || parent == "" && id == "63" {
			return nil, fmt.Errorf("%w: campo %s%s repetido", ErrMalformed, id, where)
		}
		seen[id] = true
		fields = append(fields, field{id, s[i : i+l]})
		i += l
	}
	return fields, nil
}

// parseValor reads field 54: digits, optionally a point and one or two
// decimals ("15", "15.5", "15.50").
func parseValor(v string) (int64, *FieldError) {
	bad := fieldErr("valor_centavos", "valor %q inválido no campo 54", v)
	whole, frac, dot := strings.Cut(v, ".")
	if len(v) > 13 || !allDigits(whole) || dot && (len(frac) < 1 || len(frac) > 2 || !allDigits(frac)) {
		return 0, bad
	}
	if len(frac) == 1 {
		frac += "0"
	}
	c, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, bad
	}
	if !dot {
		c *= 100 // at most 13 digits, so no overflow
	}
	return c, nil
}
