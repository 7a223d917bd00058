package httpapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/painel-universal/painel/internal/testenv"
)

// TestDocsRenderOfflineInChromium opens /docs and /redoc in headless
// Chromium whose network is limited to the loopback (every host name fails
// to resolve and every non-loopback address goes to a dead proxy). Each page
// must show the API title, every request it makes must stay on the test
// server, and the console must show no error (a CSP violation is one).
//
// Set PAINEL_TEST_SCREENSHOTS=DIR to keep screenshots of both pages.
func TestDocsRenderOfflineInChromium(t *testing.T) {
	chromium := testenv.Chromium(t)
	ts := httptest.NewServer(New(Options{Version: "test"}).Handler())
	defer ts.Close()
	base, _ := url.Parse(ts.URL)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium),
			chromedp.Flag("headless", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
			chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.WindowSize(1280, 900),
		)...)
	defer cancelAlloc()

	for _, tc := range []struct {
		path, titleJS string
	}{
		{"/docs", `document.querySelector(".information-container .title")?.textContent`},
		{"/redoc", `document.querySelector(".api-info h1, h1")?.textContent`},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			var mu sync.Mutex
			var requests, problems []string
			byID := map[network.RequestID]string{}
			ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch e := ev.(type) {
				case *network.EventRequestWillBeSent:
					requests = append(requests, e.Request.URL)
					byID[e.RequestID] = e.Request.URL
				case *network.EventLoadingFailed:
					problems = append(problems, fmt.Sprintf("request for %s failed: %q canceled=%v blocked=%q",
						byID[e.RequestID], e.ErrorText, e.Canceled, e.BlockedReason))
				case *log.EventEntryAdded:
					if e.Entry.Level == log.EntryLevelError {
						problems = append(problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
					}
				case *runtime.EventExceptionThrown:
					msg := e.ExceptionDetails.Text
					if ex := e.ExceptionDetails.Exception; ex != nil {
						msg += " " + ex.Description
					}
					problems = append(problems, "exception: "+msg)
				case *runtime.EventConsoleAPICalled:
					if e.Type == runtime.ConsoleAPICalledTypeError {
						var args []string
						for _, a := range e.Args {
							args = append(args, string(a.Value)+a.Description)
						}
						problems = append(problems, "console.error: "+strings.Join(args, " "))
					}
				}
			}))
			defer cancel()
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
				shot, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				p := filepath.Join(os.TempDir(), "painel-docs-failure.png")
				_ = os.WriteFile(p, shot, 0o644)
				t.Fatalf("title %q never appeared: %v (screenshot %s; problems %v)", Title, err, p, problems)
			}
			if !strings.Contains(title, Title) {
				t.Errorf("title = %q, want it to contain %q", title, Title)
			}
			// Let late requests (fonts, workers) happen before checking.
			_ = chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond))
			if dir := os.Getenv("PAINEL_TEST_SCREENSHOTS"); dir != "" {
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err == nil {
					_ = os.WriteFile(filepath.Join(dir, strings.TrimPrefix(tc.path, "/")+".png"), shot, 0o644)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			if len(requests) == 0 {
				t.Fatal("no request was seen: the listener is not working")
			}
			for _, r := range requests {
				u, err := url.Parse(r)
				if err != nil {
					t.Errorf("unparsable request URL %q", r)
					continue
				}
				switch {
				case u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about":
				case u.Host == base.Host:
				default:
					t.Errorf("page requested %s, outside the test server %s", r, base.Host)
				}
			}
			for _, p := range problems {
				t.Errorf("browser reported a problem: %s", p)
			}
			t.Logf("%s: title %q, %d requests, all on %s", tc.path, title, len(requests), base.Host)
		})
	}
}
