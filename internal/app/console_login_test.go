package app

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/painel-universal/painel/internal/testenv"
)

// TestConsoleLoginInChromium: the console of the real service shows its login form to a
// browser without a session, refuses a wrong password, and after a right one shows the live
// dashboard (its WebSocket authenticated with the token) and who is logged in; "Sair" ends the
// session and brings the form back.
func TestConsoleLoginInChromium(t *testing.T) {
	alloc := testenv.Browser(t, 1280, 900)
	in := start(t, map[string]string{"PAINEL_MONITOR_INTERVAL": "250ms"}, hooks{})
	page, plog := testenv.NewPage(t, alloc)
	ctx, cancel := context.WithTimeout(page, 60*time.Second)
	defer cancel()
	fail := func(what string, err error) {
		t.Helper()
		p := testenv.Screenshot(t, page, "painel-login-failure.png")
		t.Fatalf("%s: %v (screenshot %s; browser problems %v)", what, err, p, plog.Problems())
	}
	visible := func(id string) string {
		return `(() => { const e = document.getElementById("` + id + `"); return !!e && !e.hidden && e.offsetParent !== null; })()`
	}
	// fill types into the form and submits it, as a user would.
	submit := func(email, senha string) {
		t.Helper()
		js := `(() => { const f = (id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event("input")); };
			f("login-email", ` + strconv.Quote(email) + `); f("login-senha", ` + strconv.Quote(senha) + `);
			document.getElementById("form-login").requestSubmit(); return true; })()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
			fail("submit the login form", err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/painel")); err != nil {
		fail("navigate", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](visible("login"), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		fail("the login form did not show", err)
	}
	testenv.Screenshot(t, page, "painel-login.png")

	// A wrong password: the form stays, with the reason.
	submit(testAdminEmail, "senha-errada-123")
	msg, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => document.getElementById("login-erro").textContent)()`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil || !strings.Contains(msg, "incorretos") {
		fail("wrong password message "+msg, err)
	}

	// The right one.
	submit(testAdminEmail, testAdminPassword)
	updates, err := chromedp.Run(ctx, chromedp.Poll[int](
		`(() => { const n = parseInt(document.getElementById("atualizacoes")?.textContent || "0", 10); return n >= 3 && n; })()`,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		fail("no live updates after logging in", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("usuario").textContent`))
	if err != nil || who == "—" || who == "" {
		fail("the logged-in user is not shown: "+who, err)
	}
	loginHidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("login").hidden`))
	if !loginHidden {
		fail("the login form is still showing", nil)
	}
	shot := testenv.Screenshot(t, page, "painel-console-logado.png")

	// Sair: back to the form, and the old session no longer works.
	refresh, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("painel_refresh") || ""`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.getElementById("sair").click(); return true; })()`)); err != nil {
		fail("sair", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](visible("login"), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		fail("the login form did not come back after Sair", err)
	}
	stored, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("painel_token") || ""`))
	if stored != "" {
		t.Errorf("the token is still in sessionStorage after Sair")
	}
	if code, b, _ := do(t, "POST", in.base+"/auth/refresh", "", "application/json", []byte(`{"refresh_token":"`+refresh+`"}`)); refresh == "" || code != 401 {
		t.Errorf("the console's refresh token after Sair: %d %s, want 401 (revoked)", code, b)
	}
	for _, r := range in.logs.records() {
		if strings.Contains(fmtAny(r["path"]), "/auth/logout") {
			t.Logf("logout log: %v", r)
		}
	}
	base, _ := url.Parse(in.base)
	n := 0
	for _, p := range plog.Problems() {
		// The 401s the page gets before logging in, and for the wrong password, are expected.
		if strings.Contains(p, "401") {
			continue
		}
		t.Errorf("browser reported a problem: %s", p)
		n++
	}
	t.Logf("login form, wrong password refused, %d live updates as %q, logged out; all requests to %s; screenshot %s",
		updates, who, base.Host, shot)
}

func fmtAny(v any) string { s, _ := v.(string); return s }
