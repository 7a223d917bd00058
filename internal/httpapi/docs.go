package httpapi

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/painel-universal/painel/web"
)

// docsCSP lets the docs pages run their own scripts and nothing from
// elsewhere. Inline styles and blob: workers are what Swagger UI and ReDoc
// (styled-components, search worker) need; no inline script is allowed.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// registerDocs serves Swagger UI at /docs and ReDoc at /redoc, and their
// embedded assets under /docs/assets/.
func registerDocs(mux *http.ServeMux) {
	page := func(name string) http.HandlerFunc {
		body, err := fs.ReadFile(web.Docs, "docs/"+name)
		if err != nil {
			panic("httpapi: embedded docs page missing: " + name) // a build error, not a run-time one
		}
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", docsCSP)
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(body)
		}
	}
	mux.Handle("GET /docs", page("swagger.html"))
	mux.Handle("GET /redoc", page("redoc.html"))

	assets, _ := fs.Sub(web.Docs, ".")
	files := http.StripPrefix("/docs/assets/", http.FileServerFS(assets))
	mux.Handle("GET /docs/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/docs/assets/")
		if p == "" || strings.HasSuffix(p, "/") {
			// No folder listings.
			WriteProblem(w, Problem{Status: http.StatusNotFound, Instance: r.URL.Path, RequestID: RequestID(r.Context())})
			return
		}
		w.Header().Set("Content-Security-Policy", docsCSP)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
}
