package qrcode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"

	"github.com/painel-universal/painel/internal/qrcode/qr"
	"github.com/painel-universal/painel/internal/qrcode/render"
)

// Opcoes are the rendering options every generating route accepts.
type Opcoes struct {
	Formato       string `json:"formato,omitempty" enum:"png,svg,pdf,eps,txt,base64," doc:"File format of the response; base64 (default) answers JSON with a data URI"`
	Escala        int    `json:"escala,omitempty" minimum:"0" maximum:"40" doc:"Pixels per module (default 8)"`
	Tamanho       int    `json:"tamanho,omitempty" minimum:"0" maximum:"4000" doc:"Image width in pixels (overrides escala)"`
	Borda         *int   `json:"borda,omitempty" minimum:"0" maximum:"16" doc:"Quiet zone in modules (default 4; minimum 2)"`
	Estilo        string `json:"estilo,omitempty" enum:"quadrado,redondo,circulo," doc:"Shape of data modules; finder patterns stay solid"`
	Cor           string `json:"cor,omitempty" maxLength:"7" example:"#1a237e" doc:"Module colour (hex)"`
	CorFundo      string `json:"cor_fundo,omitempty" maxLength:"7" example:"#ffffff" doc:"Background colour (hex); contrast must be at least 3:1"`
	Logo          string `json:"logo,omitempty" maxLength:"2000000" doc:"PNG or JPEG, base64 or data URI; drawn at the centre (at most 25% of the width) and forces level H"`
	Texto         string `json:"texto,omitempty" maxLength:"80" doc:"Caption under the code"`
	NivelCorrecao string `json:"nivel_correcao,omitempty" enum:"L,M,Q,H," doc:"Error correction level (default M)"`
}

// Output formats.
const (
	FormatoPNG    = "png"
	FormatoSVG    = "svg"
	FormatoPDF    = "pdf"
	FormatoEPS    = "eps"
	FormatoTXT    = "txt"
	FormatoBase64 = "base64"
)

// mediaTypes maps the file formats to their media types.
var mediaTypes = map[string]string{
	FormatoPNG: "image/png",
	FormatoSVG: "image/svg+xml",
	FormatoPDF: "application/pdf",
	FormatoEPS: "application/postscript",
	FormatoTXT: "text/plain; charset=utf-8",
}

// FormatFromAccept picks a file format from an Accept header ("" when it
// names none of ours: JSON).
func FormatFromAccept(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.TrimSpace(mt)
		if q := acceptQ(params); q == 0 {
			continue // q=0: "not this one"
		}
		for f, m := range mediaTypes {
			if mt == strings.SplitN(m, ";", 2)[0] {
				return f
			}
		}
		if mt == "application/json" {
			return ""
		}
	}
	return ""
}

// acceptQ reads the q parameter of an Accept entry (1 when absent).
func acceptQ(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}

// renderPlan is the validated form of Opcoes.
type renderPlan struct {
	formato string
	level   qr.Level
	opts    render.Options
	styled  bool // style, colours or logo: decode the result before returning it
	noFile  bool // record only (a batch's PDF sheet draws its own labels)
	avisos  []string
}

func (o *Opcoes) plan() (*renderPlan, error) {
	p := &renderPlan{formato: o.Formato, level: qr.M}
	if p.formato == "" {
		p.formato = FormatoBase64
	}
	if _, ok := mediaTypes[p.formato]; !ok && p.formato != FormatoBase64 {
		return nil, fieldErr("formato", "use png, svg, pdf, eps, txt ou base64")
	}
	if o.NivelCorrecao != "" {
		l, err := qr.ParseLevel(o.NivelCorrecao)
		if err != nil {
			return nil, fieldErr("nivel_correcao", "use L, M, Q ou H")
		}
		p.level = l
	}
	p.opts.Scale = 8
	if o.Escala != 0 {
		if o.Escala < 1 || o.Escala > 40 {
			return nil, fieldErr("escala", "entre 1 e 40 pixels por módulo")
		}
		p.opts.Scale = o.Escala
	}
	if o.Tamanho != 0 {
		if o.Tamanho < 21 || o.Tamanho > 4000 {
			return nil, fieldErr("tamanho", "entre 21 e 4000 pixels")
		}
		p.opts.Size = o.Tamanho
	}
	p.opts.Border = 4
	if o.Borda != nil {
		switch b := *o.Borda; {
		case b < 2:
			return nil, fieldErr("borda", "a zona de silêncio precisa de pelo menos 2 módulos para o código ser lido")
		case b > 16:
			return nil, fieldErr("borda", "no máximo 16 módulos")
		case b < 4:
			p.avisos = append(p.avisos, fmt.Sprintf("borda de %d módulos é menor que os 4 da norma; alguns leitores podem falhar", b))
		}
		p.opts.Border = *o.Borda
	}
	if o.Estilo != "" {
		st, err := render.ParseStyle(o.Estilo)
		if err != nil {
			return nil, fieldErr("estilo", "use quadrado, redondo ou circulo")
		}
		p.opts.Style = st
		p.styled = st != render.Quadrado
	}
	p.opts.Foreground = color.RGBA{0, 0, 0, 255}
	p.opts.Background = color.RGBA{255, 255, 255, 255}
	if o.Cor != "" {
		c, err := render.ParseHexColor(o.Cor)
		if err != nil {
			return nil, fieldErr("cor", "cor hexadecimal como #1a237e")
		}
		p.opts.Foreground, p.styled = c, true
	}
	if o.CorFundo != "" {
		c, err := render.ParseHexColor(o.CorFundo)
		if err != nil {
			return nil, fieldErr("cor_fundo", "cor hexadecimal como #ffffff")
		}
		p.opts.Background, p.styled = c, true
	}
	if r := render.Contrast(p.opts.Foreground, p.opts.Background); r < 3 {
		return nil, fieldErr("cor", "contraste %.2f:1 entre cor e cor_fundo é baixo demais para leitura; mínimo 3:1", r)
	}
	if lum(p.opts.Foreground) > lum(p.opts.Background) {
		return nil, fieldErr("cor", "os módulos devem ser mais escuros que o fundo (muitos leitores não leem códigos invertidos)")
	}
	if o.Logo != "" {
		img, err := decodeLogo(o.Logo)
		if err != nil {
			return nil, fieldErr("logo", "%v", err)
		}
		p.opts.Logo = img
		p.opts.LogoRatio = 0.2
		p.level = qr.H // a logo hides modules: only level H recovers them reliably
		p.styled = true
		if o.NivelCorrecao != "" && o.NivelCorrecao != "H" {
			p.avisos = append(p.avisos, "logo exige nível de correção H; nivel_correcao "+o.NivelCorrecao+" ignorado")
		}
	}
	if err := validText("texto", o.Texto, false, 80); err != nil {
		return nil, err
	}
	p.opts.Caption = o.Texto
	return p, nil
}

func lum(c color.RGBA) float64 {
	return 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
}

// maxLogoBytes bounds an uploaded logo.
const maxLogoBytes = 1 << 20

func decodeLogo(s string) (image.Image, error) {
	if i := strings.Index(s, ";base64,"); strings.HasPrefix(s, "data:") && i > 0 {
		s = s[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("base64 inválido")
	}
	if len(raw) > maxLogoBytes {
		return nil, fmt.Errorf("logo grande demais (%d bytes; máximo %d)", len(raw), maxLogoBytes)
	}
	cfg, kind, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || (kind != "png" && kind != "jpeg") {
		return nil, fmt.Errorf("use uma imagem PNG ou JPEG")
	}
	if cfg.Width > 2048 || cfg.Height > 2048 {
		return nil, fmt.Errorf("logo de %dx%d; máximo 2048x2048", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("imagem corrompida")
	}
	return img, nil
}

// gridOf converts an encoded symbol for the renderers.
func gridOf(c *qr.Code) render.Grid {
	return render.Grid{Size: c.Size, Dark: c.Modules, Function: c.Function}
}

// File is a rendered code.
type File struct {
	MediaType string
	Ext       string
	Data      []byte
}

// renderFile renders c in the plan's format (PNG for base64). When the
// plan is styled, the raster form is decoded and must read back text.
func (p *renderPlan) renderFile(c *qr.Code, text string) (*File, error) {
	g := gridOf(c)
	if p.styled {
		// Read back a small render with the same style, colours and logo:
		// what fails there fails at any size, and it bounds the decode cost
		// whatever tamanho or escala asked for.
		check := p.opts
		check.Scale, check.Size, check.Caption = 6, 0, ""
		img, err := render.Image(g, check)
		if err != nil {
			return nil, err
		}
		got, err := DecodeImage(img)
		if err != nil || got != text {
			return nil, p.unscannable()
		}
	}
	f := p.formato
	if f == FormatoBase64 {
		f = FormatoPNG
	}
	var buf bytes.Buffer
	var err error
	switch f {
	case FormatoPNG:
		err = render.PNG(&buf, g, p.opts)
	case FormatoSVG:
		err = render.SVG(&buf, g, p.opts)
	case FormatoPDF:
		err = render.PDF(&buf, g, p.opts)
	case FormatoEPS:
		err = render.EPS(&buf, g, p.opts)
	case FormatoTXT:
		buf.WriteString(render.Text(g, p.opts.Border))
	}
	if err != nil {
		return nil, err
	}
	return &File{MediaType: mediaTypes[f], Ext: f, Data: buf.Bytes()}, nil
}

func (p *renderPlan) unscannable() error {
	field, why := "cor", "a combinação de cores não pôde ser lida por um leitor de QR"
	switch {
	case p.opts.Logo != nil:
		field, why = "logo", "o logo cobre módulos demais; use um logo menor ou mais simples"
	case p.opts.Style != render.Quadrado:
		field, why = "estilo", "o estilo escolhido não pôde ser lido; use quadrado ou aumente a escala"
	}
	return &FieldError{Field: field, Reason: ErrUnscannable.Error() + ": " + why}
}

// DataURI returns the file as a data URI.
func (f *File) DataURI() string { return render.DataURI(f.MediaType, f.Data) }
