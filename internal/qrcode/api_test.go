package qrcode

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/qrcode/token"
	"github.com/painel-universal/painel/internal/store"
	"github.com/painel-universal/painel/internal/testenv"
)

type fixture struct {
	svc *Service
	ts  *httptest.Server
	st  *store.Store
}

func newKeys(t testing.TB) *token.Keyring {
	t.Helper()
	k, err := token.NewKeyring(1, map[uint8][]byte{1: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openStore(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func newFixtureOn(t testing.TB, url string) *fixture {
	t.Helper()
	st := openStore(t, url)
	svc := NewService(st, newKeys(t), nil)
	srv := httpapi.New(httpapi.Options{MaxBodyBytes: 4 << 20})
	Register(srv.API, svc, nil)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{svc: svc, ts: ts, st: st}
}

func newFixture(t testing.TB) *fixture { return newFixtureOn(t, "") }

func (f *fixture) post(t testing.TB, path string, body any, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func (f *fixture) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(f.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func decodeJSON[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %v: %s", err, b)
	}
	return v
}

// issue generates a code and checks the common response fields.
func (f *fixture) issue(t testing.TB, kind Kind, body map[string]any) Issued {
	t.Helper()
	res, b := f.post(t, "/qr-codes/"+string(kind), body)
	if res.StatusCode != 200 {
		t.Fatalf("POST /qr-codes/%s: %d %s", kind, res.StatusCode, b)
	}
	is := decodeJSON[Issued](t, b)
	if is.ID == "" || is.Tipo != kind || is.Conteudo == "" || is.Versao < 1 || is.NivelCorrecao == "" ||
		is.CriadoEm.IsZero() || !strings.HasPrefix(is.Imagem, "data:image/png;base64,") {
		t.Fatalf("incomplete response: %s", b)
	}
	return is
}

// scan decodes a data URI PNG as a scanner would.
func scan(t testing.TB, dataURI string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(dataURI[strings.Index(dataURI, ",")+1:])
	if err != nil {
		t.Fatal(err)
	}
	text, err := DecodeBytes(raw)
	if err != nil {
		t.Fatalf("the returned image does not scan: %v", err)
	}
	return text
}

var (
	cpfValido = "529.982.247-25"
	checkin   = map[string]any{"evento_id": "festival-2026", "evento_nome": "Festival de Verão",
		"participante": map[string]any{"nome": "João da Conceição", "documento": cpfValido}}
)

func kindBodies() map[Kind]map[string]any {
	return map[Kind]map[string]any{
		KindCheckin:       checkin,
		KindEvento:        {"evento_id": "festival-2026", "nome": "Festival de Verão", "local": "Praça da Sé, São Paulo", "data": "2026-12-20T20:00:00Z"},
		KindMesa:          {"evento_id": "bar-central", "mesa": "12", "evento_nome": "Bar Central"},
		KindComanda:       {"numero": "0042", "evento_id": "bar-central", "saldo_inicial_centavos": 5000},
		KindProduto:       {"produto_id": "cerveja-600", "nome": "Cerveja 600 ml", "preco_centavos": 1290, "codigo": "7891234567895"},
		KindURL:           {"url": "https://exemplo.com.br/cardápio?mesa=12", "titulo": "Cardápio"},
		KindPersonalizado: {"dados": map[string]any{"aviso": "Promoção: pão de queijo R$ 5,00"}},
		KindPix:           {"chave": "123e4567-e12b-12d1-a456-426655440000", "nome_recebedor": "Fulano de Tal", "cidade": "BRASILIA"},
	}
}

func TestEveryKindIssuesAScannableCode(t *testing.T) {
	f := newFixture(t)
	for kind, body := range kindBodies() {
		t.Run(string(kind), func(t *testing.T) {
			is := f.issue(t, kind, body)
			if got := scan(t, is.Imagem); got != is.Conteudo {
				t.Errorf("scanned %q, want %q", got, is.Conteudo)
			}
			res, b := f.get(t, "/qr-codes/"+is.ID)
			if res.StatusCode != 200 || decodeJSON[Record](t, b).Conteudo != is.Conteudo {
				t.Errorf("GET /qr-codes/%s: %d %s", is.ID, res.StatusCode, b)
			}
		})
	}
}

func TestCheckinTicketIsCompactAndPrivate(t *testing.T) {
	f := newFixture(t)
	is := f.issue(t, KindCheckin, checkin)
	if !token.Looks(is.Conteudo) || is.Versao > 5 || is.NivelCorrecao != "M" {
		t.Errorf("ticket %q: version %d level %s; want 198 digits in version <= 5 at M", is.Conteudo, is.Versao, is.NivelCorrecao)
	}
	for _, private := range []string{"João", "52998224725", "529.982"} {
		if strings.Contains(is.Conteudo, private) {
			t.Errorf("the code carries personal data %q", private)
		}
	}
}

func TestPixVectorThroughAPI(t *testing.T) {
	f := newFixture(t)
	is := f.issue(t, KindPix, kindBodies()[KindPix])
	const want = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
	if is.Conteudo != want {
		t.Errorf("PIX payload\n got %s\nwant %s", is.Conteudo, want)
	}
	for field, body := range map[string]map[string]any{
		"nome_recebedor": {"chave": "123e4567-e12b-12d1-a456-426655440000", "nome_recebedor": strings.Repeat("x", 26), "cidade": "BRASILIA"},
		"cidade":         {"chave": "123e4567-e12b-12d1-a456-426655440000", "nome_recebedor": "Fulano", "cidade": strings.Repeat("x", 16)},
		"chave":          {"chave": "não é chave", "nome_recebedor": "Fulano", "cidade": "BRASILIA"},
		"txid":           {"chave": "123e4567-e12b-12d1-a456-426655440000", "nome_recebedor": "Fulano", "cidade": "BRASILIA", "txid": "com espaço"},
	} {
		res, b := f.post(t, "/qr-codes/pix", body)
		if res.StatusCode != 422 || !strings.Contains(string(b), field) {
			t.Errorf("invalid %s: %d %s", field, res.StatusCode, b)
		}
	}
}

func TestFormats(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ query, accept, media, magic string }{
		{"?formato=png", "", "image/png", "\x89PNG"},
		{"?formato=svg", "", "image/svg+xml", "<"},
		{"?formato=pdf", "", "application/pdf", "%PDF"},
		{"?formato=eps", "", "application/postscript", "%!PS"},
		{"?formato=txt", "", "text/plain; charset=utf-8", ""},
		{"", "image/png", "image/png", "\x89PNG"},
		{"", "application/pdf", "application/pdf", "%PDF"},
	} {
		hdr := []string{}
		if tc.accept != "" {
			hdr = []string{"Accept", tc.accept}
		}
		res, b := f.post(t, "/qr-codes/url"+tc.query, map[string]any{"url": "https://exemplo.com.br"}, hdr...)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.media || !bytes.HasPrefix(b, []byte(tc.magic)) {
			t.Errorf("%s%s: %d %q %.20q", tc.query, tc.accept, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
	}
	is := f.issue(t, KindURL, map[string]any{"url": "https://exemplo.com.br/x"})
	res, b := f.get(t, "/qr-codes/"+is.ID+"/imagem?formato=png&estilo=circulo&cor=%23123456")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("imagem: %d %s", res.StatusCode, b)
	}
	if got, err := DecodeBytes(b); err != nil || got != is.Conteudo {
		t.Errorf("re-rendered image reads %q, %v", got, err)
	}
	if res, _ := f.get(t, "/qr-codes/naoexiste/imagem"); res.StatusCode != 404 {
		t.Errorf("imagem of unknown id: %d", res.StatusCode)
	}
}

func TestStylesAndColoursScan(t *testing.T) {
	f := newFixture(t)
	for _, estilo := range []string{"quadrado", "redondo", "circulo"} {
		for _, cores := range [][2]string{{"#000000", "#ffffff"}, {"#1a237e", "#fffde7"}} {
			body := map[string]any{"url": "https://exemplo.com.br/evento/ação", "estilo": estilo, "cor": cores[0], "cor_fundo": cores[1], "texto": "Ingresso — João"}
			is := f.issue(t, KindURL, body)
			if got := scan(t, is.Imagem); got != is.Conteudo {
				t.Errorf("%s %v: scanned %q", estilo, cores, got)
			}
		}
	}
}

func logoPNG(t testing.TB, size int) string {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), 0, uint8(y * 4), 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestLogoForcesLevelH(t *testing.T) {
	f := newFixture(t)
	is := f.issue(t, KindURL, map[string]any{"url": "https://exemplo.com.br", "logo": logoPNG(t, 64)})
	if is.NivelCorrecao != "H" {
		t.Errorf("level %s with a logo, want H", is.NivelCorrecao)
	}
	if got := scan(t, is.Imagem); got != is.Conteudo {
		t.Errorf("logo code scanned %q", got)
	}
}

func TestBadInputIsProblemNamingTheField(t *testing.T) {
	f := newFixture(t)
	withCPF := func(doc string) map[string]any {
		return map[string]any{"evento_id": "e", "participante": map[string]any{"nome": "Ana", "documento": doc}}
	}
	for _, tc := range []struct {
		path  string
		body  any
		code  int
		field string
	}{
		{"/qr-codes/checkin", withCPF("111.111.111-11"), 422, "participante.documento"},
		{"/qr-codes/checkin", withCPF("529.982.247-24"), 422, "participante.documento"},
		{"/qr-codes/checkin", map[string]any{"evento_id": "e", "participante": map[string]any{"nome": "Ana", "documento": cpfValido}, "valido_ate": "2001-01-01T00:00:00Z"}, 422, "valido_ate"},
		{"/qr-codes/url", map[string]any{"url": "javascript:alert(1)"}, 422, "url"},
		{"/qr-codes/url", map[string]any{"url": "ftp://exemplo.com.br/x"}, 422, "url"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "cor": "#777777", "cor_fundo": "#888888"}, 422, "cor"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "cor": "#ffffff", "cor_fundo": "#000000"}, 422, "cor"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "cor": "azul"}, 422, "cor"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "borda": 1}, 422, "borda"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "estilo": "estrela"}, 422, "estilo"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "logo": "bm90IGFuIGltYWdl"}, 422, "logo"},
		{"/qr-codes/url", map[string]any{"url": "https://exemplo.com.br", "campo_extra": 1}, 422, "campo_extra"},
		{"/qr-codes/url", `{"url": "https://exemplo.com.br"`, 400, "body"},
		{"/qr-codes/personalizado", map[string]any{"dados": 42}, 422, "dados"},
		{"/qr-codes/personalizado", map[string]any{"dados": strings.Repeat("á", 2001)}, 422, "dados"},
		{"/qr-codes/comanda", map[string]any{"numero": "1", "evento_id": "e", "saldo_inicial_centavos": -5}, 422, "saldo_inicial_centavos"},
		{"/qr-codes/estatisticas", map[string]any{"texto": strings.Repeat("x", 7000), "nivel_correcao": "H"}, 422, "texto"},
		{"/qr-codes/url?formato=gif", map[string]any{"url": "https://exemplo.com.br"}, 422, "formato"},
	} {
		res, b := f.post(t, tc.path, tc.body)
		if res.StatusCode != tc.code || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), tc.field) {
			t.Errorf("%s %v: %d %s; want %d naming %s", tc.path, tc.body, res.StatusCode, b, tc.code, tc.field)
		}
	}
	var n int
	_ = f.st.DB.QueryRow(`SELECT COUNT(*) FROM qr_codes`).Scan(&n)
	if n != 0 {
		t.Errorf("%d codes recorded by failed requests", n)
	}
}

type validacao = Validacao

func (f *fixture) validate(t testing.TB, body map[string]any) validacao {
	t.Helper()
	res, b := f.post(t, "/qr-codes/validar", body)
	if res.StatusCode != 200 {
		t.Fatalf("validar: %d %s", res.StatusCode, b)
	}
	return decodeJSON[validacao](t, b)
}

func TestValidationCannotBeFooled(t *testing.T) {
	f := newFixture(t)
	is := f.issue(t, KindCheckin, checkin)
	ok := f.validate(t, map[string]any{"conteudo": is.Conteudo})
	if !ok.Valido || ok.Participante == nil || ok.Participante.Nome != "João da Conceição" || ok.Participante.Documento != "***.982.247-**" {
		t.Fatalf("valid ticket: %+v", ok)
	}
	// Forged: every single-digit change is refused.
	for i := 0; i < len(is.Conteudo); i += 7 {
		b := []byte(is.Conteudo)
		b[i] = '0' + (b[i]-'0'+1)%10
		v := f.validate(t, map[string]any{"conteudo": string(b)})
		if v.Valido || (v.Motivo != MotivoAssinaturaInvalida && v.Motivo != MotivoMalformado) {
			t.Fatalf("digit %d changed: %+v", i, v)
		}
	}
	// Signed by another key.
	other, _ := token.NewKeyring(1, map[uint8][]byte{1: bytes.Repeat([]byte{9}, 32)})
	forged, _ := other.Sign(token.Claims{Kind: token.Checkin, ID: [8]byte{1, 2, 3}})
	if v := f.validate(t, map[string]any{"conteudo": forged}); v.Valido || v.Motivo != MotivoAssinaturaInvalida {
		t.Errorf("other key: %+v", v)
	}
	for text, motivo := range map[string]string{
		is.Conteudo[:197]:           MotivoMalformado,
		"https://nao-emitido.com":   MotivoDesconhecido,
		`{"participante":"x"}`:      MotivoDesconhecido,
		strings.Repeat("9", 198):    MotivoMalformado,
		is.Conteudo + "0":           MotivoMalformado,
		"0" + is.Conteudo[1:] + "x": MotivoDesconhecido,
	} {
		if v := f.validate(t, map[string]any{"conteudo": text}); v.Valido || v.Motivo != motivo {
			t.Errorf("%.30q: %+v, want %s", text, v, motivo)
		}
	}
	if res, b := f.post(t, "/qr-codes/validar", map[string]any{"conteudo": " "}); res.StatusCode != 422 || !strings.Contains(string(b), "conteudo") {
		t.Errorf("blank conteudo: %d %s", res.StatusCode, b)
	}
	// Wrong kind and wrong event.
	if v := f.validate(t, map[string]any{"conteudo": is.Conteudo, "tipo_esperado": "comanda"}); v.Valido || v.Motivo != MotivoTipoIncorreto {
		t.Errorf("tipo_esperado: %+v", v)
	}
	if v := f.validate(t, map[string]any{"conteudo": is.Conteudo, "evento_id": "outro"}); v.Valido || v.Motivo != MotivoTipoIncorreto {
		t.Errorf("evento_id: %+v", v)
	}
	// Replay: the first redeem wins, the second says when.
	first := f.validate(t, map[string]any{"conteudo": is.Conteudo, "consumir": true, "operador": "porta 1", "local": "portão A"})
	if !first.Valido || !first.Consumido {
		t.Fatalf("first redeem: %+v", first)
	}
	again := f.validate(t, map[string]any{"conteudo": is.Conteudo, "consumir": true})
	if again.Valido || again.Motivo != MotivoJaUtilizado || again.UsadoEm == nil || again.UsadoLocal != "portão A" {
		t.Errorf("replay: %+v", again)
	}
	// Revoked.
	mesa := f.issue(t, KindMesa, kindBodies()[KindMesa])
	if res, b := f.post(t, "/qr-codes/"+mesa.ID+"/revogar", map[string]any{"motivo": "mesa quebrada"}); res.StatusCode != 200 {
		t.Fatalf("revogar: %d %s", res.StatusCode, b)
	}
	if v := f.validate(t, map[string]any{"conteudo": mesa.Conteudo}); v.Valido || v.Motivo != MotivoRevogado || v.Detalhe != "mesa quebrada" {
		t.Errorf("revoked: %+v", v)
	}
	if res, _ := f.post(t, "/qr-codes/naoexiste/revogar", map[string]any{}); res.StatusCode != 404 {
		t.Errorf("revoke unknown: %d", res.StatusCode)
	}
	// Known non-token codes validate by content.
	u := f.issue(t, KindURL, map[string]any{"url": "https://exemplo.com.br/valida"})
	if v := f.validate(t, map[string]any{"conteudo": u.Conteudo}); !v.Valido || v.Tipo != KindURL {
		t.Errorf("url code: %+v", v)
	}
}

func TestExpiredTicket(t *testing.T) {
	f := newFixture(t)
	exp := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	body := map[string]any{"evento_id": "e", "participante": map[string]any{"nome": "Ana", "documento": cpfValido}, "valido_ate": exp}
	is := f.issue(t, KindCheckin, body)
	if v := f.validate(t, map[string]any{"conteudo": is.Conteudo}); !v.Valido {
		t.Fatalf("before expiry: %+v", v)
	}
	f.svc.now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	v := f.validate(t, map[string]any{"conteudo": is.Conteudo, "consumir": true})
	if v.Valido || v.Motivo != MotivoExpirado || v.Consumido {
		t.Errorf("after expiry: %+v", v)
	}
}

func TestValidateUploadedImage(t *testing.T) {
	f := newFixture(t)
	is := f.issue(t, KindCheckin, checkin)
	raw, _ := base64.StdEncoding.DecodeString(is.Imagem[strings.Index(is.Imagem, ",")+1:])
	send := func(file []byte, fields map[string]string) (*http.Response, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if file != nil {
			w, _ := mw.CreateFormFile("imagem", "foto.png")
			w.Write(file)
		}
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		mw.Close()
		res, err := http.Post(f.ts.URL+"/qr-codes/validar", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, b := send(raw, map[string]string{"consumir": "true", "local": "portão B"})
	v := decodeJSON[validacao](t, b)
	if res.StatusCode != 200 || !v.Valido || !v.Consumido {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	for name, tc := range map[string]struct {
		file   []byte
		fields map[string]string
		field  string
	}{
		"not an image": {[]byte("texto"), nil, "imagem"},
		"no code":      {mustPNG(image.NewGray(image.Rect(0, 0, 50, 50))), nil, "imagem"},
		"no file":      {nil, nil, "imagem"},
		"bad bool":     {raw, map[string]string{"consumir": "talvez"}, "consumir"},
	} {
		res, b := send(tc.file, tc.fields)
		if res.StatusCode != 422 || !strings.Contains(string(b), tc.field) {
			t.Errorf("%s: %d %s", name, res.StatusCode, b)
		}
	}
	req, _ := http.NewRequest("POST", f.ts.URL+"/qr-codes/validar", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 415 {
		t.Errorf("text/plain: %d", res.StatusCode)
	}
}

func mustPNG(img image.Image) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// TestConcurrentRedeem: 50 concurrent redeems of one ticket yield exactly
// one success, on SQLite and PostgreSQL.
func TestConcurrentRedeem(t *testing.T) {
	run := func(t *testing.T, f *fixture) {
		is := f.issue(t, KindCheckin, checkin)
		var wins, used atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				v, err := f.svc.Validate(context.Background(), ValidarInput{Conteudo: is.Conteudo, Consumir: true, Operador: fmt.Sprint("porta ", i)})
				if err != nil {
					t.Errorf("redeem %d: %v", i, err)
					return
				}
				switch {
				case v.Valido && v.Consumido:
					wins.Add(1)
				case v.Motivo == MotivoJaUtilizado:
					used.Add(1)
				default:
					t.Errorf("redeem %d: %+v", i, v)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || used.Load() != 49 {
			t.Errorf("%d successes and %d ja_utilizado, want 1 and 49", wins.Load(), used.Load())
		}
		var usos int
		_ = f.st.DB.QueryRow(`SELECT usos FROM qr_codes WHERE id = $1`, is.ID).Scan(&usos)
		if usos != 1 {
			t.Errorf("usos = %d, want 1", usos)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, newFixtureOn(t, testenv.FreshPostgresURL(t))) })
}

func TestComanda(t *testing.T) {
	run := func(t *testing.T, f *fixture) {
		is := f.issue(t, KindComanda, map[string]any{"numero": "0042", "evento_id": "bar", "saldo_inicial_centavos": 100})
		saldo := func() int64 {
			res, b := f.get(t, "/qr-codes/comandas/"+is.ID+"/saldo")
			if res.StatusCode != 200 {
				t.Fatalf("saldo: %d %s", res.StatusCode, b)
			}
			return decodeJSON[Saldo](t, b).SaldoCentavos
		}
		mov := func(tipo string, valor int64, key string) (*http.Response, Movimento) {
			res, b := f.post(t, "/qr-codes/comandas/"+is.ID+"/movimentos",
				map[string]any{"tipo": tipo, "valor_centavos": valor, "descricao": "teste", "chave_idempotencia": key})
			var m Movimento
			_ = json.Unmarshal(b, &m)
			return res, m
		}
		if s := saldo(); s != 100 {
			t.Fatalf("initial balance %d", s)
		}
		res, m := mov("debito", 30, "k1")
		if res.StatusCode != 200 || m.SaldoAposCentavos != 70 || m.Repetido {
			t.Fatalf("debit: %d %+v", res.StatusCode, m)
		}
		res, m2 := mov("debito", 30, "k1")
		if res.StatusCode != 200 || !m2.Repetido || m2.ID != m.ID || saldo() != 70 {
			t.Errorf("repeated key: %d %+v balance %d", res.StatusCode, m2, saldo())
		}
		if res, _ := mov("debito", 31, "k1"); res.StatusCode != 409 {
			t.Errorf("same key, other amount: %d", res.StatusCode)
		}
		if res, _ := mov("debito", 71, "k2"); res.StatusCode != 409 || saldo() != 70 {
			t.Errorf("debit past zero: %d balance %d", res.StatusCode, saldo())
		}
		if res, m := mov("credito", 30, "k3"); res.StatusCode != 200 || m.SaldoAposCentavos != 100 {
			t.Errorf("credit: %d %+v", res.StatusCode, m)
		}
		for _, bad := range []map[string]any{
			{"tipo": "saque", "valor_centavos": 1, "chave_idempotencia": "x"},
			{"tipo": "debito", "valor_centavos": 0, "chave_idempotencia": "x"},
			{"tipo": "debito", "valor_centavos": 1},
		} {
			if res, b := f.post(t, "/qr-codes/comandas/"+is.ID+"/movimentos", bad); res.StatusCode != 422 {
				t.Errorf("%v: %d %s", bad, res.StatusCode, b)
			}
		}
		if res, _ := f.get(t, "/qr-codes/comandas/naoexiste/saldo"); res.StatusCode != 404 {
			t.Errorf("unknown comanda: %d", res.StatusCode)
		}
		// 20 concurrent debits of 10 on a balance of 100: exactly 10 succeed.
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := f.svc.Move(context.Background(), is.ID, MovimentoInput{Tipo: "debito", ValorCentavos: 10, ChaveIdempotencia: fmt.Sprint("c", i)})
				switch {
				case err == nil:
					ok.Add(1)
				case err == ErrInsufficient:
					refused.Add(1)
				default:
					t.Errorf("debit %d: %v", i, err)
				}
			}(i)
		}
		wg.Wait()
		if ok.Load() != 10 || refused.Load() != 10 || saldo() != 0 {
			t.Errorf("concurrent debits: %d ok, %d refused, balance %d", ok.Load(), refused.Load(), saldo())
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, newFixtureOn(t, testenv.FreshPostgresURL(t))) })
}

func TestStatistics(t *testing.T) {
	f := newFixture(t)
	res, b := f.post(t, "/qr-codes/estatisticas", map[string]any{"texto": "PEDIDO 0012345678901234", "nivel_correcao": "M"})
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
	s := decodeJSON[Estatisticas](t, b)
	if s.Versao < 1 || s.Modulos != 17+4*s.Versao || len(s.Segmentos) == 0 || s.BitsUsados <= 0 ||
		s.CapacidadeBits < s.BitsUsados || s.Eficiencia <= 0 || s.Eficiencia > 1 {
		t.Errorf("stats: %+v", s)
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t)
	items := []map[string]any{}
	for i := 0; i < 12; i++ {
		items = append(items, map[string]any{"tipo": "mesa-pdv", "dados": map[string]any{"evento_id": "bar", "mesa": fmt.Sprint(i + 1)}})
	}
	items = append(items,
		map[string]any{"tipo": "checkin", "dados": checkin, "texto": "João — VIP"},
		map[string]any{"tipo": "url", "dados": map[string]any{"url": "ftp://x"}},
		map[string]any{"tipo": "produto", "dados": map[string]any{"produto_id": "p", "nome": "Pão", "preco_centavos": 500, "extra": 1}},
	)
	res, b := f.post(t, "/qr-codes/lote", map[string]any{"itens": items})
	if res.StatusCode != 200 {
		t.Fatalf("json batch: %d %s", res.StatusCode, b)
	}
	r := decodeJSON[LoteResposta](t, b)
	if r.Total != 15 || r.Sucesso != 13 || r.Falhas != 2 || r.Itens[13].OK || r.Itens[13].Erro == nil ||
		!strings.Contains(r.Itens[13].Erro.Campo, "itens[13].url") || r.Itens[14].Erro == nil {
		t.Fatalf("json batch: %+v", r)
	}
	if got := scan(t, r.Itens[12].Imagem); got != r.Itens[12].Conteudo {
		t.Errorf("batch item does not scan")
	}

	res, b = f.post(t, "/qr-codes/lote", map[string]any{"itens": items, "formato": "zip", "opcoes": map[string]any{"formato": "svg"}})
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || res.Header.Get("X-Lote-Falhas") != "2" {
		t.Fatalf("zip batch: %d %v", res.StatusCode, res.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var svgs, manifest int
	for _, zf := range zr.File {
		switch {
		case strings.HasSuffix(zf.Name, ".svg"):
			svgs++
		case zf.Name == "manifesto.json":
			manifest++
		}
	}
	if svgs != 13 || manifest != 1 {
		t.Errorf("zip holds %d svgs and %d manifests", svgs, manifest)
	}

	res, b = f.post(t, "/qr-codes/lote", map[string]any{"itens": items, "formato": "pdf", "layout": map[string]any{"colunas": 3, "linhas": 4},
		"opcoes": map[string]any{"estilo": "redondo", "cor": "#1a237e"}})
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF")) ||
		res.Header.Get("X-Lote-Falhas-Indices") != "13,14" {
		t.Fatalf("pdf batch: %d %v", res.StatusCode, res.Header)
	}

	too := make([]map[string]any, MaxBatch+1)
	for i := range too {
		too[i] = items[0]
	}
	if res, _ := f.post(t, "/qr-codes/lote", map[string]any{"itens": too}); res.StatusCode != 422 && res.StatusCode != 413 {
		t.Errorf("1001 items: %d", res.StatusCode)
	}
	if res, _ := f.post(t, "/qr-codes/lote", map[string]any{"itens": []any{}}); res.StatusCode != 422 {
		t.Errorf("0 items: %d", res.StatusCode)
	}
}

func FuzzValidate(f *testing.F) {
	fx := newFixture(f)
	is := fx.issue(f, KindCheckin, checkin)
	f.Add(is.Conteudo)
	f.Add(is.Conteudo[:100])
	f.Add("https://exemplo.com.br")
	f.Add("")
	f.Add(strings.Repeat("1", 198))
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := fx.svc.Validate(context.Background(), ValidarInput{Conteudo: text})
		if err != nil {
			var fe *FieldError
			if !asField(err, &fe) {
				t.Fatalf("Validate(%q): %v", text, err)
			}
			return
		}
		if v.Valido && text != is.Conteudo {
			t.Fatalf("Validate(%q) accepted a text that was never issued", text)
		}
	})
}

// FuzzValidarHTTP sends arbitrary bodies to /qr-codes/validar as JSON,
// multipart and other content types: never a 5xx.
func FuzzValidarHTTP(f *testing.F) {
	fx := newFixture(f)
	is := fx.issue(f, KindCheckin, checkin)
	f.Add(uint8(0), []byte(`{"conteudo":"`+is.Conteudo+`","consumir":true}`))
	f.Add(uint8(0), []byte(`{"conteudo": 5}`))
	f.Add(uint8(0), []byte(`{`))
	f.Add(uint8(1), []byte("--x\r\nContent-Disposition: form-data; name=\"imagem\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--x--\r\n"))
	f.Add(uint8(1), []byte("--x\r\nContent-Disposition: form-data; name=\"conteudo\"\r\n\r\nabc\r\n--x--\r\n"))
	f.Add(uint8(2), []byte("qualquer coisa"))
	types := []string{"application/json", "multipart/form-data; boundary=x", "text/plain", "multipart/form-data", ""}
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, fx.ts.URL+"/qr-codes/validar", bytes.NewReader(body))
		if c := types[int(ct)%len(types)]; c != "" {
			req.Header.Set("Content-Type", c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%d for %q (%s): %s", res.StatusCode, body, types[int(ct)%len(types)], b)
		}
	})
}

// TestReviewFindings covers inputs a review found unsafe: bad bytes in ids
// and scanned text (PostgreSQL refuses them), privacy of the record,
// scanner line ends, tickets born expired, batch and layout limits.
func TestReviewFindings(t *testing.T) {
	run := func(t *testing.T, f *fixture) {
		is := f.issue(t, KindCheckin, checkin)
		for _, p := range []string{"/qr-codes/%ff", "/qr-codes/%00", "/qr-codes/%ff/imagem", "/qr-codes/comandas/%ff/saldo"} {
			if res, b := f.get(t, p); res.StatusCode != 404 {
				t.Errorf("GET %s: %d %s", p, res.StatusCode, b)
			}
		}
		if res, b := f.post(t, "/qr-codes/%ff/revogar", map[string]any{}); res.StatusCode != 404 {
			t.Errorf("revoke bad id: %d %s", res.StatusCode, b)
		}
		if res, b := f.post(t, "/qr-codes/comandas/%ff/movimentos", map[string]any{"tipo": "debito", "valor_centavos": 1, "chave_idempotencia": "k"}); res.StatusCode != 404 {
			t.Errorf("move bad id: %d %s", res.StatusCode, b)
		}
		if v := f.validate(t, map[string]any{"conteudo": "abc\x00def"}); v.Valido || v.Motivo != MotivoMalformado {
			t.Errorf("NUL: %+v", v)
		}
		// JSON cannot carry invalid UTF-8; multipart and decoded images can.
		if v, err := f.svc.Validate(context.Background(), ValidarInput{Conteudo: "ab\xffcd"}); err != nil || v.Motivo != MotivoMalformado {
			t.Errorf("invalid UTF-8: %+v %v", v, err)
		}
		// A custom code of 180 digits is found by its content, not taken for
		// a damaged ticket.
		digits := f.issue(t, KindPersonalizado, map[string]any{"dados": strings.Repeat("7", 180)})
		if v := f.validate(t, map[string]any{"conteudo": digits.Conteudo}); !v.Valido || v.Tipo != KindPersonalizado {
			t.Errorf("180-digit custom code: %+v", v)
		}
		// Keyboard-wedge scanners end with CR/LF.
		if v := f.validate(t, map[string]any{"conteudo": " " + is.Conteudo + "\r\n"}); !v.Valido {
			t.Errorf("ticket with a line end: %+v", v)
		}
		// The record never shows the full CPF; refusals do not name the holder.
		_, b := f.get(t, "/qr-codes/"+is.ID)
		if strings.Contains(string(b), "52998224725") || !strings.Contains(string(b), "***.982.247-**") {
			t.Errorf("record exposes the CPF: %s", b)
		}
		if v := f.validate(t, map[string]any{"conteudo": is.Conteudo, "evento_id": "outro"}); v.Participante != nil {
			t.Errorf("refusal names the holder: %+v", v)
		}
		if res, b := f.post(t, "/qr-codes/validar", map[string]any{"conteudo": is.Conteudo, "tipo_esperado": "zzz"}); res.StatusCode != 422 {
			t.Errorf("unknown tipo_esperado: %d %s", res.StatusCode, b)
		}
		// Revoking needs no body.
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/qr-codes/"+is.ID+"/revogar", nil)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
			t.Errorf("revoke without a body: %v %v", res, err)
		}
		// An expiry inside the current minute would be born expired.
		soon := time.Now().Truncate(time.Minute).Add(59 * time.Second).UTC().Format(time.RFC3339)
		body := map[string]any{"evento_id": "e", "participante": map[string]any{"nome": "Ana", "documento": cpfValido}, "valido_ate": soon}
		if time.Now().Truncate(time.Minute).Add(59 * time.Second).After(time.Now()) {
			if res, b := f.post(t, "/qr-codes/checkin", body); res.StatusCode != 422 || !strings.Contains(string(b), "valido_ate") {
				t.Errorf("expiry within this minute: %d %s", res.StatusCode, b)
			}
		}
		// Batch limits, checked before anything is issued.
		items := []map[string]any{{"tipo": "url", "dados": map[string]any{"url": "https://exemplo.com.br"}}}
		if res, b := f.post(t, "/qr-codes/lote", map[string]any{"itens": items, "opcoes": map[string]any{"tamanho": 4000}}); res.StatusCode != 422 || !strings.Contains(string(b), "opcoes.tamanho") {
			t.Errorf("batch tamanho 4000: %d %s", res.StatusCode, b)
		}
		if res, b := f.post(t, "/qr-codes/lote", map[string]any{"itens": items, "formato": "pdf",
			"layout": map[string]any{"colunas": 10, "linhas": 15, "margem_mm": 50, "espacamento_mm": 30}}); res.StatusCode != 422 || !strings.Contains(string(b), "layout") {
			t.Errorf("impossible layout: %d %s", res.StatusCode, b)
		}
		if res, b := f.post(t, "/qr-codes/lote", map[string]any{"itens": []map[string]any{{"tipo": "url", "dados": map[string]any{"url": "ftp://x"}}}, "formato": "pdf"}); res.StatusCode != 422 {
			t.Errorf("pdf batch with no valid item: %d %s", res.StatusCode, b)
		}
		// A caption on a large image is not mistaken for an unscannable code.
		if res, b := f.post(t, "/qr-codes/url", map[string]any{"url": "https://a.com", "tamanho": 4000, "texto": "Mesa 1", "cor": "#1a237e"}); res.StatusCode != 200 {
			t.Errorf("large captioned code: %d %.200s", res.StatusCode, b)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, newFixtureOn(t, testenv.FreshPostgresURL(t))) })
}

// TestSameKeyConcurrentDebits: retries of one movement never see their
// own first debit as "insufficient balance".
func TestSameKeyConcurrentDebits(t *testing.T) {
	run := func(t *testing.T, f *fixture) {
		for round := 0; round < 5; round++ {
			is := f.issue(t, KindComanda, map[string]any{"numero": "7", "evento_id": "bar", "saldo_inicial_centavos": 100})
			var wg sync.WaitGroup
			var bad atomic.Int32
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := f.svc.Move(context.Background(), is.ID, MovimentoInput{Tipo: "debito", ValorCentavos: 100, ChaveIdempotencia: "k1"}); err != nil {
						bad.Add(1)
						t.Log(err)
					}
				}()
			}
			wg.Wait()
			if bad.Load() != 0 {
				t.Fatalf("round %d: %d of 20 retries of one key failed", round, bad.Load())
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, newFixtureOn(t, testenv.FreshPostgresURL(t))) })
}
