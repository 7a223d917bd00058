package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser starts headless Chromium (see Chromium) whose network is limited
// to the loopback: every host name fails to resolve and every non-loopback
// address goes to a dead proxy. It returns the allocator context for
// NewPage; the browser stops when the test ends.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	chromium := Chromium(t)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
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
			chromedp.WindowSize(width, height),
		)...)
	t.Cleanup(cancel)
	return alloc
}

// PageLog records what a page did: every request URL (WebSockets included)
// and every problem (failed loads, console errors, uncaught exceptions, CSP
// violations).
type PageLog struct {
	mu       sync.Mutex
	requests []string
	problems []string
	byID     map[network.RequestID]string
}

// NewPage opens a tab in the browser started by Browser and records what it
// does in the returned log.
func NewPage(t testing.TB, alloc context.Context) (context.Context, *PageLog) {
	t.Helper()
	l := &PageLog{byID: map[network.RequestID]string{}}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(l.listen))
	t.Cleanup(cancel)
	return ctx, l
}

func (l *PageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, e.Request.URL)
		l.byID[e.RequestID] = e.Request.URL
	case *network.EventWebSocketCreated:
		l.requests = append(l.requests, e.URL)
	case *network.EventLoadingFailed:
		l.problems = append(l.problems, fmt.Sprintf("request for %s failed: %q canceled=%v blocked=%q",
			l.byID[e.RequestID], e.ErrorText, e.Canceled, e.BlockedReason))
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			l.problems = append(l.problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if ex := e.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
		l.problems = append(l.problems, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			l.problems = append(l.problems, "console.error: "+strings.Join(args, " "))
		}
	}
}

// Problems returns the problems recorded so far.
func (l *PageLog) Problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...)
}

// Check fails the test if the page requested anything outside host (data:,
// blob: and about: URLs aside), made no request at all, or had a problem.
// It returns the number of requests.
func (l *PageLog) Check(t testing.TB, host string) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.requests) == 0 {
		t.Fatal("no request was seen: the listener is not working")
	}
	for _, r := range l.requests {
		u, err := url.Parse(r)
		if err != nil {
			t.Errorf("unparsable request URL %q", r)
			continue
		}
		switch {
		case u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about":
		case u.Host == host:
		default:
			t.Errorf("page requested %s, outside the test server %s", r, host)
		}
	}
	for _, p := range l.problems {
		t.Errorf("browser reported a problem: %s", p)
	}
	return len(l.requests)
}

// Screenshot saves a full-page screenshot as name (a PNG) in
// PAINEL_TEST_SCREENSHOTS, or in the system's temporary folder, and returns
// the path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("PAINEL_TEST_SCREENSHOTS")
	if dir == "" {
		dir = os.TempDir()
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return ""
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, shot, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return ""
	}
	return p
}
