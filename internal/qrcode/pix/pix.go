// Package pix builds and parses static PIX "BR Code" payloads: the EMV
// QRCPS merchant-presented text that banking apps read from a QR code or
// accept as "PIX copia e cola".
//
// A payload is a sequence of fields, each a two-digit ID, a two-digit
// length and the value. Build writes, in this order:
//
//	00 "01"                       payload format indicator
//	26 template                   merchant account information (PIX)
//	   00 "br.gov.bcb.pix"        GUI
//	   01 key                     the receiver's PIX key (chave)
//	   02 description             optional
//	52 "0000"                     merchant category code
//	53 "986"                      currency: BRL
//	54 amount                     only when > 0, e.g. "15.00"
//	58 "BR"                       country
//	59 name                       receiver name (1..25)
//	60 city                       receiver city (1..15)
//	62 template                   additional data
//	   05 txid                    "***" when none
//	63 CRC                        CRC16/CCITT-FALSE, 4 uppercase hex digits
//
// Everything is printable ASCII: accented letters in the name, city and
// description are transliterated ("São Paulo" → "Sao Paulo").
package pix

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Payload is the content of a static PIX code.
type Payload struct {
	Chave         string // PIX key: CPF, CNPJ, e-mail, +55 phone or random key (UUID)
	NomeRecebedor string // receiver name, 1..25 characters
	Cidade        string // receiver city, 1..15 characters
	ValorCentavos int64  // amount in centavos; 0 = the payer types it
	TxID          string // 1..25 of [A-Za-z0-9]; empty = "***" (none)
	Descricao     string // optional; how long it may be depends on the key
}

// FieldError is a payload field that cannot go into a BR Code. Field is
// the field's JSON name: chave, nome_recebedor, cidade, valor_centavos,
// txid or descricao. Reason is in Portuguese, for the user.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits of the fields.
const (
	MaxNomeRecebedor = 25 // characters of nome_recebedor
	MaxCidade        = 15 // characters of cidade
	MaxTxID          = 25 // characters of txid
	// MaxValorCentavos is the largest amount: field 54 holds at most 13
	// characters, "9999999999.99".
	MaxValorCentavos = 999_999_999_999
)

const (
	gui      = "br.gov.bcb.pix"
	noTxID   = "***"
	maxField = 99 // the length of a field is two digits
)

// Build returns the BR Code text ("copia e cola") for p. It validates and
// normalises every field first (see Parse for the normal form) and
// reports the first bad one as a *FieldError.
func Build(p Payload) (string, error) {
	n, err := normalize(p)
	if err != nil {
		return "", err
	}
	return n.build(), nil
}

// build writes an already normalised payload.
func (p *Payload) build() string {
	var acct strings.Builder
	tlv(&acct, "00", gui)
	tlv(&acct, "01", p.Chave)
	if p.Descricao != "" {
		tlv(&acct, "02", p.Descricao)
	}
	txid := p.TxID
	if txid == "" {
		txid = noTxID
	}
	var b strings.Builder
	b.Grow(256)
	tlv(&b, "00", "01")
	tlv(&b, "26", acct.String())
	tlv(&b, "52", "0000")
	tlv(&b, "53", "986")
	if p.ValorCentavos > 0 {
		tlv(&b, "54", formatValor(p.ValorCentavos))
	}
	tlv(&b, "58", "BR")
	tlv(&b, "59", p.NomeRecebedor)
	tlv(&b, "60", p.Cidade)
	tlv(&b, "62", "05"+twoDigits(len(txid))+txid)
	b.WriteString("6304")
	crc := crc16(b.String())
	b.WriteString(hex4(crc))
	return b.String()
}

// tlv writes one field; normalize has made sure the value fits.
func tlv(b *strings.Builder, id, value string) {
	if len(value) > maxField {
		panic("pix: field " + id + " too long") // unreachable after normalize
	}
	b.WriteString(id)
	b.WriteString(twoDigits(len(value)))
	b.WriteString(value)
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func hex4(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

func formatValor(c int64) string {
	return strconv.FormatInt(c/100, 10) + "." + twoDigits(int(c%100))
}

// normalize validates p and returns it in normal form: trimmed, text
// transliterated to ASCII, the key as the DICT writes it, a TxID of
// "***" as empty.
func normalize(p Payload) (Payload, error) {
	var n Payload
	var ferr *FieldError
	if n.Chave, ferr = normChave(p.Chave); ferr != nil {
		return Payload{}, ferr
	}
	if n.NomeRecebedor, ferr = normText("nome_recebedor", p.NomeRecebedor, true, MaxNomeRecebedor); ferr != nil {
		return Payload{}, ferr
	}
	if n.Cidade, ferr = normText("cidade", p.Cidade, true, MaxCidade); ferr != nil {
		return Payload{}, ferr
	}
	switch v := p.ValorCentavos; {
	case v < 0:
		return Payload{}, fieldErr("valor_centavos", "não pode ser negativo")
	case v > MaxValorCentavos:
		return Payload{}, fieldErr("valor_centavos", "no máximo %d (R$ 9.999.999.999,99)", int64(MaxValorCentavos))
	}
	n.ValorCentavos = p.ValorCentavos
	if n.TxID, ferr = normTxID(p.TxID); ferr != nil {
		return Payload{}, ferr
	}
	// Field 26 is "0014br.gov.bcb.pix" + "01" LL key + "02" LL description.
	maxDesc := max(0, maxField-(4+len(gui))-(4+len(n.Chave))-4)
	if n.Descricao, ferr = normText("descricao", p.Descricao, false, maxDesc); ferr != nil {
		return Payload{}, ferr
	}
	return n, nil
}

// normText trims and transliterates a text field and checks its length.
func normText(field, s string, required bool, max int) (string, *FieldError) {
	s = strings.TrimSpace(s)
	a, bad, ok := toASCII(s)
	if !ok {
		return "", fieldErr(field, "caractere %q não pode ser usado num código PIX", bad)
	}
	a = strings.TrimSpace(a) // a transliterated no-break space, say
	switch {
	case a == "" && required:
		return "", fieldErr(field, "obrigatório")
	case len(a) > 0 && max == 0:
		return "", fieldErr(field, "não cabe descrição com uma chave tão longa")
	case len(a) > max && field == "descricao":
		return "", fieldErr(field, "no máximo %d caracteres com esta chave (tem %d)", max, len(a))
	case len(a) > max:
		return "", fieldErr(field, "no máximo %d caracteres (tem %d)", max, len(a))
	}
	return a, nil
}

func normTxID(s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" || s == noTxID {
		return "", nil
	}
	if len(s) > MaxTxID {
		return "", fieldErr("txid", "no máximo %d caracteres (tem %d)", MaxTxID, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return "", fieldErr("txid", "somente letras e dígitos sem acento (A-Z, a-z, 0-9)")
		}
	}
	return s, nil
}

// Errors from Parse for text that is not a usable static BR Code (test
// with errors.Is); a field whose value is wrong comes as a *FieldError.
var (
	// ErrMalformed: not a well-formed BR Code (bad field structure, a
	// missing or repeated mandatory field, a character that is not
	// printable ASCII).
	ErrMalformed = errors.New("pix: código PIX malformado")
	// ErrCRC: the CRC (field 63) does not match; the code was damaged or
	// mistyped.
	ErrCRC = errors.New("pix: CRC não confere (código danificado ou digitado errado)")
	// ErrUnsupported: a well-formed EMV code this package does not handle,
	// such as a dynamic PIX (payload URL) or another currency.
	ErrUnsupported = errors.New("pix: código não suportado")
)

// crcTable is the CRC16/CCITT-FALSE table: polynomial 0x1021, MSB first.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16 is the CRC of EMV QR codes, CRC16/CCITT-FALSE: polynomial
// 0x1021, initial value 0xFFFF, no reflection, no final XOR.
func CRC16(b []byte) uint16 { return crc16(b) }

func crc16[T string | []byte](b T) uint16 {
	crc := uint16(0xffff)
	for i := 0; i < len(b); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^b[i]]
	}
	return crc
}
