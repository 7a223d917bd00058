package httpapi

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/painel-universal/painel/internal/testenv"
)

// TestDocsRenderOfflineInChromium opens /docs and /redoc in headless
// Chromium whose network is limited to the loopback (testenv.Browser). Each
// page must show the API title, every request it makes must stay on the
// test server, and the console must show no error (a CSP violation is one).
//
// Set PAINEL_TEST_SCREENSHOTS=DIR to keep screenshots of both pages.
func TestDocsRenderOfflineInChromium(t *testing.T) {
	alloc := testenv.Browser(t, 1280, 900)
	ts := httptest.NewServer(New(Options{Version: "test"}).Handler())
	defer ts.Close()
	base, _ := url.Parse(ts.URL)

	for _, tc := range []struct {
		path, titleJS string
	}{
		{"/docs", `document.querySelector(".information-container .title")?.textContent`},
		{"/redoc", `document.querySelector(".api-info h1, h1")?.textContent`},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			ctx, page := testenv.NewPage(t, alloc)
			// The first Run starts the browser: no timeout on it.
			if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+tc.path)); err != nil {
				t.Fatalf("navigate: %v", err)
			}
			wctx, wcancel := context.WithTimeout(ctx, 45*time.Second)
			defer wcancel()
			title, err := chromedp.Run(wctx, chromedp.Poll[string](
				`(`+tc.titleJS+` || "").includes("`+Title+`") && `+tc.titleJS,
				chromedp.WithPollingInterval(100*time.Millisecond)))
			if err != nil {
				p := testenv.Screenshot(t, ctx, "painel-docs-failure.png")
				t.Fatalf("title %q never appeared: %v (screenshot %s; problems %v)", Title, err, p, page.Problems())
			}
			if !strings.Contains(title, Title) {
				t.Errorf("title = %q, want it to contain %q", title, Title)
			}
			// Let late requests (fonts, workers) happen before checking.
			_ = chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond))
			if os.Getenv("PAINEL_TEST_SCREENSHOTS") != "" {
				testenv.Screenshot(t, ctx, strings.TrimPrefix(tc.path, "/")+".png")
			}
			n := page.Check(t, base.Host)
			t.Logf("%s: title %q, %d requests, all on %s", tc.path, title, n, base.Host)
		})
	}
}
