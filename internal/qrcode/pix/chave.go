package pix

import "strings"

// Limits on PIX keys (as the DICT registers them).
const (
	maxChave = 77 // the longest e-mail key; also what fits in field 26
	maxEmail = 77
)

// normChave validates a PIX key and returns it as the DICT registers it:
//
//   - CPF: 11 digits with valid check digits ("529.982.247-25" is accepted
//     and written without punctuation);
//   - CNPJ: 14 characters with valid check digits, numeric or the
//     alphanumeric form (12 of [0-9A-Z] then 2 digits) that Receita
//     Federal issues from July 2026; punctuation is removed, letters
//     upper-cased;
//   - e-mail: lower-cased, at most 77 characters;
//   - phone: "+55", a two-digit area code and an 8- or 9-digit number
//     (9 digits begin with 9);
//   - random key (EVP): a UUID, lower-cased.
func normChave(s string) (string, *FieldError) {
	const field = "chave"
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fieldErr(field, "obrigatória")
	case len(s) > maxChave:
		return "", fieldErr(field, "no máximo %d caracteres (tem %d)", maxChave, len(s))
	case strings.HasPrefix(s, "+"):
		return phone(s)
	case strings.Contains(s, "@"):
		return email(s)
	case len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-':
		return evp(s)
	}
	doc := stripDocPunct(s)
	switch {
	case len(doc) == 11 && allDigits(doc):
		if !validCPF(doc) {
			return "", fieldErr(field, "CPF inválido (dígitos verificadores não conferem)")
		}
		return doc, nil
	case len(doc) == 14 && allDigits(doc[12:]):
		doc = strings.ToUpper(doc)
		if !validCNPJ(doc) {
			return "", fieldErr(field, "CNPJ inválido (dígitos verificadores não conferem)")
		}
		return doc, nil
	case allDigits(doc):
		return "", fieldErr(field, "CPF tem 11 dígitos e CNPJ 14 (tem %d); telefone começa com +55", len(doc))
	}
	return "", fieldErr(field, "formato não reconhecido: use CPF, CNPJ, e-mail, telefone (+55...) ou chave aleatória")
}

// stripDocPunct removes the punctuation of a formatted CPF or CNPJ
// ("529.982.247-25", "12.345.678/0001-95"); anything else is returned as
// it is.
func stripDocPunct(s string) string {
	if !strings.ContainsAny(s, ".-/") || len(s) > 18 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == '-' || c == '/':
		case isAlnum(c):
			b.WriteByte(c)
		default:
			return s
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// allSame reports whether every character of s is the same, as in
// 000.000.000-00, which passes the check-digit arithmetic but is invalid.
func allSame(s string) bool {
	return strings.Count(s, s[:1]) == len(s)
}

// checkDigit is the mod-11 check digit of vals with weights cycling from
// 2 upwards, right to left, up to maxWeight.
func checkDigit(vals string, maxWeight int) int {
	sum, w := 0, 2
	for i := len(vals) - 1; i >= 0; i-- {
		sum += int(vals[i]-'0') * w
		if w++; w > maxWeight {
			w = 2
		}
	}
	if r := sum % 11; r >= 2 {
		return 11 - r
	}
	return 0
}

// validCPF checks an 11-digit CPF.
func validCPF(d string) bool {
	return !allSame(d) &&
		checkDigit(d[:9], 11) == int(d[9]-'0') &&
		checkDigit(d[:10], 11) == int(d[10]-'0')
}

// validCNPJ checks a 14-character CNPJ: 12 of [0-9A-Z] then 2 check
// digits. Letters count as their ASCII code minus 48, which makes the
// rule for numeric CNPJs a special case of the alphanumeric one.
func validCNPJ(d string) bool {
	for i := 0; i < 12; i++ {
		if c := d[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return !allSame(d) &&
		checkDigit(d[:12], 9) == int(d[12]-'0') &&
		checkDigit(d[:13], 9) == int(d[13]-'0')
}

func phone(s string) (string, *FieldError) {
	const field = "chave"
	if !strings.HasPrefix(s, "+55") {
		return "", fieldErr(field, "telefone deve ser brasileiro, no formato +55DDNNNNNNNNN")
	}
	n := s[3:]
	if !allDigits(n) || len(n) != 10 && len(n) != 11 {
		return "", fieldErr(field, "telefone deve ter +55, DDD e número (10 ou 11 dígitos, sem espaços)")
	}
	if n[0] == '0' || n[1] == '0' {
		return "", fieldErr(field, "DDD %q inválido", n[:2])
	}
	if len(n) == 11 && n[2] != '9' {
		return "", fieldErr(field, "celular com 9 dígitos deve começar com 9")
	}
	return s, nil
}

func email(s string) (string, *FieldError) {
	const field = "chave"
	s = strings.ToLower(s)
	if len(s) > maxEmail {
		return "", fieldErr(field, "e-mail com no máximo %d caracteres", maxEmail)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", fieldErr(field, "e-mail inválido")
	}
	if len(local) > 64 || !dotAtom(local) {
		return "", fieldErr(field, "e-mail inválido (parte antes do @)")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", fieldErr(field, "e-mail inválido (domínio sem ponto)")
	}
	for _, l := range labels {
		if !hostLabel(l) {
			return "", fieldErr(field, "e-mail inválido (domínio)")
		}
	}
	return s, nil
}

// dotAtom checks the local part of an e-mail address: atext characters
// in dot-separated runs.
func dotAtom(s string) bool {
	prevDot := true // no leading dot
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return !prevDot // no trailing dot
}

func hostLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func evp(s string) (string, *FieldError) {
	s = strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			// dashes, checked by the caller
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f':
		default:
			return "", fieldErr("chave", "chave aleatória inválida (UUID com dígitos hexadecimais)")
		}
	}
	return s, nil
}
