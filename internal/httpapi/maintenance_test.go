package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMaintenanceMode(t *testing.T) {
	s := New(Options{})
	release := make(chan struct{})
	started := make(chan struct{})
	s.Mux.HandleFunc("GET /lento", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "terminou")
	})
	s.Mux.HandleFunc("GET /rapido", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	slow := make(chan string, 1)
	go func() {
		res, err := http.Get(ts.URL + "/lento")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- string(b)
	}()
	<-started
	ran := make(chan time.Time, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Maintenance(context.Background(), "teste", func(context.Context) error {
			ran <- time.Now()
			// During fn: other routes are 503 with Retry-After, exempt ones answer.
			for path, want := range map[string]int{"/rapido": 503, "/healthz": 200, "/readyz": 503, "/version": 200} {
				res, err := http.Get(ts.URL + path)
				if err != nil {
					t.Error(err)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("%s during maintenance: %d %s", path, res.StatusCode, b)
				}
				if want == 503 && path == "/rapido" && (res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "manutenção")) {
					t.Errorf("%s: no Retry-After or reason: %v %s", path, res.Header, b)
				}
			}
			return nil
		})
	}()
	// fn must wait for the request in flight.
	select {
	case <-ran:
		t.Fatal("maintenance ran while a request was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	if !s.InMaintenance() {
		t.Fatal("not in maintenance")
	}
	if err := s.Maintenance(context.Background(), "outra", func(context.Context) error { return nil }); err == nil {
		t.Error("a second maintenance started")
	}
	close(release)
	if got := <-slow; got != "terminou" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.InMaintenance() {
		t.Fatal("still in maintenance")
	}
	res, err := http.Get(ts.URL + "/rapido")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after maintenance: %v %v", res, err)
	}
	res.Body.Close()
}
