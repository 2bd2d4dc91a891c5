package browser_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pyramid-go/jwtauth/internal/browser"
)

// page is the self-test's page: a field, a button whose click sends a
// same-origin fetch with the field's value, and where its answer goes.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser self-test</title></head>
<body>
<input id="name" autocomplete="off" value="typed over">
<button id="send" type="button">send</button>
<p id="answer">none yet</p>
<script>
document.getElementById("send").addEventListener("click", async () => {
	const name = document.getElementById("name").value;
	const r = await fetch("/echo?name=" + encodeURIComponent(name), {method: "POST"});
	document.getElementById("answer").textContent = r.status + " " + await r.text();
});
</script>
</body></html>`

// server serves the page, setting an HttpOnly cookie and a script-visible
// one, and /echo, which answers with the name, the HttpOnly cookie it was
// sent and the fetch metadata the browser attached.
func server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "visible", Value: "hello", Path: "/", SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		session := "(none)"
		if c, err := r.Cookie("session"); err == nil {
			session = c.Value
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "name=%s session=%s site=%s mode=%s",
			r.URL.Query().Get("name"), session,
			r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode"))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// TestBrowser drives a real Chromium through the page over loopback HTTP:
// typing, a click whose same-origin fetch carries the HttpOnly cookie and
// whose answer the page shows, and document.cookie without that cookie.
func TestBrowser(t *testing.T) {
	ts := server(t)
	b := browser.New(t)

	b.Navigate(ts.URL + "/")
	if got := b.Text("#answer"); got != "none yet" {
		t.Fatalf("#answer before the click = %q, want %q", got, "none yet")
	}

	b.Fill("#name", "first")
	if got := browser.Eval[string](b, `document.getElementById("name").value`); got != "first" {
		t.Fatalf("#name after Fill = %q, want %q", got, "first")
	}
	b.Fill("#name", "alice & bob") // over what was typed
	b.Click("#send")
	got := b.WaitTextContains("#answer", "name=")
	want := "200 name=alice & bob session=s3cret site=same-origin mode=cors"
	if got != want {
		t.Errorf("#answer after the click = %q, want %q", got, want)
	}

	// Script sees the normal cookie, never the HttpOnly one.
	cookies := browser.Eval[string](b, "document.cookie")
	if cookies != "visible=hello" {
		t.Errorf("document.cookie = %q, want %q (the HttpOnly cookie hidden from script)", cookies, "visible=hello")
	}

	// The browser itself holds both, the session one as HttpOnly.
	ctx, cancel := b.Step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, c := range res.Cookies {
		held[c.Name] = c.HTTPOnly
	}
	if httpOnly, ok := held["session"]; !ok || !httpOnly {
		t.Errorf("the browser's session cookie: held %v, HttpOnly %v; want held and HttpOnly", ok, httpOnly)
	}
	if httpOnly, ok := held["visible"]; !ok || httpOnly {
		t.Errorf("the browser's visible cookie: held %v, HttpOnly %v; want held, not HttpOnly", ok, httpOnly)
	}

	// A reload keeps the cookies and brings a fresh page.
	b.Reload()
	if got := b.Text("#answer"); got != "none yet" {
		t.Errorf("#answer after a reload = %q, want %q", got, "none yet")
	}
	if got := browser.Eval[string](b, "document.cookie"); got != "visible=hello" {
		t.Errorf("document.cookie after a reload = %q, want %q", got, "visible=hello")
	}
	if loc := b.Location(); !strings.HasPrefix(loc, ts.URL) {
		t.Errorf("location = %q, want under %s", loc, ts.URL)
	}
}

// fakeTB records how New ends a test instead of ending the real one.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Logf(string, ...any)       {}
func (f *fakeTB) Cleanup(func())            {}
func (f *fakeTB) Fatal(args ...any)         { f.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(s string, a ...any) { f.fatal = fmt.Sprintf(s, a...); runtime.Goexit() }
func (f *fakeTB) Skip(args ...any)          { f.skip = fmt.Sprint(args...); runtime.Goexit() }

// run calls New with f in a goroutine of its own, which f's Fatal and Skip
// end.
func (f *fakeTB) run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		browser.New(f)
		f.fatal = "New returned a browser"
	}()
	<-done
}

// TestNoChromium: without a chromium New fails the test, naming the script
// that installs one, unless JWTAUTHTEST_SKIP_BROWSER=1, which skips it.
func TestNoChromium(t *testing.T) {
	t.Setenv(browser.PathEnv, filepath.Join(t.TempDir(), "no-chromium-here"))

	t.Setenv(browser.SkipEnv, "")
	f := &fakeTB{TB: t}
	f.run()
	if f.skip != "" || !strings.Contains(f.fatal, "scripts/ensure-chromium.sh") || !strings.Contains(f.fatal, "no-chromium-here") {
		t.Errorf("without chromium: fatal %q, skip %q; want a failure naming the binary and scripts/ensure-chromium.sh", f.fatal, f.skip)
	}

	t.Setenv(browser.SkipEnv, "1")
	f = &fakeTB{TB: t}
	f.run()
	if f.fatal != "" || !strings.Contains(f.skip, browser.SkipEnv+"=1") {
		t.Errorf("without chromium and %s=1: fatal %q, skip %q; want a skip naming %[1]s", browser.SkipEnv, f.fatal, f.skip)
	}
}
