package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// ---------------------------------------------------------------------------
// The page, the form login and the cookie, on the embedded default

// wantCookieAttrs are the attributes of the embedded default's cookie, as
// net/http writes them after the value.
const wantCookieAttrs = "; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"

// wantDeletion is the Set-Cookie of the embedded default's Forget.
const wantDeletion = "jwt=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"

// answer is a raw answer of the server.
type answer struct {
	status int
	header http.Header
	body   string
}

// send sends method url with header and body through c and reads the
// answer; c follows no redirect unless its CheckRedirect says so.
func send(t *testing.T, c *http.Client, method, url string, header http.Header, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// redacted is Set-Cookie values with each cookie's value replaced by its
// length, for failure messages that show no token.
func redacted(set []string) []string {
	out := make([]string, len(set))
	for i, v := range set {
		pair, attrs, _ := strings.Cut(v, ";")
		name, value, _ := strings.Cut(pair, "=")
		out[i] = fmt.Sprintf("%s=<%d bytes>;%s", name, len(value), attrs)
	}
	return out
}

// names are the names of cookies, for failure messages that show no
// token.
func names(cookies []*http.Cookie) []string {
	out := make([]string, len(cookies))
	for i, c := range cookies {
		out[i] = c.Name
	}
	return out
}

// noRedirects returns a copy of c that returns redirects as they come.
func noRedirects(c *http.Client) *http.Client {
	out := *c
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if out.Timeout == 0 {
		out.Timeout = startupTimeout
	}
	return &out
}

// form is the header of a form post, with extra header lines (name,
// value pairs).
func form(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// headers are header lines (name, value pairs).
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// credentials is the form body of a login.
func credentials(username, password string) string {
	return url.Values{"username": {username}, "password": {password}}.Encode()
}

// formLoginCookie signs username in with the form at base (no redirect
// followed), checks the 303 and returns the value of its one cookie.
func formLoginCookie(t *testing.T, base, username string) string {
	t.Helper()
	got := send(t, noRedirects(http.DefaultClient), http.MethodPost, base+"/login", form(), credentials(username, username))
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/" {
		t.Fatalf("form login %s: %d, Location %q, want 303 to /; %s", username, got.status, got.header.Get("Location"), got.body)
	}
	set := got.header.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("form login %s: Set-Cookie %q, want one", username, redacted(set))
	}
	c, err := http.ParseSetCookie(set[0])
	if err != nil || c.Name != policy.DefaultCookieName || c.Value == "" {
		t.Fatalf("form login %s: Set-Cookie %q (%v), want the jwt cookie", username, redacted(set), err)
	}
	return c.Value
}

// verifyToken checks token with go-jose and secret (HS256 only) and
// returns its registered claims and its groups claim.
func verifyToken(t *testing.T, token string, secret []byte) (jwt.Claims, []string) {
	t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("jwt.ParseSigned: %v", err)
	}
	var std jwt.Claims
	var extra struct {
		Groups []string `json:"groups"`
	}
	if err := parsed.Claims(secret, &std, &extra); err != nil {
		t.Fatalf("the token does not verify with the master secret: %v", err)
	}
	return std, extra.Groups
}

// TestFormLogin: a form login answers 303 to the page with the cookie
// policy's cookie, whose attributes are exactly the embedded default's and
// whose token, checked with go-jose and the master secret, is alice's, with
// her groups and an hour's lifetime; it carries no token in its body. A
// JSON login still answers the token and sets no cookie.
func TestFormLogin(t *testing.T) {
	p, secret := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	got := send(t, noRedirects(http.DefaultClient), http.MethodPost, srv.URL+"/login", form(), credentials("alice", "alice"))
	if got.status != http.StatusSeeOther || got.header.Get("Location") != "/" {
		t.Fatalf("form login: %d, Location %q; %s", got.status, got.header.Get("Location"), got.body)
	}
	set := got.header.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("Set-Cookie %q, want one", redacted(set))
	}
	value, attrs, ok := strings.Cut(set[0], ";")
	token, named := strings.CutPrefix(value, "jwt=")
	if !ok || !named || "; "+strings.TrimSpace(attrs) != wantCookieAttrs {
		t.Fatalf("Set-Cookie %q, want jwt=<token>%s", redacted(set), wantCookieAttrs)
	}
	c, err := http.ParseSetCookie(set[0])
	if err != nil {
		t.Fatal(err)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 3600 {
		t.Errorf("cookie %q, want HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, Max-Age=3600", redacted(set))
	}
	std, groups := verifyToken(t, token, secret)
	if std.Subject != "alice" || !reflect.DeepEqual(groups, []string{"editors"}) {
		t.Errorf("the cookie's token: sub %q, groups %q; want alice, [editors]", std.Subject, groups)
	}
	if std.IssuedAt == nil || std.Expiry == nil || std.Expiry.Time().Sub(std.IssuedAt.Time()) != time.Hour {
		t.Errorf("the cookie's token: iat %v, exp %v, want an hour apart", std.IssuedAt, std.Expiry)
	}
	if d := time.Since(std.IssuedAt.Time()); d < -time.Minute || d > time.Minute {
		t.Errorf("the cookie's token was issued %v ago", d)
	}
	if strings.Contains(got.body, token) {
		t.Error("the form login's body holds the token")
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	// The JSON contract is today's: a token, no cookie.
	j := send(t, http.DefaultClient, http.MethodPost, srv.URL+"/login", headers("Content-Type", "application/json"), `{"username":"alice","password":"alice"}`)
	if j.status != http.StatusOK || !regexp.MustCompile(`^\{"token":"[A-Za-z0-9_.-]+"\}\n$`).MatchString(j.body) {
		t.Errorf("JSON login: %d %q, want 200 {\"token\": ...}", j.status, j.body)
	}
	if sc := j.header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("JSON login: Set-Cookie %q, want none", redacted(sc))
	}
}

// TestFormLoginRefused: a form login with a wrong password, an unknown
// user or no fields is answered 401 with the page that says so, and
// neither a cookie nor a challenge (which would open the browser's
// password dialog); a body too large is a 400. A cross-origin form login
// (login CSRF) is refused with 403 csrf and no cookie; one from the page's
// own origin is not.
func TestFormLoginRefused(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	c := noRedirects(http.DefaultClient)

	for name, body := range map[string]string{
		"wrong password": credentials("alice", "bob"),
		"empty password": credentials("alice", ""),
		"unknown user":   credentials("mallory", "mallory"),
		"no fields":      "x=1",
		"a JSON field":   url.Values{"username": {`{"username":"alice","password":"alice"}`}}.Encode(),
	} {
		got := send(t, c, http.MethodPost, srv.URL+"/login", form(), body)
		if got.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401; %s", name, got.status, got.body)
		}
		if sc := got.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: Set-Cookie %q", name, redacted(sc))
		}
		if ch := got.header.Values("WWW-Authenticate"); len(ch) != 0 {
			t.Errorf("%s: WWW-Authenticate %q on a form's 401", name, ch)
		}
		if ct := got.header.Get("Content-Type"); ct != htmlType || !strings.Contains(got.body, `id="login-error"`) {
			t.Errorf("%s: %q, %d bytes, want the HTML of a failed sign-in", name, ct, len(got.body))
		}
		if got.header.Get("Content-Security-Policy") != pageCSP {
			t.Errorf("%s: Content-Security-Policy %q", name, got.header.Get("Content-Security-Policy"))
		}
	}

	// curl -d labels a JSON body as a form: it is JSON all the same.
	j := send(t, c, http.MethodPost, srv.URL+"/login", form(), "\n "+`{"username":"alice","password":"alice"}`)
	if j.status != http.StatusOK || !strings.HasPrefix(j.body, `{"token":"`) || len(j.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a JSON body labelled as a form: %d, Set-Cookie %q, want 200, a token and no cookie", j.status, redacted(j.header.Values("Set-Cookie")))
	}
	if j := send(t, c, http.MethodPost, srv.URL+"/login", form(), `{"username":"alice","password":"wrong"}`); j.status != http.StatusUnauthorized || j.header.Get("Content-Type") != "application/json" {
		t.Errorf("a JSON body labelled as a form, wrong password: %d %q, want 401 JSON", j.status, j.header.Get("Content-Type"))
	}

	big := credentials("alice", "alice") + "&pad=" + strings.Repeat("x", maxLoginBody)
	if got := send(t, c, http.MethodPost, srv.URL+"/login", form(), big); got.status != http.StatusBadRequest || len(got.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a form of %d bytes: %d, Set-Cookie %q, want 400 and none", len(big), got.status, redacted(got.header.Values("Set-Cookie")))
	}

	for name, h := range map[string]http.Header{
		"Origin of another site":   form("Origin", "https://evil.example"),
		"Sec-Fetch-Site cross":     form("Sec-Fetch-Site", "cross-site"),
		"Sec-Fetch-Site sibling":   form("Sec-Fetch-Site", "same-site"),
		"JSON from another site":   headers("Content-Type", "text/plain", "Sec-Fetch-Site", "cross-site"),
		"Origin on another port":   form("Origin", "http://127.0.0.1:1"),
		"cross, with an Origin ok": form("Sec-Fetch-Site", "cross-site", "Origin", srv.URL),
	} {
		got := send(t, c, http.MethodPost, srv.URL+"/login", h, credentials("alice", "alice"))
		if got.status != http.StatusForbidden || !strings.Contains(got.body, `"error":"csrf"`) {
			t.Errorf("%s: %d %s, want 403 csrf", name, got.status, got.body)
		}
		if sc := got.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s: Set-Cookie %q", name, redacted(sc))
		}
	}
	for name, h := range map[string]http.Header{
		"Sec-Fetch-Site same-origin": form("Sec-Fetch-Site", "same-origin", "Origin", srv.URL),
		"the page's Origin":          form("Origin", srv.URL),
		"no browser headers (curl)":  form(),
	} {
		if got := send(t, c, http.MethodPost, srv.URL+"/login", h, credentials("alice", "alice")); got.status != http.StatusSeeOther || len(got.header.Values("Set-Cookie")) != 1 {
			t.Errorf("%s: %d, Set-Cookie %q, want 303 and the cookie", name, got.status, redacted(got.header.Values("Set-Cookie")))
		}
	}
}

// TestCookieSession drives a session as a browser would, with a cookie
// jar over HTTPS (a jar sends Secure cookies over https only): the form
// login follows its 303 to the page; the cookie then authenticates every
// route as alice (an editor: PUT /articles/1 200, DELETE 403); an unsafe
// request the cookie authenticates from another origin is refused with
// 403 csrf, from the page's own origin it is not, and a header's
// credentials are not subject to the rule; a cross-origin sign-out is
// refused too; the sign-out deletes the cookie and the jar is anonymous
// again.
func TestCookieSession(t *testing.T) {
	p, secret := defaultPolicy(t)
	srv := httptest.NewTLSServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := srv.Client()
	browser.Jar = jar
	browser.Timeout = startupTimeout
	base, _ := url.Parse(srv.URL)

	// Sign in; the redirect lands on the page.
	page := send(t, browser, http.MethodPost, srv.URL+"/login", form("Sec-Fetch-Site", "same-origin", "Origin", srv.URL), credentials("alice", "alice"))
	if page.status != http.StatusOK || page.header.Get("Content-Type") != htmlType || !strings.Contains(page.body, `id="login-form"`) {
		t.Fatalf("form login, redirect followed: %d %q", page.status, page.header.Get("Content-Type"))
	}
	cookies := jar.Cookies(base)
	if len(cookies) != 1 || cookies[0].Name != "jwt" {
		t.Fatalf("the jar holds %q, want the jwt cookie", names(cookies))
	}
	_, groups := verifyToken(t, cookies[0].Value, secret)
	if !reflect.DeepEqual(groups, []string{"editors"}) {
		t.Errorf("the cookie's groups %q, want [editors]", groups)
	}

	for _, tc := range []struct {
		method, path string
		header       http.Header
		status       int
		body         string // the JSON answer, "" to skip
	}{
		{http.MethodGet, "/auth", nil, http.StatusOK, `{"policy":"cookie","userid":"alice"}`},
		{http.MethodGet, "/groups", nil, http.StatusOK, `{"principals":["alice","system.Everyone","system.Authenticated","group:editors"]}`},
		{http.MethodGet, "/public", nil, http.StatusOK, `{"userid":"alice"}`},
		{http.MethodGet, "/articles/1", nil, http.StatusOK, `{"article":"1","permission":"view","userid":"alice"}`},
		{http.MethodPut, "/articles/1", nil, http.StatusOK, `{"article":"1","permission":"edit","userid":"alice"}`},
		{http.MethodDelete, "/articles/1", nil, http.StatusForbidden, `{"error":"forbidden"}`},
		{http.MethodDelete, "/articles/secret", nil, http.StatusForbidden, `{"error":"forbidden"}`},
		// The page's own script: allowed.
		{http.MethodPut, "/articles/1", headers("Sec-Fetch-Site", "same-origin", "Origin", srv.URL), http.StatusOK, ""},
		{http.MethodPut, "/articles/1", headers("Origin", srv.URL), http.StatusOK, ""},
		// Another site's page: refused before the guard, whatever the
		// permission.
		{http.MethodPut, "/articles/1", headers("Origin", "https://evil.example"), http.StatusForbidden, "csrf"},
		{http.MethodPut, "/articles/1", headers("Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "csrf"},
		{http.MethodDelete, "/articles/secret", headers("Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "csrf"},
		{http.MethodPost, "/logout", headers("Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "csrf"},
		// A safe method from another site is no CSRF.
		{http.MethodGet, "/auth", headers("Sec-Fetch-Site", "cross-site"), http.StatusOK, `{"policy":"cookie","userid":"alice"}`},
	} {
		got := send(t, noRedirects(browser), tc.method, srv.URL+tc.path, tc.header, "")
		name := tc.method + " " + tc.path + " " + headerText(tc.header)
		if got.status != tc.status {
			t.Errorf("%s: %d %s, want %d", name, got.status, got.body, tc.status)
			continue
		}
		switch tc.body {
		case "":
		case "csrf":
			if !strings.HasPrefix(got.body, `{"error":"csrf"`) {
				t.Errorf("%s: body %s, want the csrf error", name, got.body)
			}
		default:
			if strings.TrimSpace(got.body) != tc.body {
				t.Errorf("%s: body %s, want %s", name, got.body, tc.body)
			}
		}
	}
	if len(jar.Cookies(base)) != 1 {
		t.Fatalf("the cross-origin sign-out changed the jar: %q", names(jar.Cookies(base)))
	}

	// A header's credentials from another origin: no CSRF (no browser
	// attaches a header by itself), even beside the cookie.
	tok := send(t, browser, http.MethodPost, srv.URL+"/login", headers("Content-Type", "application/json"), `{"username":"admin","password":"admin"}`)
	token := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(tok.body), `{"token":"`), `"}`)
	if got := send(t, browser, http.MethodDelete, srv.URL+"/articles/secret", headers("Authorization", "JWT token="+token, "Sec-Fetch-Site", "cross-site"), ""); got.status != http.StatusOK || !strings.Contains(got.body, `"userid":"admin"`) {
		t.Errorf("DELETE /articles/secret with admin's token, cross-site, alice's cookie beside it: %d %s, want 200 as admin", got.status, got.body)
	}
	if len(jar.Cookies(base)) != 1 {
		t.Errorf("the JSON login changed the jar: %q", names(jar.Cookies(base)))
	}

	// Sign out as the page's button does.
	out := send(t, noRedirects(browser), http.MethodPost, srv.URL+"/logout", form("Sec-Fetch-Site", "same-origin", "Origin", srv.URL), "")
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/" {
		t.Fatalf("form logout: %d, Location %q, want 303 to /", out.status, out.header.Get("Location"))
	}
	if sc := out.header.Values("Set-Cookie"); !reflect.DeepEqual(sc, []string{wantDeletion}) {
		t.Errorf("form logout: Set-Cookie %q, want [%s]", redacted(sc), wantDeletion)
	}
	if got := challengeSet(out.header); !reflect.DeepEqual(got, defaultChallenges) {
		t.Errorf("form logout: WWW-Authenticate %q, want the header policies' Forget (JWT and Basic)", out.header.Values("WWW-Authenticate"))
	}
	if c := jar.Cookies(base); len(c) != 0 {
		t.Fatalf("after the sign-out the jar holds %q", names(c))
	}
	if got := send(t, browser, http.MethodGet, srv.URL+"/auth", headers("Sec-Fetch-Mode", "cors"), ""); got.status != http.StatusUnauthorized {
		t.Errorf("GET /auth after the sign-out: %d %s, want 401", got.status, got.body)
	}
	if got := send(t, browser, http.MethodPut, srv.URL+"/articles/1", nil, ""); got.status != http.StatusUnauthorized {
		t.Errorf("PUT /articles/1 after the sign-out: %d %s, want 401", got.status, got.body)
	}
}

// headerText names the header lines of a test case.
func headerText(h http.Header) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		parts = append(parts, k+": "+h.Get(k))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestLogout: POST /logout answers every policy's Forget, 204 for a
// request that is not a form, with or without credentials, and 303 for
// a form; it needs no credentials.
func TestLogout(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	c := noRedirects(http.DefaultClient)
	cookie := formLoginCookie(t, srv.URL, "alice")
	for name, tc := range map[string]struct {
		header http.Header
		status int
	}{
		"anonymous":                   {nil, http.StatusNoContent},
		"with the cookie":             {headers("Cookie", "jwt="+cookie), http.StatusNoContent},
		"JSON":                        {headers("Content-Type", "application/json"), http.StatusNoContent},
		"a form":                      {form(), http.StatusSeeOther},
		"a form with the cookie":      {form("Cookie", "jwt="+cookie), http.StatusSeeOther},
		"a form, charset":             {headers("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"), http.StatusSeeOther},
		"a form, a cookie that fails": {form("Cookie", "jwt="+testkit.BreakSignature(t, cookie)), http.StatusSeeOther},
	} {
		got := send(t, c, http.MethodPost, srv.URL+"/logout", tc.header, "")
		if got.status != tc.status {
			t.Errorf("%s: %d %s, want %d", name, got.status, got.body, tc.status)
		}
		if sc := got.header.Values("Set-Cookie"); !reflect.DeepEqual(sc, []string{wantDeletion}) {
			t.Errorf("%s: Set-Cookie %q, want [%s]", name, redacted(sc), wantDeletion)
		}
		if tc.status == http.StatusNoContent && got.body != "" {
			t.Errorf("%s: a body %q on a 204", name, got.body)
		}
	}
	if got := send(t, c, http.MethodGet, srv.URL+"/logout", nil, ""); got.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d, want 405", got.status)
	}
}

// TestPageScriptChallenge: a 401 to a page's script (Sec-Fetch-Mode
// other than navigate) carries the JWT challenge but not Basic's, which
// would open the browser's password dialog over the page; a navigation
// and a client outside a browser (no Sec-Fetch-Mode, as curl) get both.
// A cookie that fails is answered invalid_token and deleted, for a page's
// script too.
func TestPageScriptChallenge(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	jwtOnly := map[string]bool{"JWT": true}
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/auth"},
		{http.MethodPut, "/articles/1"},
		{http.MethodDelete, "/articles/secret"},
	} {
		for mode, want := range map[string]map[string]bool{
			"cors":        jwtOnly,
			"same-origin": jwtOnly,
			"no-cors":     jwtOnly,
			"navigate":    defaultChallenges,
			"":            defaultChallenges,
		} {
			h := headers("Sec-Fetch-Mode", mode)
			if mode != "" {
				h.Set("Sec-Fetch-Site", "same-origin")
			}
			got := send(t, http.DefaultClient, rt.method, srv.URL+rt.path, h, "")
			if got.status != http.StatusUnauthorized || !reflect.DeepEqual(challengeSet(got.header), want) || len(got.header.Values("WWW-Authenticate")) != len(want) {
				t.Errorf("%s %s, Sec-Fetch-Mode %q: %d, WWW-Authenticate %q, want 401 and %v", rt.method, rt.path, mode, got.status, got.header.Values("WWW-Authenticate"), slices.Sorted(maps.Keys(want)))
			}
		}
	}

	broken := testkit.BreakSignature(t, formLoginCookie(t, srv.URL, "alice"))
	got := send(t, http.DefaultClient, http.MethodGet, srv.URL+"/auth", headers("Cookie", "jwt="+broken, "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin"), "")
	if got.status != http.StatusUnauthorized || !strings.Contains(got.body, `"error":"invalid_token"`) {
		t.Errorf("GET /auth with a broken cookie: %d %s, want 401 invalid_token", got.status, got.body)
	}
	if !reflect.DeepEqual(challengeSet(got.header), jwtOnly) {
		t.Errorf("GET /auth with a broken cookie, page script: WWW-Authenticate %q, want JWT only", got.header.Values("WWW-Authenticate"))
	}
	if sc := got.header.Values("Set-Cookie"); !reflect.DeepEqual(sc, []string{wantDeletion}) {
		t.Errorf("GET /auth with a broken cookie: Set-Cookie %q, want the deletion", redacted(sc))
	}
}

// TestCookieReissue: a cookie whose token is older than the default's
// cookie_reissue_time (600 s) gets a fresh cookie on the response, with
// the same claims but iat and exp, checked with go-jose; a younger one
// does not; a sign-in or a sign-out on a request with an old cookie
// answers its own cookie only.
func TestCookieReissue(t *testing.T) {
	p, secret := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	c := noRedirects(http.DefaultClient)
	issuedAgo := func(d time.Duration) string {
		iat := time.Now().Add(-d).Unix()
		return mint(t, secret, map[string]any{"sub": "alice", "groups": []string{"editors"}, "iat": iat, "exp": iat + 3600})
	}

	old := issuedAgo(601 * time.Second)
	got := send(t, c, http.MethodGet, srv.URL+"/auth", headers("Cookie", "jwt="+old), "")
	if got.status != http.StatusOK || strings.TrimSpace(got.body) != `{"policy":"cookie","userid":"alice"}` {
		t.Fatalf("GET /auth with a cookie of 601 s: %d %s", got.status, got.body)
	}
	set := got.header.Values("Set-Cookie")
	if len(set) != 1 || !strings.HasPrefix(set[0], "jwt=") || !strings.HasSuffix(set[0], wantCookieAttrs) {
		t.Fatalf("GET /auth with a cookie of 601 s: Set-Cookie %q, want a fresh jwt cookie%s", redacted(set), wantCookieAttrs)
	}
	fresh := strings.TrimSuffix(strings.TrimPrefix(set[0], "jwt="), wantCookieAttrs)
	if fresh == old {
		t.Fatal("the cookie re-issued is the old one")
	}
	std, groups := verifyToken(t, fresh, secret)
	if std.Subject != "alice" || !reflect.DeepEqual(groups, []string{"editors"}) {
		t.Errorf("the re-issued token: sub %q, groups %q, want alice, [editors]", std.Subject, groups)
	}
	if d := time.Since(std.IssuedAt.Time()); d < -time.Minute || d > time.Minute {
		t.Errorf("the re-issued token was issued %v ago, want now", d)
	}
	if std.Expiry.Time().Sub(std.IssuedAt.Time()) != time.Hour {
		t.Errorf("the re-issued token lives %v, want an hour", std.Expiry.Time().Sub(std.IssuedAt.Time()))
	}

	young := issuedAgo(300 * time.Second)
	if got := send(t, c, http.MethodGet, srv.URL+"/auth", headers("Cookie", "jwt="+young), ""); got.status != http.StatusOK || len(got.header.Values("Set-Cookie")) != 0 {
		t.Errorf("GET /auth with a cookie of 300 s: %d, Set-Cookie %q, want 200 and none", got.status, redacted(got.header.Values("Set-Cookie")))
	}
	if got := send(t, c, http.MethodPost, srv.URL+"/logout", form("Cookie", "jwt="+old), ""); !reflect.DeepEqual(got.header.Values("Set-Cookie"), []string{wantDeletion}) {
		t.Errorf("sign-out with an old cookie: Set-Cookie %q, want the deletion only", redacted(got.header.Values("Set-Cookie")))
	}
	got = send(t, c, http.MethodPost, srv.URL+"/login", form("Cookie", "jwt="+old), credentials("bob", "bob"))
	if set := got.header.Values("Set-Cookie"); got.status != http.StatusSeeOther || len(set) != 1 {
		t.Fatalf("sign-in as bob with alice's old cookie: %d, Set-Cookie %q, want 303 and one cookie", got.status, redacted(set))
	}
	value, _, _ := strings.Cut(strings.TrimPrefix(got.header.Get("Set-Cookie"), "jwt="), ";")
	if std, _ := verifyToken(t, value, secret); std.Subject != "bob" {
		t.Errorf("sign-in as bob with alice's old cookie: the cookie is %q's", std.Subject)
	}
}

// TestPage: GET / serves the page's HTML with its Content-Security-Policy
// (script-src 'self', no inline script, nothing from elsewhere), the
// forms that post to /login and /logout, and the stable ids a browser test
// uses; every id the script looks up is on the page; the script and the
// style sheet are served with their types.
func TestPage(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	got := send(t, http.DefaultClient, http.MethodGet, srv.URL+"/", nil, "")
	if got.status != http.StatusOK || got.header.Get("Content-Type") != htmlType {
		t.Fatalf("GET /: %d %q", got.status, got.header.Get("Content-Type"))
	}
	csp := got.header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
		"form-action": "'self'", "base-uri": "'none'", "frame-ancestors": "'none'",
	} {
		if directives[name] != want {
			t.Errorf("Content-Security-Policy %q: %s %q, want %q", csp, name, directives[name], want)
		}
	}
	if got.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("GET /: no X-Content-Type-Options: nosniff")
	}
	html := got.body

	// Scripts only from the page's origin, no inline script or style, no
	// event handler attributes, nothing from another host.
	scripts := regexp.MustCompile(`<script\b[^>]*>`).FindAllString(html, -1)
	if len(scripts) != 1 || !strings.Contains(scripts[0], `src="/app.js"`) || !strings.Contains(html, `<script src="/app.js" defer></script>`) {
		t.Errorf("the page's scripts %q, want <script src=\"/app.js\" defer></script> only", scripts)
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`\son[a-z]+\s*=`), regexp.MustCompile(`\sstyle\s*=`), regexp.MustCompile(`<style`),
		regexp.MustCompile(`(?:src|href|action)="(?:https?:)?//`), regexp.MustCompile(`javascript:`),
	} {
		if m := bad.FindString(html); m != "" {
			t.Errorf("the page has %q, which its CSP refuses or which loads from elsewhere", m)
		}
	}

	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		if ids[m[1]] {
			t.Errorf("the id %q is given twice", m[1])
		}
		ids[m[1]] = true
	}
	want := []string{"status", "who", "userid", "policy", "principals", "login-form", "username", "password", "login", "logout-form", "logout"}
	for _, m := range []string{"get", "put", "delete"} {
		for _, a := range []string{"1", "secret"} {
			want = append(want, "try-"+m+"-"+a, "status-"+m+"-"+a, "body-"+m+"-"+a)
			button := regexp.MustCompile(`<button type="button" id="try-` + m + `-` + a + `" data-method="` + strings.ToUpper(m) + `" data-path="/articles/` + a + `" data-result="` + m + `-` + a + `">`)
			if !button.MatchString(html) {
				t.Errorf("no button %s /articles/%s with the id try-%s-%s and its result", strings.ToUpper(m), a, m, a)
			}
		}
	}
	for _, id := range want {
		if !ids[id] {
			t.Errorf("the page has no element with the id %q", id)
		}
	}
	for _, f := range []string{
		`<form id="login-form" method="post" action="/login">`, `name="username"`, `name="password" type="password"`,
		`<form id="logout-form" method="post" action="/logout" hidden>`, `<button id="logout" type="submit">`,
	} {
		if !strings.Contains(html, f) {
			t.Errorf("the page lacks %s", f)
		}
	}

	js := send(t, http.DefaultClient, http.MethodGet, srv.URL+"/app.js", nil, "")
	if js.status != http.StatusOK || js.header.Get("Content-Type") != "text/javascript; charset=utf-8" || js.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /app.js: %d %q", js.status, js.header.Get("Content-Type"))
	}
	lookups := regexp.MustCompile(`byId\("([^"]+)"\)`).FindAllStringSubmatch(js.body, -1)
	if len(lookups) < 8 {
		t.Errorf("the script looks up %d ids; the test reads them with byId(\"...\")", len(lookups))
	}
	for _, m := range lookups {
		if !ids[m[1]] {
			t.Errorf("the script looks up the id %q, which the page lacks", m[1])
		}
	}
	if strings.Contains(js.body, "document.cookie") || strings.Contains(js.body, "innerHTML") || regexp.MustCompile(`https?://`).MatchString(js.body) {
		t.Error("the script reads cookies, writes HTML or calls another host")
	}
	if css := send(t, http.DefaultClient, http.MethodGet, srv.URL+"/app.css", nil, ""); css.status != http.StatusOK || css.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("GET /app.css: %d %q", css.status, css.header.Get("Content-Type"))
	}
}

// TestNoCookiePolicy: a configuration without a jwt_cookie policy (the JWT
// policy alone, with -demo-users) answers a form login 501 before it reads
// the credentials, and sets no cookie; the JSON login, the page and the
// sign-out (the JWT policy's Forget only) still work.
func TestNoCookiePolicy(t *testing.T) {
	p := policyFromINI(t, writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	))
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	c := noRedirects(http.DefaultClient)
	for _, body := range []string{credentials("alice", "alice"), credentials("alice", "wrong")} {
		got := send(t, c, http.MethodPost, srv.URL+"/login", form(), body)
		if got.status != http.StatusNotImplemented || len(got.header.Values("Set-Cookie")) != 0 {
			t.Errorf("form login without a cookie policy: %d, Set-Cookie %q, want 501 and none", got.status, redacted(got.header.Values("Set-Cookie")))
		}
	}
	if got := postLogin(t, srv.URL, `{"username":"alice","password":"alice"}`); got.status != http.StatusOK {
		t.Errorf("JSON login: %d %s", got.status, got.raw)
	}
	if got := send(t, c, http.MethodGet, srv.URL+"/", nil, ""); got.status != http.StatusOK {
		t.Errorf("GET /: %d", got.status)
	}
	got := send(t, c, http.MethodPost, srv.URL+"/logout", nil, "")
	if got.status != http.StatusNoContent || len(got.header.Values("Set-Cookie")) != 0 || !reflect.DeepEqual(got.header.Values("WWW-Authenticate"), []string{"JWT"}) {
		t.Errorf("POST /logout: %d, Set-Cookie %q, WWW-Authenticate %q, want 204, none, [JWT]", got.status, redacted(got.header.Values("Set-Cookie")), got.header.Values("WWW-Authenticate"))
	}
}
