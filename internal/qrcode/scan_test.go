package qrcode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/testenv"
)

// scanCase is one generated image of the conformance set.
type scanCase struct {
	name, file, want string
}

// conformanceSet issues every kind in every style, in PNG and SVG, plain,
// coloured, with a logo, and with Portuguese text, into dir.
func conformanceSet(t *testing.T, dir string) []scanCase {
	t.Helper()
	f := newFixture(t)
	bodies := kindBodies()
	bodies[KindPersonalizado] = map[string]any{"dados": "AÇÃO PROMOÇÃO — pão de queijo, coração, São João"}
	bodies[KindEvento] = map[string]any{"evento_id": "sao-joao", "nome": "Festa de São João", "local": "Praça da Matriz, Caruaru — PE"}
	variants := map[string]map[string]any{
		"simples": {},
		"cores":   {"cor": "#1a237e", "cor_fundo": "#fff8e1"},
		"logo":    {"logo": logoPNG(t, 64)},
		"legenda": {"texto": "Ingresso — João Ação", "cor": "#004d40"},
	}
	var out []scanCase
	for kind, body := range bodies {
		for _, estilo := range []string{"quadrado", "redondo", "circulo"} {
			for vname, variant := range variants {
				for _, formato := range []string{"png", "svg"} {
					req := map[string]any{"estilo": estilo, "formato": formato}
					for k, v := range body {
						req[k] = v
					}
					for k, v := range variant {
						req[k] = v
					}
					in := inputFor(kind)
					raw, _ := jsonRoundTrip(req, in)
					var o Opcoes
					_, _ = jsonRoundTrip(req, &o)
					is, err := f.svc.Generate(context.Background(), kind, in, o)
					if err != nil {
						t.Fatalf("%s %s %s %s: %v (%s)", kind, estilo, vname, formato, err, raw)
					}
					name := fmt.Sprintf("%s-%s-%s.%s", kind, estilo, vname, formato)
					p := filepath.Join(dir, name)
					if err := os.WriteFile(p, is.File.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					out = append(out, scanCase{name: name, file: p, want: is.Conteudo})
				}
			}
		}
	}
	return out
}

// pngOf returns a PNG for the case: the file itself, or the SVG rasterised
// by rsvg-convert (skipped, or failed when tools are required, without it).
func pngOf(t *testing.T, c scanCase) string {
	t.Helper()
	if strings.HasSuffix(c.file, ".png") {
		return c.file
	}
	out := strings.TrimSuffix(c.file, ".svg") + ".svg.png"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	rsvg := tool(t, "rsvg-convert", "librsvg2-bin")
	if b, err := exec.Command(rsvg, "-o", out, c.file).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert %s: %v %s", c.name, err, b)
	}
	return out
}

func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("PAINEL_REQUIRE_SERVICES=1 but %s is missing (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// TestConformanceSetScans decodes every image of the set with gozxing (PNG,
// and SVG rasterised), zbarimg and ZXingReader: 0 failures.
func TestConformanceSetScans(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("PAINEL_TEST_QR_DIR"); d != "" {
		dir = d
	}
	set := conformanceSet(t, dir)
	if len(set) != 8*3*4*2 {
		t.Fatalf("set has %d images", len(set))
	}
	t.Run("gozxing", func(t *testing.T) {
		for _, c := range set {
			if strings.HasSuffix(c.file, ".svg") {
				continue // rasterised below
			}
			b, _ := os.ReadFile(c.file)
			if got, err := DecodeBytes(b); err != nil || got != c.want {
				t.Errorf("%s: read %q, %v", c.name, got, err)
			}
		}
	})
	t.Run("gozxing-svg", func(t *testing.T) {
		for _, c := range set {
			if !strings.HasSuffix(c.file, ".svg") {
				continue
			}
			b, _ := os.ReadFile(pngOf(t, c))
			if got, err := DecodeBytes(b); err != nil || got != c.want {
				t.Errorf("%s: read %q, %v", c.name, got, err)
			}
		}
	})
	t.Run("zbarimg", func(t *testing.T) {
		zbar := tool(t, "zbarimg", "zbar-tools")
		for _, c := range set {
			out, err := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", pngOf(t, c)).Output()
			if got := strings.TrimSuffix(string(out), "\n"); err != nil || got != c.want {
				t.Errorf("%s: zbarimg read %q, %v", c.name, got, err)
			}
		}
	})
	t.Run("ZXingReader", func(t *testing.T) {
		zx := tool(t, "ZXingReader", "zxing-cpp-tools")
		for _, c := range set {
			// -bytes writes the symbol's content bytes: our text is ASCII or
			// UTF-8 (behind ECI 26), so they are the text itself.
			out, err := exec.Command(zx, "-format", "QRCode", "-bytes", pngOf(t, c)).Output()
			got, ok := string(out), err == nil
			if !ok || got != c.want {
				t.Errorf("%s: ZXingReader read %q", c.name, got)
			}
		}
	})
}

// jsonRoundTrip fills dst from a JSON encoding of src, as the API does.
func jsonRoundTrip(src map[string]any, dst any) (string, error) {
	b, err := json.Marshal(src)
	if err != nil {
		return "", err
	}
	return string(b), json.Unmarshal(b, dst)
}

// TestDecodeCaptionedCode: a check-in code rendered as SVG with a caption under it and
// rasterised by rsvg-convert (testdata, kept from a run of the conformance set) that gozxing's
// detector cannot read whole, while zbar and ZXing-C++ can: DecodeBytes reads it through the
// square above the caption.
func TestDecodeCaptionedCode(t *testing.T) {
	b, err := os.ReadFile("testdata/checkin-legenda-rsvg.png")
	if err != nil {
		t.Fatal(err)
	}
	const want = "019861618266459964932181244231325775930948164145056223198117539173135544834258812935996816979733563905176590691851274955407177096394584666362999854904805250120109215873482816905607685683299229920515"
	if got, err := DecodeBytes(b); err != nil || got != want {
		t.Fatalf("read %q, %v", got, err)
	}
}
