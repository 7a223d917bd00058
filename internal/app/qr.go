package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/painel-universal/painel/internal/config"
	"github.com/painel-universal/painel/internal/qrcode"
)

const qrUsage = `Usage:
  painel qr gerar   -tipo KIND [kind flags] [-o FILE] [render flags] [settings]
  painel qr pix     -chave K -nome-recebedor N -cidade C [-valor-centavos V] [-txid T] [-o FILE]
  painel qr validar [-consumir] [-operador O] [-local L] TEXT|IMAGE.png

Kinds and their flags:
  checkin        -evento-id -nome -documento (CPF) [-evento-nome] [-data-evento] [-valido-ate]
  evento         -evento-id -nome [-data] [-local] [-url]
  mesa-pdv       -evento-id -mesa [-evento-nome]
  comanda        -evento-id -numero [-saldo-inicial-centavos]
  produto        -produto-id -nome -preco-centavos [-codigo]
  url            -url [-titulo]
  personalizado  -dados TEXT
  pix            -chave -nome-recebedor -cidade [-valor-centavos] [-txid] [-descricao]

Times are RFC 3339 (2026-12-20T20:00:00-03:00). -o FILE picks the format from
its extension (.png .svg .pdf .eps .txt); without -o the code is drawn in the
terminal. The code is recorded in the database like one issued by the API.
`

func runQR(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(e.stdout, qrUsage)
		return exitOK
	}
	switch args[0] {
	case "gerar":
		return runQRGenerate(ctx, e, "", args[1:])
	case "pix":
		return runQRGenerate(ctx, e, string(qrcode.KindPix), args[1:])
	case "validar":
		return runQRValidate(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "painel qr: unknown action %q\n\n%s", args[0], qrUsage)
	return exitUsage
}

// qrFlags are the kind and render flags of `painel qr gerar`.
type qrFlags struct {
	tipo, eventoID, nome, documento, eventoNome, dataEvento, validoAte, data, local, url, titulo string
	mesa, numero, produtoID, codigo, dados, chave, nomeRecebedor, cidade, txid, descricao        string
	saldo, preco, valor                                                                          int64
	out, estilo, cor, corFundo, texto, nivel                                                     string
	escala, borda                                                                                int
}

func (q *qrFlags) register(fs *flag.FlagSet) {
	s := func(p *string, name, usage string) { fs.StringVar(p, name, "", usage) }
	s(&q.tipo, "tipo", "kind of code: checkin, evento, mesa-pdv, comanda, produto, url, personalizado, pix")
	s(&q.eventoID, "evento-id", "event id")
	s(&q.nome, "nome", "participant, event or product name")
	s(&q.documento, "documento", "participant's CPF")
	s(&q.eventoNome, "evento-nome", "event name")
	s(&q.dataEvento, "data-evento", "event date (RFC 3339)")
	s(&q.validoAte, "valido-ate", "expiry (RFC 3339)")
	s(&q.data, "data", "event date (RFC 3339)")
	s(&q.local, "local", "place")
	s(&q.url, "url", "http(s) URL")
	s(&q.titulo, "titulo", "title")
	s(&q.mesa, "mesa", "table")
	s(&q.numero, "numero", "comanda number")
	s(&q.produtoID, "produto-id", "product id")
	s(&q.codigo, "codigo", "product code (EAN...)")
	s(&q.dados, "dados", "free text")
	s(&q.chave, "chave", "PIX key")
	s(&q.nomeRecebedor, "nome-recebedor", "PIX receiver name (up to 25)")
	s(&q.cidade, "cidade", "PIX receiver city (up to 15)")
	s(&q.txid, "txid", "PIX transaction id")
	s(&q.descricao, "descricao", "PIX description")
	fs.Int64Var(&q.saldo, "saldo-inicial-centavos", 0, "comanda's initial balance in centavos")
	fs.Int64Var(&q.preco, "preco-centavos", 0, "product price in centavos")
	fs.Int64Var(&q.valor, "valor-centavos", 0, "PIX amount in centavos")
	fs.StringVar(&q.out, "o", "", "output file (.png .svg .pdf .eps .txt); - for PNG on stdout")
	s(&q.estilo, "estilo", "quadrado, redondo or circulo")
	s(&q.cor, "cor", "module colour (hex)")
	s(&q.corFundo, "cor-fundo", "background colour (hex)")
	s(&q.texto, "texto", "caption under the code")
	s(&q.nivel, "nivel", "error correction: L, M, Q or H")
	fs.IntVar(&q.escala, "escala", 0, "pixels per module")
	fs.IntVar(&q.borda, "borda", -1, "quiet zone in modules (default 4)")
}

func parseTime(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, &qrcode.FieldError{Field: field, Reason: "use RFC 3339, e.g. 2026-12-20T20:00:00-03:00"}
	}
	return &t, nil
}

// input builds the kind's input from the flags.
func (q *qrFlags) input() (qrcode.Kind, any, error) {
	kind, ok := qrcode.ParseKind(q.tipo)
	if !ok {
		return "", nil, &qrcode.FieldError{Field: "tipo", Reason: "use checkin, evento, mesa-pdv, comanda, produto, url, personalizado ou pix"}
	}
	switch kind {
	case qrcode.KindCheckin:
		de, err := parseTime("data-evento", q.dataEvento)
		if err != nil {
			return "", nil, err
		}
		va, err := parseTime("valido-ate", q.validoAte)
		if err != nil {
			return "", nil, err
		}
		return kind, &qrcode.CheckinInput{EventoID: q.eventoID, EventoNome: q.eventoNome, DataEvento: de, ValidoAte: va,
			Participante: qrcode.Participante{Nome: q.nome, Documento: q.documento}}, nil
	case qrcode.KindEvento:
		d, err := parseTime("data", q.data)
		if err != nil {
			return "", nil, err
		}
		return kind, &qrcode.EventoInput{EventoID: q.eventoID, Nome: q.nome, Data: d, Local: q.local, URL: q.url}, nil
	case qrcode.KindMesa:
		return kind, &qrcode.MesaInput{EventoID: q.eventoID, Mesa: q.mesa, EventoNome: q.eventoNome}, nil
	case qrcode.KindComanda:
		return kind, &qrcode.ComandaInput{EventoID: q.eventoID, Numero: q.numero, SaldoInicialCentavos: q.saldo}, nil
	case qrcode.KindProduto:
		return kind, &qrcode.ProdutoInput{ProdutoID: q.produtoID, Nome: q.nome, PrecoCentavos: q.preco, Codigo: q.codigo}, nil
	case qrcode.KindURL:
		return kind, &qrcode.URLInput{URL: q.url, Titulo: q.titulo}, nil
	case qrcode.KindPersonalizado:
		return kind, &qrcode.PersonalizadoInput{Dados: q.dados}, nil
	default:
		return kind, &qrcode.PixInput{Chave: q.chave, NomeRecebedor: q.nomeRecebedor, Cidade: q.cidade,
			ValorCentavos: q.valor, TxID: q.txid, Descricao: q.descricao}, nil
	}
}

func (q *qrFlags) opcoes() (qrcode.Opcoes, error) {
	o := qrcode.Opcoes{Estilo: q.estilo, Cor: q.cor, CorFundo: q.corFundo, Texto: q.texto, NivelCorrecao: strings.ToUpper(q.nivel), Escala: q.escala}
	if q.borda >= 0 {
		o.Borda = &q.borda
	}
	switch ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(q.out)), "."); {
	case q.out == "":
		o.Formato = qrcode.FormatoTXT
	case q.out == "-":
		o.Formato = qrcode.FormatoPNG
	case ext == "png" || ext == "svg" || ext == "pdf" || ext == "eps" || ext == "txt":
		o.Formato = ext
	default:
		return o, &qrcode.FieldError{Field: "o", Reason: "use a file ending in .png, .svg, .pdf, .eps or .txt"}
	}
	return o, nil
}

// qrCommandSetup loads settings and opens the store and keys.
func qrCommandSetup(ctx context.Context, e *env, name string, args []string, extra func(fs *flag.FlagSet)) (*qrcode.Service, *flag.FlagSet, func(), int) {
	fs := flag.NewFlagSet("painel qr "+name, flag.ContinueOnError)
	cfg, envErr := config.Bind(fs, e.getenv)
	extra(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), qrUsage) }
	for _, a := range args {
		if isHelp(a) {
			fmt.Fprint(e.stdout, qrUsage)
			return nil, nil, nil, exitOK
		}
	}
	if !parseFlags(e, fs, "qr "+name, args) {
		return nil, nil, nil, exitUsage
	}
	if envErr != nil {
		fmt.Fprintf(e.stderr, "painel: %v\n", envErr)
		return nil, nil, nil, exitUsage
	}
	log := newLogger(e, cfg)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "painel qr: %v\n", err)
		return nil, nil, nil, exitError
	}
	keys, err := qrKeys(cfg, log)
	if err != nil {
		st.Close()
		fmt.Fprintf(e.stderr, "painel qr: %v\n", err)
		return nil, nil, nil, exitError
	}
	return qrcode.NewService(st, keys, log), fs, func() { st.Close() }, exitOK
}

func reportErr(e *env, cmd string, err error) int {
	var fe *qrcode.FieldError
	if errors.As(err, &fe) {
		fmt.Fprintf(e.stderr, "painel %s: %s: %s\n", cmd, fe.Field, fe.Reason)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "painel %s: %v\n", cmd, err)
	return exitError
}

func runQRGenerate(ctx context.Context, e *env, kind string, args []string) int {
	q := &qrFlags{tipo: kind}
	svc, fs, done, code := qrCommandSetup(ctx, e, "gerar", args, q.register)
	if svc == nil {
		return code
	}
	defer done()
	if kind != "" {
		q.tipo = kind
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "painel qr gerar: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	k, input, err := q.input()
	if err != nil {
		return reportErr(e, "qr gerar", err)
	}
	o, err := q.opcoes()
	if err != nil {
		return reportErr(e, "qr gerar", err)
	}
	out, err := svc.Generate(ctx, k, input, o)
	if err != nil {
		return reportErr(e, "qr gerar", err)
	}
	switch q.out {
	case "":
		fmt.Fprint(e.stdout, string(out.File.Data))
	case "-":
		_, _ = e.stdout.Write(out.File.Data)
	default:
		if err := os.WriteFile(q.out, out.File.Data, 0o644); err != nil {
			return reportErr(e, "qr gerar", err)
		}
	}
	w := e.stdout
	if q.out == "-" {
		w = e.stderr
	}
	fmt.Fprintf(w, "id %s  tipo %s  versão %d  nível %s\nconteúdo: %s\n", out.ID, out.Tipo, out.Versao, out.NivelCorrecao, out.Conteudo)
	for _, a := range out.Avisos {
		fmt.Fprintf(e.stderr, "aviso: %s\n", a)
	}
	return exitOK
}

func runQRValidate(ctx context.Context, e *env, args []string) int {
	var consumir bool
	var operador, local string
	svc, fs, done, code := qrCommandSetup(ctx, e, "validar", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&consumir, "consumir", false, "redeem a check-in")
		fs.StringVar(&operador, "operador", "", "who scans")
		fs.StringVar(&local, "local", "", "where")
	})
	if svc == nil {
		return code
	}
	defer done()
	if fs.NArg() != 1 {
		fmt.Fprint(e.stderr, "painel qr validar: give the scanned text or an image file\n")
		return exitUsage
	}
	text := fs.Arg(0)
	if st, err := os.Stat(text); err == nil && st.Mode().IsRegular() {
		b, err := readLimited(text, 8<<20)
		if err != nil {
			return reportErr(e, "qr validar", err)
		}
		if text, err = qrcode.DecodeBytes(b); err != nil {
			return reportErr(e, "qr validar", err)
		}
	}
	v, err := svc.Validate(ctx, qrcode.ValidarInput{Conteudo: text, Consumir: consumir, Operador: operador, Local: local})
	if err != nil {
		return reportErr(e, "qr validar", err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	if !v.Valido {
		return exitError
	}
	return exitOK
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}
