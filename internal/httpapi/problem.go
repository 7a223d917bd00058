package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// Problem is an RFC 9457 problem document, with the same fields huma writes
// for the API's own errors, plus the request id when the platform itself
// answers (unknown routes, panics, readiness).
type Problem struct {
	Type      string              `json:"type,omitempty"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// WriteProblem writes p as application/problem+json with its status.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen with these field types
		b = []byte(`{"title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Del("Content-Encoding")
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
}
