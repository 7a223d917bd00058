package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConsoleRoutes(t *testing.T) {
	ts := httptest.NewServer(New(Options{}).Handler())
	defer ts.Close()
	for _, c := range []struct {
		path, ctype string
		code        int
		body        string
	}{
		{"/painel", "text/html", 200, `<html lang="pt-BR"`},
		{"/painel/", "text/html", 200, `/painel/assets/console/painel.js`},
		{"/painel/assets/console/painel.js", "text/javascript", 200, "WebSocket"},
		{"/painel/assets/console/painel.css", "text/css", 200, ""},
		{"/painel/assets/vendor/uplot/uPlot.iife.min.js", "text/javascript", 200, "uPlot"},
		{"/painel/assets/vendor/uplot/LICENSE", "", 200, "MIT"},
		{"/painel/assets/", "application/problem+json", 404, ""},
		{"/painel/assets/vendor/", "application/problem+json", 404, ""},
		{"/painel/assets/nada.js", "", 404, ""},
	} {
		res, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.HasPrefix(res.Header.Get("Content-Type"), c.ctype) || !strings.Contains(string(b), c.body) {
			t.Errorf("%s: %d %q (%d bytes)", c.path, res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
		if c.code == 200 && !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP %q", c.path, res.Header.Get("Content-Security-Policy"))
		}
	}
	if res, _ := http.Post(ts.URL+"/painel", "text/plain", nil); res.StatusCode != 405 {
		t.Errorf("POST /painel: %d", res.StatusCode)
	}
}
