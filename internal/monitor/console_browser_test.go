package monitor

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/painel-universal/painel/internal/testenv"
)

// TestConsoleInChromium opens /painel in headless Chromium limited to the loopback while the
// service samples every 250 ms: the page must count at least 5 live updates from the WebSocket,
// draw points in its four charts, show the alert that fires and acknowledge it with its button,
// make no request outside the test server and report no error. The screenshot is kept (in
// PAINEL_TEST_SCREENSHOTS, or the temporary folder) and its path logged.
func TestConsoleInChromium(t *testing.T) {
	alloc := testenv.Browser(t, 1280, 1000)
	f := newFixture(t, nil, Config{Now: time.Now})
	f.src.set("net.eth0.rx_bps", 1200)
	f.src.set("net.eth0.tx_bps", 300)
	if code, b := f.do(t, "POST", "/monitoramento/alertas",
		`{"nome":"CPU acima de 50%","metrica":"cpu.total","operador":">","limite":50,"limite_retorno":40,"severidade":"critico"}`); code != 201 {
		t.Fatal(string(b))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				f.src.set("cpu.total", 45+15*math.Sin(float64(i)/3)) // crosses 50 now and then
				f.src.set("mem.used_pct", 40+float64(i%10))
				f.s.Step(ctx)
			}
		}
	}()
	base, _ := url.Parse(f.ts.URL)
	page, plog := testenv.NewPage(t, alloc)
	if err := chromedp.Do(page, chromedp.Navigate(f.ts.URL+"/painel")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	wctx, wcancel := context.WithTimeout(page, 45*time.Second)
	defer wcancel()
	updates, err := chromedp.Run(wctx, chromedp.Poll[int](
		`(() => { const n = parseInt(document.getElementById("atualizacoes")?.textContent || "0", 10); return n >= 5 && n; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		p := testenv.Screenshot(t, page, "painel-console-failure.png")
		t.Fatalf("fewer than 5 live updates: %v (screenshot %s; problems %v)", err, p, plog.Problems())
	}
	points, err := chromedp.Run(wctx, chromedp.Evaluate[map[string]int](`Object.fromEntries(
		["grafico-cpu", "grafico-memoria", "grafico-disco", "grafico-rede"].map(id => {
			const el = document.getElementById(id);
			return [id, el && el.querySelector("canvas") ? parseInt(el.dataset.pontos || "0", 10) : -1];
		}))`))
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range points {
		if n < 2 {
			t.Errorf("chart %s has %d points", id, n)
		}
	}
	// The alert fires (cpu crosses 50 for three samples in each period) and shows with its
	// button; acknowledging it goes through the API.
	evID, err := chromedp.Run(wctx, chromedp.Poll[string](
		`(() => { const b = document.querySelector('#alertas-ativos button[data-acao="reconhecer"]'); return b && b.dataset.evento; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		p := testenv.Screenshot(t, page, "painel-console-failure.png")
		t.Fatalf("the firing alert never showed: %v (screenshot %s)", err, p)
	}
	if _, err := chromedp.Run(wctx, chromedp.Click(chromedp.CSS(`#reconhecer-`+evID))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b := f.do(t, "GET", "/monitoramento/alertas/eventos?por_pagina=100", "")
		if code == 200 && containsAck(b, evID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not acknowledged after the click: %s", evID, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = chromedp.Do(page, chromedp.Sleep(500*time.Millisecond))
	shot := testenv.Screenshot(t, page, "painel-console.png")
	n := plog.Check(t, base.Host)
	t.Logf("/painel: %d live updates, chart points %v, alert %s acknowledged, %d requests all on %s; screenshot %s",
		updates, points, evID, n, base.Host, shot)
}

func containsAck(b []byte, id string) bool {
	var page EventPage
	if jsonUnmarshal(b, &page) != nil {
		return false
	}
	for _, e := range page.Eventos {
		if formatID(e.ID) == id && e.ReconhecidoEm != nil {
			return true
		}
	}
	return false
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
