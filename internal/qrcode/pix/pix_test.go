package pix

import (
	"errors"
	"strings"
	"testing"
)

// The example of the Banco Central's BR Code manual.
const (
	bcbChave  = "123e4567-e12b-12d1-a456-426655440000"
	bcbVector = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)

func TestBCBVector(t *testing.T) {
	got, err := Build(Payload{Chave: bcbChave, NomeRecebedor: "Fulano de Tal", Cidade: "BRASILIA"})
	if err != nil {
		t.Fatal(err)
	}
	if got != bcbVector {
		t.Fatalf("Build =\n%s\nwant\n%s", got, bcbVector)
	}
	p, err := Parse(bcbVector)
	if err != nil {
		t.Fatal(err)
	}
	want := Payload{Chave: bcbChave, NomeRecebedor: "Fulano de Tal", Cidade: "BRASILIA"}
	if p != want {
		t.Fatalf("Parse = %+v, want %+v", p, want)
	}
}

func TestCRC16(t *testing.T) {
	for in, want := range map[string]uint16{
		"123456789": 0x29B1, // the CRC-16/CCITT-FALSE check value
		"":          0xFFFF,
		"A":         0xB915,
	} {
		if got := CRC16([]byte(in)); got != want {
			t.Errorf("CRC16(%q) = %04X, want %04X", in, got, want)
		}
		if got := crc16(in); got != want {
			t.Errorf("crc16(%q) = %04X, want %04X", in, got, want)
		}
	}
	// The table agrees with the bitwise definition.
	for i := range 256 {
		b := []byte{byte(i), byte(255 - i), 0x5a}
		if got, want := CRC16(b), crcBitwise(b); got != want {
			t.Fatalf("CRC16(%x) = %04X, bitwise %04X", b, got, want)
		}
	}
}

func crcBitwise(b []byte) uint16 {
	crc := uint16(0xffff)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestBuildAllFields(t *testing.T) {
	got, err := Build(Payload{
		Chave:         "52998224725",
		NomeRecebedor: "Loja do Zé",
		Cidade:        "São Paulo",
		ValorCentavos: 1050,
		TxID:          "PEDIDO123",
		Descricao:     "Pedido 123",
	})
	if err != nil {
		t.Fatal(err)
	}
	body := "000201" +
		"2647" + "0014br.gov.bcb.pix" + "011152998224725" + "0210Pedido 123" +
		"52040000" + "5303986" + "540510.50" + "5802BR" +
		"5910Loja do Ze" + "6009Sao Paulo" + "62130509PEDIDO123" + "6304"
	want := body + hex4(CRC16([]byte(body)))
	if got != want {
		t.Fatalf("Build =\n%s\nwant\n%s", got, want)
	}
}

func TestValor(t *testing.T) {
	base := Payload{Chave: bcbChave, NomeRecebedor: "N", Cidade: "C"}
	for c, want := range map[int64]string{
		1:                "54040.01",
		10:               "54040.10",
		100:              "54041.00",
		123456:           "54071234.56",
		MaxValorCentavos: "54139999999999.99",
	} {
		p := base
		p.ValorCentavos = c
		s, err := Build(p)
		if err != nil {
			t.Fatalf("%d: %v", c, err)
		}
		if !strings.Contains(s, "5303986"+want+"5802BR") {
			t.Errorf("%d: %s does not contain field %s", c, s, want)
		}
		back, err := Parse(s)
		if err != nil || back.ValorCentavos != c {
			t.Errorf("%d: Parse = %d, %v", c, back.ValorCentavos, err)
		}
	}
	// Amounts others write.
	for v, want := range map[string]int64{"15": 1500, "15.5": 1550, "15.05": 1505, "0.01": 1, "0": 0, "0.00": 0, "007.10": 710, "9999999999.99": MaxValorCentavos} {
		p, err := Parse(withCRC("000201" + "2640" + "0014br.gov.bcb.pix" + "0118fulano@example.com" + "52040000" + "5303986" + tlvString("54", v) + "5802BR" + "5901N" + "6001C" + "6304"))
		if err != nil || p.ValorCentavos != want {
			t.Errorf("amount %q: %d, %v; want %d", v, p.ValorCentavos, err, want)
		}
	}
	for _, v := range []string{"15,50", "15.505", ".5", "15.", "-1", "1e3", " 15", "10000000000.00", "9999999999999"} {
		_, err := Parse(withCRC("000201" + "2640" + "0014br.gov.bcb.pix" + "0118fulano@example.com" + "52040000" + "5303986" + tlvString("54", v) + "5802BR" + "5901N" + "6001C" + "6304"))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "valor_centavos" {
			t.Errorf("amount %q: %v, want FieldError valor_centavos", v, err)
		}
	}
}

// withCRC appends the CRC to text ending in "6304".
func withCRC(text string) string { return text + hex4(CRC16([]byte(text))) }

func tlvString(id, v string) string {
	var b strings.Builder
	tlv(&b, id, v)
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in, want Payload // want.Chave etc. in normal form; zero want = in
	}{
		{in: Payload{Chave: bcbChave, NomeRecebedor: "Fulano de Tal", Cidade: "BRASILIA"}},
		{in: Payload{Chave: "52998224725", NomeRecebedor: "Maria", Cidade: "Recife", ValorCentavos: 1, TxID: "A", Descricao: "x"}},
		{in: Payload{Chave: "11222333000181", NomeRecebedor: strings.Repeat("N", 25), Cidade: strings.Repeat("C", 15), ValorCentavos: MaxValorCentavos, TxID: strings.Repeat("Z", 25)}},
		{in: Payload{Chave: "12ABC34501DE35", NomeRecebedor: "Empresa Nova", Cidade: "Brasilia"}},
		{in: Payload{Chave: "+5561912345678", NomeRecebedor: "Joao", Cidade: "Brasilia", ValorCentavos: 999}},
		{in: Payload{Chave: "+556132345678", NomeRecebedor: "Joao", Cidade: "Brasilia"}},
		{in: Payload{Chave: "pix@example.com.br", NomeRecebedor: "Loja", Cidade: "Rio", Descricao: "Obrigado pela compra!"}},
		{in: Payload{Chave: bcbChave, NomeRecebedor: "N", Cidade: "C", Descricao: strings.Repeat("d", 37)}},
		// Normalised.
		{
			in:   Payload{Chave: " 529.982.247-25 ", NomeRecebedor: " José Conceição ", Cidade: "São Paulo", TxID: "***", Descricao: "Café ☕"[:len("Café ")] + "e pão"},
			want: Payload{Chave: "52998224725", NomeRecebedor: "Jose Conceicao", Cidade: "Sao Paulo", Descricao: "Cafe e pao"},
		},
		{
			in:   Payload{Chave: "11.222.333/0001-81", NomeRecebedor: "N", Cidade: "C"},
			want: Payload{Chave: "11222333000181", NomeRecebedor: "N", Cidade: "C"},
		},
		{
			in:   Payload{Chave: "12.abc.345/01de-35", NomeRecebedor: "N", Cidade: "C"},
			want: Payload{Chave: "12ABC34501DE35", NomeRecebedor: "N", Cidade: "C"},
		},
		{
			in:   Payload{Chave: "Fulano.Tal@Example.COM", NomeRecebedor: "N", Cidade: "C"},
			want: Payload{Chave: "fulano.tal@example.com", NomeRecebedor: "N", Cidade: "C"},
		},
		{
			in:   Payload{Chave: strings.ToUpper(bcbChave), NomeRecebedor: "N", Cidade: "C"},
			want: Payload{Chave: bcbChave, NomeRecebedor: "N", Cidade: "C"},
		},
	} {
		want := tc.want
		if want == (Payload{}) {
			want = tc.in
		}
		s, err := Build(tc.in)
		if err != nil {
			t.Errorf("Build(%+v): %v", tc.in, err)
			continue
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				t.Errorf("Build(%+v) = %q: not printable ASCII", tc.in, s)
			}
		}
		got, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%s): %v", s, err)
			continue
		}
		if got != want {
			t.Errorf("round trip of %+v:\n got %+v\nwant %+v", tc.in, got, want)
		}
		if again, err := Build(got); err != nil || again != s {
			t.Errorf("Build(Parse(s)) = %s, %v; want %s", again, err, s)
		}
	}
}

func TestValidKeys(t *testing.T) {
	for _, k := range []string{
		"52998224725", "11144477735", "39053344705",
		"11222333000181", "11444777000161",
		"12ABC34501DE35",
		"+5511987654321", "+551132345678",
		"a@b.co", "first.last+tag@sub.example.com.br", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 8) + ".com",
		bcbChave, "f47ac10b-58cc-4372-a567-0e02b2c3d479",
	} {
		if _, err := normChave(k); err != nil {
			t.Errorf("normChave(%q): %v", k, err)
		}
	}
}

func TestFieldErrors(t *testing.T) {
	ok := Payload{Chave: bcbChave, NomeRecebedor: "Fulano de Tal", Cidade: "BRASILIA"}
	with := func(f func(*Payload)) Payload { p := ok; f(&p); return p }
	for _, tc := range []struct {
		name  string
		p     Payload
		field string
	}{
		{"empty key", with(func(p *Payload) { p.Chave = "" }), "chave"},
		{"blank key", with(func(p *Payload) { p.Chave = "   " }), "chave"},
		{"key too long", with(func(p *Payload) { p.Chave = strings.Repeat("a", 70) + "@example.com" }), "chave"},
		{"CPF check digit", with(func(p *Payload) { p.Chave = "52998224724" }), "chave"},
		{"CPF all same", with(func(p *Payload) { p.Chave = "11111111111" }), "chave"},
		{"CPF 10 digits", with(func(p *Payload) { p.Chave = "5299822472" }), "chave"},
		{"CPF 12 digits", with(func(p *Payload) { p.Chave = "529982247250" }), "chave"},
		{"CPF letters", with(func(p *Payload) { p.Chave = "5299822472X" }), "chave"},
		{"CNPJ check digit", with(func(p *Payload) { p.Chave = "11222333000182" }), "chave"},
		{"CNPJ all zeros", with(func(p *Payload) { p.Chave = "00000000000000" }), "chave"},
		{"CNPJ alnum check digit", with(func(p *Payload) { p.Chave = "12ABC34501DE36" }), "chave"},
		{"CNPJ letter in check digits", with(func(p *Payload) { p.Chave = "12ABC34501DE3A" }), "chave"},
		{"e-mail no at", with(func(p *Payload) { p.Chave = "fulano.example.com" }), "chave"},
		{"e-mail two ats", with(func(p *Payload) { p.Chave = "a@b@example.com" }), "chave"},
		{"e-mail no domain dot", with(func(p *Payload) { p.Chave = "fulano@localhost" }), "chave"},
		{"e-mail empty local", with(func(p *Payload) { p.Chave = "@example.com" }), "chave"},
		{"e-mail double dot", with(func(p *Payload) { p.Chave = "a..b@example.com" }), "chave"},
		{"e-mail leading dot", with(func(p *Payload) { p.Chave = ".a@example.com" }), "chave"},
		{"e-mail space", with(func(p *Payload) { p.Chave = "a b@example.com" }), "chave"},
		{"e-mail accent", with(func(p *Payload) { p.Chave = "joão@example.com" }), "chave"},
		{"e-mail domain hyphen", with(func(p *Payload) { p.Chave = "a@-example.com" }), "chave"},
		{"e-mail empty label", with(func(p *Payload) { p.Chave = "a@example..com" }), "chave"},
		{"e-mail local too long", with(func(p *Payload) { p.Chave = strings.Repeat("a", 65) + "@ex.com" }), "chave"},
		{"phone foreign", with(func(p *Payload) { p.Chave = "+14155550123" }), "chave"},
		{"phone short", with(func(p *Payload) { p.Chave = "+55119876543" }), "chave"},
		{"phone long", with(func(p *Payload) { p.Chave = "+551198765432100" }), "chave"},
		{"phone spaces", with(func(p *Payload) { p.Chave = "+55 11 98765-4321" }), "chave"},
		{"phone DDD 0", with(func(p *Payload) { p.Chave = "+5501987654321" }), "chave"},
		{"phone mobile not 9", with(func(p *Payload) { p.Chave = "+5511887654321" }), "chave"},
		{"phone without plus", with(func(p *Payload) { p.Chave = "5511987654321" }), "chave"},
		{"EVP not hex", with(func(p *Payload) { p.Chave = "123e4567-e12b-12d1-a456-42665544000g" }), "chave"},
		{"EVP short", with(func(p *Payload) { p.Chave = "123e4567-e12b-12d1-a456-42665544000" }), "chave"},
		{"unknown key", with(func(p *Payload) { p.Chave = "minha-chave" }), "chave"},
		{"empty name", with(func(p *Payload) { p.NomeRecebedor = "" }), "nome_recebedor"},
		{"blank name", with(func(p *Payload) { p.NomeRecebedor = " \u00a0 " }), "nome_recebedor"},
		{"name too long", with(func(p *Payload) { p.NomeRecebedor = strings.Repeat("N", 26) }), "nome_recebedor"},
		{"name too long after ß", with(func(p *Payload) { p.NomeRecebedor = strings.Repeat("ß", 13) }), "nome_recebedor"},
		{"name emoji", with(func(p *Payload) { p.NomeRecebedor = "Bar 🍺" }), "nome_recebedor"},
		{"name newline", with(func(p *Payload) { p.NomeRecebedor = "Bar\nda Esquina" }), "nome_recebedor"},
		{"name invalid UTF-8", with(func(p *Payload) { p.NomeRecebedor = "Bar \xff" }), "nome_recebedor"},
		{"name CJK", with(func(p *Payload) { p.NomeRecebedor = "東京" }), "nome_recebedor"},
		{"empty city", with(func(p *Payload) { p.Cidade = "" }), "cidade"},
		{"city too long", with(func(p *Payload) { p.Cidade = "Sao Jose dos Campos" }), "cidade"},
		{"city tab", with(func(p *Payload) { p.Cidade = "Rio\tJaneiro" }), "cidade"},
		{"negative amount", with(func(p *Payload) { p.ValorCentavos = -1 }), "valor_centavos"},
		{"amount too large", with(func(p *Payload) { p.ValorCentavos = MaxValorCentavos + 1 }), "valor_centavos"},
		{"amount 10^13", with(func(p *Payload) { p.ValorCentavos = 10_000_000_000_000 }), "valor_centavos"},
		{"txid too long", with(func(p *Payload) { p.TxID = strings.Repeat("T", 26) }), "txid"},
		{"txid hyphen", with(func(p *Payload) { p.TxID = "PEDIDO-1" }), "txid"},
		{"txid space", with(func(p *Payload) { p.TxID = "PEDIDO 1" }), "txid"},
		{"txid accent", with(func(p *Payload) { p.TxID = "PEDIDOÇ" }), "txid"},
		{"txid stars", with(func(p *Payload) { p.TxID = "**" }), "txid"},
		{"description too long", with(func(p *Payload) { p.Descricao = strings.Repeat("d", 38) }), "descricao"},
		{"description emoji", with(func(p *Payload) { p.Descricao = "obrigado 🙏" }), "descricao"},
		{"description with longest key", with(func(p *Payload) {
			p.Chave = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 8) + ".com"
			p.Descricao = "x"
		}), "descricao"},
	} {
		_, err := Build(tc.p)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Build = %v, want a FieldError", tc.name, err)
			continue
		}
		if fe.Field != tc.field {
			t.Errorf("%s: FieldError on %q (%s), want %q", tc.name, fe.Field, fe.Reason, tc.field)
		}
		if fe.Reason == "" || fe.Error() != fe.Field+": "+fe.Reason {
			t.Errorf("%s: bad error text %q", tc.name, fe.Error())
		}
	}
}

func TestDescricaoLimit(t *testing.T) {
	// Field 26 is at most 99 characters: 18 for the GUI, 4 + key, 4 + text.
	for _, chave := range []string{"52998224725", "11222333000181", "+5511987654321", bcbChave, "a@b.co"} {
		limit := 99 - 18 - 4 - len(chave) - 4
		p := Payload{Chave: chave, NomeRecebedor: "N", Cidade: "C", Descricao: strings.Repeat("d", limit)}
		s, err := Build(p)
		if err != nil {
			t.Fatalf("%s with %d-character description: %v", chave, limit, err)
		}
		if !strings.Contains(s, "2699") {
			t.Fatalf("%s: field 26 is not 99 long: %s", chave, s)
		}
		p.Descricao += "d"
		var fe *FieldError
		if _, err := Build(p); !errors.As(err, &fe) || fe.Field != "descricao" {
			t.Fatalf("%s with %d-character description: %v", chave, limit+1, err)
		}
	}
}

func TestTransliterate(t *testing.T) {
	for in, want := range map[string]string{
		"São Paulo":             "Sao Paulo",
		"CONCEIÇÃO DO ARAGUAIA": "CONCEICAO DO ARAGUAIA",
		"Sa\u0303o Paulo":       "Sao Paulo", // decomposed (NFD)
		"Ærøskøbing":            "AEroskobing",
		"Straße":                "Strasse",
		"Łódź":                  "Lodz",
		"d’Ávila “Zé” – bar…":   `d'Avila "Ze" - bar...`,
		"àáâãäåèéêëìíîïòóôõöùúûüýÿñç": "aaaaaaeeeeiiiiooooouuuuyync",
		"ÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝÑÇ":  "AAAAAAEEEEIIIIOOOOOUUUUYNC",
		"1º andar, 2ª vez":             "1o andar, 2a vez",
		"plain ASCII ~!@#$%^&*()_+{}|": "plain ASCII ~!@#$%^&*()_+{}|",
	} {
		got, bad, ok := toASCII(in)
		if !ok || got != want {
			t.Errorf("toASCII(%q) = %q, %q, %v; want %q", in, got, bad, ok, want)
		}
	}
	for _, in := range []string{"🍺", "東京", "a\tb", "a\x7fb", "\xff", "×", "€"} {
		if got, _, ok := toASCII(in); ok {
			t.Errorf("toASCII(%q) = %q, want failure", in, got)
		}
	}
	// An encoded U+FFFD is not mistaken for invalid UTF-8, and is refused
	// all the same.
	if _, bad, ok := toASCII("a\uFFFDb"); ok || bad != '\uFFFD' {
		t.Errorf("U+FFFD: %q, %v", bad, ok)
	}
	// Every table entry is printable ASCII.
	for r, s := range translit {
		if a, _, ok := toASCII(s); !ok || a != s || s == "" {
			t.Errorf("translit[%q] = %q", r, s)
		}
	}
}

func TestParseCorrupted(t *testing.T) {
	// Every single-character change is caught by the CRC or the structure.
	for i := 0; i < len(bcbVector); i++ {
		for _, c := range []byte{'0', '7', 'A', 'z', ' '} {
			if bcbVector[i] == c {
				continue
			}
			b := []byte(bcbVector)
			b[i] = c
			if p, err := Parse(string(b)); err == nil {
				t.Fatalf("changed %d to %q: Parse = %+v", i, c, p)
			}
		}
	}
	n := len(bcbVector)
	for name, text := range map[string]string{
		"last CRC digit":  bcbVector[:n-1] + "E",
		"CRC swapped":     bcbVector[:n-4] + "3D1D",
		"body changed":    strings.Replace(bcbVector, "Fulano", "Fulana", 1),
		"amount inserted": strings.Replace(bcbVector, "5802BR", "540510.005802BR", 1),
	} {
		if _, err := Parse(text); !errors.Is(err, ErrCRC) {
			t.Errorf("%s: Parse = %v, want ErrCRC", name, err)
		}
	}
	// Surrounding white space is ignored.
	if _, err := Parse("  " + bcbVector + "\r\n"); err != nil {
		t.Errorf("with white space around: %v", err)
	}
	// Lower-case CRC digits are accepted.
	if _, err := Parse(bcbVector[:n-4] + "1d3d"); err != nil {
		t.Errorf("lower-case CRC: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	const acct = "2658" + "0014br.gov.bcb.pix" + "0136" + bcbChave
	const rest = "52040000" + "5303986" + "5802BR" + "5913Fulano de Tal" + "6008BRASILIA" + "62070503***" + "6304"
	for _, tc := range []struct {
		name, text string
		want       error
	}{
		{"empty", "", ErrMalformed},
		{"no CRC", bcbVector[:len(bcbVector)-8], ErrMalformed},
		{"CRC not hex", bcbVector[:len(bcbVector)-4] + "XYZW", ErrMalformed},
		{"non-ASCII", strings.Replace(bcbVector, "Fulano", "Fulanõ", 1), ErrMalformed},
		{"newline", strings.Replace(bcbVector, "Fulano de", "Fulano\nde", 1), ErrMalformed},
		{"first field not 00", withCRC(acct + "000201" + rest), ErrMalformed},
		{"format 02", withCRC("000202" + acct + rest), ErrUnsupported},
		{"length overrun", withCRC("000201" + "2699" + "0014br.gov.bcb.pix" + rest), ErrMalformed},
		{"truncated header", withCRC("000201" + acct + rest[:len(rest)-4] + "62" + "6304"), ErrMalformed},
		{"non-digit id", withCRC("000201" + acct + "5A040000" + rest[8:]), ErrMalformed},
		{"zero length", withCRC("000201" + acct + "6100" + rest), ErrMalformed},
		{"repeated field", withCRC("000201" + acct + "5802BR" + rest), ErrMalformed},
		{"repeated CRC", withCRC("000201" + acct + "63041D3D" + rest), ErrMalformed},
		{"repeated sub-field", withCRC("000201" + "2663" + "0014br.gov.bcb.pix" + "0136" + bcbChave + "0101x" + rest), ErrMalformed},
		{"bad initiation", withCRC("000201" + "010213" + acct + rest), ErrMalformed},
		{"no merchant account", withCRC("000201" + rest), ErrMalformed},
		{"not PIX", withCRC("000201" + "2618" + "0014br.gov.xyz.abc" + rest), ErrUnsupported},
		{"two PIX accounts", withCRC("000201" + acct + "27" + acct[2:] + rest), ErrMalformed},
		{"no key", withCRC("000201" + "2618" + "0014br.gov.bcb.pix" + rest), ErrMalformed},
		{"dynamic", withCRC("000201" + "2650" + "0014br.gov.bcb.pix" + "2528pix.example.com/qr/v2/abc123" + rest), ErrUnsupported},
		{"no 52", withCRC("000201" + acct + rest[8:]), ErrMalformed},
		{"bad 52", withCRC("000201" + acct + "5204ABCD" + rest[8:]), ErrMalformed},
		{"USD", withCRC("000201" + acct + "52040000" + "5303840" + rest[15:]), ErrUnsupported},
		{"no 53", withCRC("000201" + acct + "52040000" + rest[15:]), ErrMalformed},
		{"country", withCRC("000201" + acct + strings.Replace(rest, "5802BR", "5802PT", 1)), ErrUnsupported},
		{"no name", withCRC("000201" + acct + strings.Replace(rest, "5913Fulano de Tal", "", 1)), ErrMalformed},
		{"bad 62", withCRC("000201" + acct + strings.Replace(rest, "62070503***", "6203abc", 1)), ErrMalformed},
	} {
		if p, err := Parse(tc.text); !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse(%q) = %+v, %v; want %v", tc.name, tc.text, p, err, tc.want)
		}
	}
}

func TestParseFieldErrors(t *testing.T) {
	const acct = "2658" + "0014br.gov.bcb.pix" + "0136" + bcbChave
	for _, tc := range []struct{ text, field string }{
		{"000201" + tlvString("26", "0014br.gov.bcb.pix"+"011152998224724") + "52040000" + "5303986" + "5802BR" + "5901N" + "6001C" + "6304", "chave"},
		{"000201" + acct + "52040000" + "5303986" + "5802BR" + "5930" + strings.Repeat("N", 30) + "6001C" + "6304", "nome_recebedor"},
		{"000201" + acct + "52040000" + "5303986" + "5802BR" + "5901N" + "6016" + strings.Repeat("C", 16) + "6304", "cidade"},
		{"000201" + acct + "52040000" + "5303986" + "5802BR" + "5901N" + "6001C" + "62090505AB-CD" + "6304", "txid"},
		{"000201" + acct + "52040000" + "5303986" + "5403abc" + "5802BR" + "5901N" + "6001C" + "6304", "valor_centavos"},
	} {
		_, err := Parse(withCRC(tc.text))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("Parse(%s) = %v, want FieldError %s", tc.text, err, tc.field)
		}
	}
}

// TestParseOthers reads codes with fields Build does not write, as banks
// and other generators produce them.
func TestParseOthers(t *testing.T) {
	text := withCRC("000201" + "010212" +
		tlvString("26", "0014BR.GOV.BCB.PIX"+"0114+5561912345678"+"0211Mensalidade"+"0306abcdef") +
		"27300012br.com.other0110qualquer12" +
		"52045812" + "5303986" + "54031.5" + "5802BR" + "5910Joao Silva" + "6008BRASILIA" +
		"610870000000" +
		"6229" + "0510ABC123XYZ9" + "5011ab-cd ef:gh" +
		"6420" + "0002pt" + "0110Joao Silva" +
		tlvString("80", "0011example.com") +
		"6304")
	p, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := Payload{Chave: "+5561912345678", NomeRecebedor: "Joao Silva", Cidade: "BRASILIA", ValorCentavos: 150, TxID: "ABC123XYZ9", Descricao: "Mensalidade"}
	if p != want {
		t.Fatalf("Parse = %+v, want %+v", p, want)
	}
	// Fields in another order; no field 62.
	text = withCRC("000201" + "5802BR" + "5303986" + "5901N" + "52040000" + "6001C" + "2640" + "0014br.gov.bcb.pix" + "0118fulano@example.com" + "6304")
	p, err = Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Payload{Chave: "fulano@example.com", NomeRecebedor: "N", Cidade: "C"}); p != want {
		t.Fatalf("Parse = %+v, want %+v", p, want)
	}
}

// FuzzParse: Parse never panics, and whatever it accepts Build writes
// back into a code that parses to the same Payload.
func FuzzParse(f *testing.F) {
	f.Add(bcbVector)
	for _, p := range []Payload{
		{Chave: "52998224725", NomeRecebedor: "Loja do Ze", Cidade: "Sao Paulo", ValorCentavos: 1050, TxID: "PEDIDO123", Descricao: "Pedido 123"},
		{Chave: "12ABC34501DE35", NomeRecebedor: "N", Cidade: "C", ValorCentavos: MaxValorCentavos},
		{Chave: "+5561912345678", NomeRecebedor: "N", Cidade: "C", ValorCentavos: 1},
		{Chave: "fulano@example.com", NomeRecebedor: "N", Cidade: "C", Descricao: "x"},
	} {
		s, err := Build(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
	}
	f.Add(withCRC("000201" + "010212" + tlvString("26", "0014BR.GOV.BCB.PIX"+"0114+5561912345678"+"0211Mensalidade"+"0306abcdef") +
		"52045812" + "5303986" + "54031.5" + "5802BR" + "5910Joao Silva" + "6008BRASILIA" + "6229" + "0510ABC123XYZ9" + "5011ab-cd ef:gh" + "6304"))
	check := func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			var fe *FieldError
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrCRC) && !errors.Is(err, ErrUnsupported) && !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		s, err := Build(p)
		if err != nil {
			t.Fatalf("Parse(%q) gave %+v, which Build refuses: %v", text, p, err)
		}
		p2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(Build(%+v)) = %v", p, err)
		}
		if p2 != p {
			t.Fatalf("round trip of %q changed the payload:\n%+v\n%+v", text, p, p2)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		check(t, text)
		// The fuzzer would hardly ever guess a CRC: also try the text
		// with a correct one, so that mutations reach the field checks.
		body := text
		if n := len(text); n >= 8 && text[n-8:n-4] == "6304" {
			body = text[:n-8]
		}
		check(t, withCRC(body+"6304"))
	})
}

// FuzzBuild: Build never panics, writes only printable ASCII, and what it
// writes parses back to the normalised payload.
func FuzzBuild(f *testing.F) {
	f.Add(bcbChave, "Fulano de Tal", "BRASILIA", int64(0), "", "")
	f.Add("529.982.247-25", "José", "São Paulo", int64(1050), "PEDIDO1", "Café")
	f.Add("+5561912345678", "N", "C", int64(MaxValorCentavos), "***", "d")
	f.Fuzz(func(t *testing.T, chave, nome, cidade string, valor int64, txid, desc string) {
		p := Payload{Chave: chave, NomeRecebedor: nome, Cidade: cidade, ValorCentavos: valor, TxID: txid, Descricao: desc}
		s, err := Build(p)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Build error %T: %v", err, err)
			}
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				t.Fatalf("Build = %q: not printable ASCII", s)
			}
		}
		got, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(Build(%+v)) = %v", p, err)
		}
		n, _ := normalize(p)
		if got != n {
			t.Fatalf("Parse(Build(p)) = %+v, want %+v", got, n)
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	p := Payload{Chave: "52998224725", NomeRecebedor: "Loja do Zé", Cidade: "São Paulo", ValorCentavos: 1050, TxID: "PEDIDO123", Descricao: "Pedido 123"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bcbVector); err != nil {
			b.Fatal(err)
		}
	}
}
