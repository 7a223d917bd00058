package httpapi

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/painel-universal/painel/web"
)

// consoleCSP allows the console's own scripts, styles and same-origin
// requests (REST and the WebSocket) and nothing else: no inline code.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// registerConsole serves the web console page at /painel and its embedded
// assets under /painel/assets/.
func registerConsole(mux *http.ServeMux) {
	page, err := fs.ReadFile(web.Console, "console/index.html")
	if err != nil {
		panic("httpapi: embedded console page missing") // a build error, not a run-time one
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	}
	mux.HandleFunc("GET /painel", serve)
	mux.HandleFunc("GET /painel/{$}", serve)
	files := http.StripPrefix("/painel/assets/", http.FileServerFS(web.Console))
	mux.Handle("GET /painel/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/painel/assets/")
		if p == "" || strings.HasSuffix(p, "/") {
			WriteProblem(w, Problem{Status: http.StatusNotFound, Instance: r.URL.Path, RequestID: RequestID(r.Context())})
			return
		}
		w.Header().Set("Content-Security-Policy", consoleCSP)
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
}
