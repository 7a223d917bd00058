package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestMonitorAlertEndToEnd: with the service running on the real host collector, a rule that
// must fire (mem.used_pct > 0) produces an alert event on the WebSocket and a webhook delivery
// within 2 s of its creation. The history written before a restart is still there after it.
func TestMonitorAlertEndToEnd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	in := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir}, hooks{})

	hooked := make(chan []byte, 4)
	wh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooked <- b
	}))
	defer wh.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(in.base, "http") + "/monitoramento/ws"
	if _, res, err := websocket.Dial(ctx, wsURL, nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("WebSocket without a token: %v, %v; want 401 before the upgrade", res, err)
	}
	conn, _, err := websocket.Dial(ctx, wsURL+"?token="+in.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	var snap struct {
		Tipo    string             `json:"tipo"`
		Valores map[string]float64 `json:"valores"`
	}
	_, msg, err := conn.Read(ctx)
	if err != nil || json.Unmarshal(msg, &snap) != nil || snap.Tipo != "snapshot" {
		t.Fatalf("first message %s, %v", msg, err)
	}

	body := `{"nome":"Memória em uso","metrica":"mem.used_pct","operador":">","limite":0,"severidade":"critico",
		"canais":[{"tipo":"websocket"},{"tipo":"webhook","url":"` + wh.URL + `/alerta"}]}`
	created := time.Now()
	status, rb, _ := do(t, http.MethodPost, in.base+"/monitoramento/alertas", in.token, "application/json", []byte(body))
	if status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", status, rb)
	}
	var rule struct{ ID int64 }
	_ = json.Unmarshal(rb, &rule)

	wsDone := make(chan time.Duration, 1)
	go func() {
		for {
			_, m, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var ev struct {
				Tipo   string `json:"tipo"`
				Evento struct {
					RegraID int64  `json:"regra_id"`
					Estado  string `json:"estado"`
				} `json:"evento"`
			}
			if json.Unmarshal(m, &ev) == nil && ev.Tipo == "alerta" && ev.Evento.RegraID == rule.ID && ev.Evento.Estado == "disparado" {
				wsDone <- time.Since(created)
				return
			}
		}
	}()
	select {
	case d := <-wsDone:
		t.Logf("WebSocket alert %v after the rule was created", d)
		if d > 2*time.Second {
			t.Errorf("WebSocket alert after %v > 2s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no alert on the WebSocket")
	}
	select {
	case b := <-hooked:
		d := time.Since(created)
		t.Logf("webhook %v after the rule was created: %s", d, b)
		if d > 2*time.Second {
			t.Errorf("webhook after %v > 2s", d)
		}
		var p struct {
			Tipo   string `json:"tipo"`
			Evento struct {
				RegraID int64   `json:"regra_id"`
				Valor   float64 `json:"valor"`
			} `json:"evento"`
		}
		if json.Unmarshal(b, &p) != nil || p.Tipo != "disparado" || p.Evento.RegraID != rule.ID || p.Evento.Valor <= 0 {
			t.Errorf("webhook body %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook delivery")
	}
	code, evs, _ := get(t, in.base+"/monitoramento/alertas/eventos?estado=disparado", in.token)
	if code != 200 || !bytes.Contains(evs, []byte(`"regra_nome":"Memória em uso"`)) {
		t.Fatalf("events: %d %s", code, evs)
	}
	conn.Close(websocket.StatusNormalClosure, "")

	// History survives a restart.
	time.Sleep(1500 * time.Millisecond)
	if c := in.stop(t); c != 0 {
		t.Fatalf("exit %d", c)
	}
	stopped := time.Now()
	in2 := start(t, map[string]string{"PAINEL_DATA_DIR": dataDir}, hooks{})
	q := "/monitoramento/historico?metrica=mem.used_pct&de=" + created.Add(-10*time.Second).UTC().Format(time.RFC3339) +
		"&ate=" + stopped.UTC().Format(time.RFC3339Nano)
	code, hb, _ := get(t, in2.base+q, in2.token)
	var hist struct {
		Camada string `json:"camada"`
		Pontos []struct {
			Valor float64 `json:"valor"`
		} `json:"pontos"`
	}
	if code != 200 || json.Unmarshal(hb, &hist) != nil || len(hist.Pontos) < 2 || hist.Camada != "bruto" {
		t.Fatalf("history after restart: %d %s", code, hb)
	}
	t.Logf("history after restart: %d raw points", len(hist.Pontos))
	// The rule and its open episode came back too.
	code, rb2, _ := get(t, in2.base+"/monitoramento/alertas", in2.token)
	if code != 200 || !bytes.Contains(rb2, []byte(`"estado":"disparado"`)) {
		t.Fatalf("rules after restart: %s", rb2)
	}
}
