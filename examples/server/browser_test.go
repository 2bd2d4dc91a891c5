package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pyramid-go/jwtauth/internal/browser"
)

// authPrompts counts the requests for which the browser would have opened
// its password dialog (the DevTools Fetch domain's authRequired events,
// which take the dialog's place), and cancels each, as a user who closes
// the dialog would. Every other request is let through untouched.
type authPrompts struct {
	mu   sync.Mutex
	urls []string
}

// watch starts counting on b's tab.
func (a *authPrompts) watch(t *testing.T, b *browser.Browser) {
	t.Helper()
	ctx := b.Context()
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		case *fetch.EventAuthRequired:
			a.mu.Lock()
			a.urls = append(a.urls, ev.Request.Method+" "+ev.Request.URL)
			a.mu.Unlock()
			go chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{
				RequestID:             ev.RequestID,
				AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth},
			})
		}
	})
	if err != nil {
		t.Fatalf("chromedp.Listen: %v", err)
	}
	step, cancel := b.Step()
	defer cancel()
	handle := true
	if _, err := chromedp.Call(step, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
}

// seen returns the requests that asked for the dialog so far.
func (a *authPrompts) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.urls)
}

// browserCookies returns the browser's own view of its cookies, HttpOnly
// ones included, by name.
func browserCookies(t *testing.T, b *browser.Browser) map[string]*network.Cookie {
	t.Helper()
	step, cancel := b.Step()
	defer cancel()
	res, err := chromedp.Call(step, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatalf("Network.getCookies: %v", err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}

// principalsShown is the page's list of principals.
func principalsShown(b *browser.Browser) []string {
	return browser.Eval[[]string](b, `Array.from(document.querySelectorAll("#principals li"), li => li.textContent)`)
}

// tryButton clicks a "Try" button of the page and returns the status it
// shows once the answer came.
func tryButton(b *browser.Browser, name string) string {
	b.Click("#try-" + name)
	return b.WaitText("#status-"+name, func(s string) bool { return s != "" && s != "…" })
}

// TestBrowser drives the example's page in a real headless Chromium,
// against the server make run starts (its embedded default: the JWT
// header, cookie and Basic policies): signed out, a page's requests never
// make the browser ask for a password; alice signs in with the form, sees
// her userid and principals, stays signed in across a reload, cannot read
// the cookie from script, edits /articles/1 but may not delete it; a form
// of another site (the same site's other port) cannot sign her out; she
// signs out and is anonymous again. A navigation to a guarded route, by
// contrast, does get the Basic challenge.
func TestBrowser(t *testing.T) {
	srv := startRun(t, "-addr", "127.0.0.1:0")
	b := browser.New(t)
	var prompts authPrompts
	prompts.watch(t, b)

	// Signed out: the page's own requests (GET /auth on load, a PUT that
	// answers 401) are challenged without Basic.
	b.Navigate(srv.base + "/")
	b.WaitTextContains("#status", "Not signed in")
	if got := tryButton(b, "put-1"); got != "401" {
		t.Errorf("PUT /articles/1 signed out: %s; want 401", got)
	}
	if got := tryButton(b, "get-1"); got != "200" {
		t.Errorf("GET /articles/1 signed out: %s; want 200", got)
	}

	// Sign in as alice with the form: 303 back to the page, signed in by
	// the cookie.
	b.Fill("#username", "alice")
	b.Fill("#password", "alice")
	b.Click("#login")
	b.WaitTextContains("#status", "Signed in as alice")
	if got := b.Text("#userid"); got != "alice" {
		t.Errorf("#userid = %q; want alice", got)
	}
	if got := b.Text("#policy"); got != "cookie" {
		t.Errorf("#policy = %q; want cookie", got)
	}
	wantPrincipals := []string{"alice", "system.Everyone", "system.Authenticated", "group:editors"}
	if got := principalsShown(b); !slices.Equal(got, wantPrincipals) {
		t.Errorf("principals shown = %q; want %q", got, wantPrincipals)
	}

	// The cookie: held by the browser as set, out of the page script's reach.
	jar := browserCookies(t, b)
	c, ok := jar["jwt"]
	switch {
	case !ok:
		t.Fatalf("the browser holds no jwt cookie; it holds %v", jar)
	case !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Session:
		t.Errorf("the browser's jwt cookie: HttpOnly %v, Secure %v, SameSite %q, Path %q, session %v; want HttpOnly, Secure, Lax, /, persistent", c.HTTPOnly, c.Secure, c.SameSite, c.Path, c.Session)
	}
	if script := browser.Eval[string](b, "document.cookie"); strings.Contains(script, "jwt") || strings.Contains(script, c.Value[:16]) {
		t.Errorf("document.cookie holds the session cookie (%d bytes): the page's script reads it", len(script))
	}

	// A reload keeps her signed in.
	b.Reload()
	b.WaitTextContains("#status", "Signed in as alice")

	// An editor edits /articles/1, may not delete it, and may not see the
	// secret article.
	for _, tt := range []struct{ button, want string }{
		{"put-1", "200"}, {"delete-1", "403"}, {"get-secret", "403"}, {"get-1", "200"},
	} {
		if got := tryButton(b, tt.button); got != tt.want {
			t.Errorf("%s as alice: %s (%s); want %s", tt.button, got, b.Text("#body-"+tt.button), tt.want)
		}
	}
	if got := b.Text("#body-delete-1"); !strings.Contains(got, "forbidden") {
		t.Errorf("DELETE /articles/1 as alice answered %q; want the forbidden error", got)
	}

	// Another site's form (another port of 127.0.0.1: same site, other
	// origin, so the Lax cookie goes with it) cannot sign her out.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form id="evil" method="post" action="%s/logout"><button id="go">Win a prize</button></form>`, srv.base)
	}))
	defer evil.Close()
	b.Navigate(evil.URL + "/")
	b.Click("#go")
	if body := b.WaitTextContains("body", "csrf"); !strings.Contains(body, "cross-origin request refused") {
		t.Errorf("the other site's logout form was answered %q; want the CSRF refusal", body)
	}
	if _, ok := browserCookies(t, b)["jwt"]; !ok {
		t.Error("the other site's form deleted the cookie")
	}
	b.Navigate(srv.base + "/")
	b.WaitTextContains("#status", "Signed in as alice")

	// Sign out: the cookie is gone and the page is anonymous again.
	b.Click("#logout")
	b.WaitTextContains("#status", "Not signed in")
	if got := b.Text("#userid"); got != "" {
		t.Errorf("#userid after signing out = %q", got)
	}
	if _, ok := browserCookies(t, b)["jwt"]; ok {
		t.Error("the browser still holds the jwt cookie after signing out")
	}
	if got := tryButton(b, "put-1"); got != "401" {
		t.Errorf("PUT /articles/1 after signing out: %s; want 401", got)
	}

	// None of the page's requests asked for a password.
	if got := prompts.seen(); len(got) != 0 {
		t.Errorf("the browser would have opened its password dialog for %q", got)
	}
	// A navigation to a guarded route does get the Basic challenge: the
	// rule is the page's script's, not a Basic challenge lost.
	b.Navigate(srv.base + "/auth")
	if got := prompts.seen(); len(got) != 1 || got[0] != "GET "+srv.base+"/auth" {
		t.Errorf("a navigation to /auth asked for a password for %q; want once, for it", got)
	}
}
