package settings_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

// cookieStack is a stack of a JWT header policy (api) and a cookie policy
// (web), sharing the top-level secret, with the keys kv (a value "-"
// deletes its key).
func cookieStack(kv ...string) map[string]string {
	m := map[string]string{
		"multiauth.policies":       "api web",
		"multiauth.policy.api.use": "jwt",
		"multiauth.policy.web.use": "jwt_cookie",
		"jwtauth.master_secret":    secret,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// quiet is a logger that drops everything (cookie_secure = false warns).
var quiet = slog.New(slog.DiscardHandler)

// mustStack builds the stack of m or fails the test; it is closed at the
// end of the test.
func mustStack(t *testing.T, m map[string]string) *multiauth.Policy {
	t.Helper()
	p, err := settings.NewPolicy(m, nil, quiet)
	if err != nil {
		t.Fatalf("NewPolicy(%v): %v", redact(m), err)
	}
	t.Cleanup(func() { p.Close() })
	stack, ok := p.(*multiauth.Policy)
	if !ok {
		t.Fatalf("NewPolicy(%v) made a %T, not a stack", redact(m), p)
	}
	return stack
}

// cookiePolicy is the policy named web of stack, which must be a cookie
// policy.
func cookiePolicy(t *testing.T, stack *multiauth.Policy) *policy.Cookie {
	t.Helper()
	for _, n := range stack.Policies() {
		if n.Name == "web" {
			c, ok := n.Policy.(*policy.Cookie)
			if !ok {
				t.Fatalf("the policy web is a %T, not a cookie policy", n.Policy)
			}
			return c
		}
	}
	t.Fatal("no policy web in the stack")
	return nil
}

// remembered returns the one Set-Cookie value of the stack's Remember for
// userid with the token replaced by <token>, and the token.
func remembered(t *testing.T, stack *multiauth.Policy, userid string) (setCookie, token string) {
	t.Helper()
	h := stack.Remember(httptest.NewRequest(http.MethodPost, "/login", nil), userid)
	got := h.Values("Set-Cookie")
	if len(got) != 1 || len(h) != 1 {
		t.Fatalf("Remember returned %q; want one Set-Cookie and nothing else", h)
	}
	nameValue, attrs, _ := strings.Cut(got[0], ";")
	name, token, ok := strings.Cut(nameValue, "=")
	if !ok || token == "" {
		t.Fatalf("Set-Cookie %q has no value", got[0])
	}
	return name + "=<token>;" + attrs, token
}

// verifiedClaims verifies tok with go-jose and the tests' secret,
// independently of the policy, and returns its registered claims.
func verifiedClaims(t *testing.T, tok string) jwt.Claims {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("the remembered token does not parse: %v", err)
	}
	var c jwt.Claims
	if err := parsed.Claims([]byte(secret), &c); err != nil {
		t.Fatalf("the remembered token does not verify with the secret: %v", err)
	}
	return c
}

// TestCookieSettings: every cookie_* key of a jwt_cookie policy, and the
// top-level jwtauth.cookie_* defaults, reach the cookie that Remember
// sets, exactly; the token in it is the secret's, for the userid, with the
// configured lifetime.
func TestCookieSettings(t *testing.T) {
	for _, tt := range []struct {
		name   string
		kv     []string
		want   string
		maxAge time.Duration // the token's lifetime; 0: no exp
	}{
		{"defaults", nil, "jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"cookie_samesite Strict", []string{"multiauth.policy.web.cookie_samesite", "Strict"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict", time.Hour},
		{"cookie_samesite in any case", []string{"multiauth.policy.web.cookie_samesite", " strict "},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict", time.Hour},
		{"cookie_samesite None", []string{"multiauth.policy.web.cookie_samesite", "None"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=None", time.Hour},
		{"cookie_samesite Lax", []string{"multiauth.policy.web.cookie_samesite", "LAX"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"cookie_secure false", []string{"multiauth.policy.web.cookie_secure", "false"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax", time.Hour},
		{"cookie_secure no", []string{"multiauth.policy.web.cookie_secure", "no"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax", time.Hour},
		{"cookie_secure true", []string{"multiauth.policy.web.cookie_secure", "true"},
			"jwt=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"cookie_domain", []string{"multiauth.policy.web.cookie_domain", "example.com"},
			"jwt=<token>; Path=/; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"cookie_path", []string{"multiauth.policy.web.cookie_path", "/app"},
			"jwt=<token>; Path=/app; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"cookie_name", []string{"multiauth.policy.web.cookie_name", "session"},
			"session=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"a __Host- cookie_name", []string{"multiauth.policy.web.cookie_name", "__Host-sid"},
			"__Host-sid=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"expiration of the policy", []string{"multiauth.policy.web.expiration", "600"},
			"jwt=<token>; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax", 10 * time.Minute},
		{"expiration 0: a session cookie", []string{"multiauth.policy.web.expiration", "0"},
			"jwt=<token>; Path=/; HttpOnly; Secure; SameSite=Lax", 0},
		{"every setting", []string{
			"multiauth.policy.web.cookie_name", "sid",
			"multiauth.policy.web.cookie_secure", "off",
			"multiauth.policy.web.cookie_samesite", "Strict",
			"multiauth.policy.web.cookie_path", "/app",
			"multiauth.policy.web.cookie_domain", "app.example.com",
			"multiauth.policy.web.expiration", "120",
		}, "sid=<token>; Path=/app; Domain=app.example.com; Max-Age=120; HttpOnly; SameSite=Strict", 2 * time.Minute},
		// The top-level jwtauth.cookie_* keys are the defaults of every
		// jwt_cookie policy (the jwt policy ignores them), and a policy's
		// own keys win.
		{"top-level defaults", []string{
			"jwtauth.cookie_name", "sid",
			"jwtauth.cookie_secure", "false",
			"jwtauth.cookie_samesite", "Strict",
			"jwtauth.cookie_path", "/app",
			"jwtauth.cookie_domain", "example.com",
			"jwtauth.expiration", "300",
		}, "sid=<token>; Path=/app; Domain=example.com; Max-Age=300; HttpOnly; SameSite=Strict", 5 * time.Minute},
		{"own keys win over top-level ones", []string{
			"jwtauth.cookie_name", "sid",
			"jwtauth.cookie_samesite", "Strict",
			"multiauth.policy.web.cookie_name", "web",
			"multiauth.policy.web.cookie_samesite", "Lax",
		}, "web=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
		{"an empty own key leaves the top-level one", []string{
			"jwtauth.cookie_name", "sid",
			"multiauth.policy.web.cookie_name", " ",
		}, "sid=<token>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stack := mustStack(t, cookieStack(tt.kv...))
			got, tok := remembered(t, stack, "alice")
			if got != tt.want {
				t.Errorf("Set-Cookie\n got %s\nwant %s", got, tt.want)
			}
			c := verifiedClaims(t, tok)
			if c.Subject != "alice" || c.IssuedAt == nil {
				t.Errorf("the token's sub %q, iat %v; want alice and an iat", c.Subject, c.IssuedAt)
			}
			switch {
			case tt.maxAge == 0 && c.Expiry != nil:
				t.Errorf("the token expires (%v); want no exp", c.Expiry.Time())
			case tt.maxAge != 0 && (c.Expiry == nil || c.Expiry.Time().Sub(c.IssuedAt.Time()) != tt.maxAge):
				t.Errorf("the token's exp %v, iat %v; want a lifetime of %v", c.Expiry, c.IssuedAt, tt.maxAge)
			}
		})
	}
}

// cookieRequest is a request of method with a cookie name=value, and the
// other headers of kv.
func cookieRequest(method, name, value string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "http://app.example.com/articles/1", nil)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

// TestCookieNameIsRead: the policy reads its token from the cookie that
// cookie_name names, and from no other.
func TestCookieNameIsRead(t *testing.T) {
	stack := mustStack(t, cookieStack("multiauth.policy.web.cookie_name", "session"))
	tok := mint(t, "HS256", []byte(secret), fresh("alice"))
	id := policy.Identify(stack, cookieRequest(http.MethodGet, "session", tok))
	if id.Err != nil || id.UserID != "alice" || id.Policy != "web" {
		t.Errorf("cookie session: %q by %q, %v; want alice by web", id.UserID, id.Policy, id.Err)
	}
	id = policy.Identify(stack, cookieRequest(http.MethodGet, "jwt", tok))
	if !errors.Is(id.Err, policy.ErrNoCredentials) {
		t.Errorf("cookie jwt, which the policy does not read: %q, %v; want no credentials", id.UserID, id.Err)
	}
}

// serve runs r through Authenticate(p) to a handler that answers 200, and
// returns the response.
func serve(p policy.AuthenticationPolicy, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})).ServeHTTP(w, r)
	return w
}

// TestCookieTrustedOriginsSetting: cookie_trusted_origins (own or
// top-level) lets the pages of those origins send unsafe requests that the
// cookie authenticates; other origins are refused with the CSRF answer.
func TestCookieTrustedOriginsSetting(t *testing.T) {
	tok := mint(t, "HS256", []byte(secret), fresh("alice"))
	fromOrigin := func(origin string) *http.Request {
		return cookieRequest(http.MethodPut, "jwt", tok, "Origin", origin, "Sec-Fetch-Site", "cross-site")
	}
	for _, tt := range []struct {
		name string
		kv   []string
	}{
		{"own", []string{"multiauth.policy.web.cookie_trusted_origins", "https://admin.example.com, https://other.example.org"}},
		{"top-level", []string{"jwtauth.cookie_trusted_origins", "https://other.example.org https://admin.example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stack := mustStack(t, cookieStack(tt.kv...))
			if w := serve(stack, fromOrigin("https://admin.example.com")); w.Code != http.StatusOK {
				t.Errorf("a PUT from a trusted origin: %d %s; want 200", w.Code, w.Body)
			}
			w := serve(stack, fromOrigin("https://evil.example.net"))
			if w.Code != http.StatusForbidden || jsonError(t, w.Body.String()) != "csrf" {
				t.Errorf("a PUT from another origin: %d %s; want 403 csrf", w.Code, w.Body)
			}
		})
	}
	// Without the setting, no other origin is trusted.
	stack := mustStack(t, cookieStack())
	if w := serve(stack, fromOrigin("https://admin.example.com")); w.Code != http.StatusForbidden {
		t.Errorf("without cookie_trusted_origins, a cross-origin PUT: %d; want 403", w.Code)
	}
}

// jsonError is the "error" member of a JSON body.
func jsonError(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `"error":"`)
	if !ok {
		return ""
	}
	e, _, _ := strings.Cut(rest, `"`)
	return e
}

// TestCookieReissueSetting: with cookie_reissue_time, a request whose
// cookie holds a token issued longer ago gets a fresh cookie; without it,
// never.
func TestCookieReissueSetting(t *testing.T) {
	now := time.Now()
	old := mint(t, "HS256", []byte(secret), jwt.Claims{
		Subject:  "alice",
		IssuedAt: jwt.NewNumericDate(now.Add(-10 * time.Minute)),
		Expiry:   jwt.NewNumericDate(now.Add(50 * time.Minute)),
	})
	get := func(stack *multiauth.Policy) []string {
		return serve(stack, cookieRequest(http.MethodGet, "jwt", old)).Header().Values("Set-Cookie")
	}
	if got := get(mustStack(t, cookieStack())); len(got) != 0 {
		t.Errorf("without cookie_reissue_time: Set-Cookie %q; want none", got)
	}
	if got := get(mustStack(t, cookieStack("multiauth.policy.web.cookie_reissue_time", "3000"))); len(got) != 0 {
		t.Errorf("cookie_reissue_time 3000, a token 600 s old: Set-Cookie %q; want none", got)
	}
	for _, kv := range [][]string{
		{"multiauth.policy.web.cookie_reissue_time", "60"},
		{"jwtauth.cookie_reissue_time", "60"},
	} {
		got := get(mustStack(t, cookieStack(kv...)))
		if len(got) != 1 || !strings.HasPrefix(got[0], "jwt=") {
			t.Errorf("%s = 60, a token 600 s old: Set-Cookie %q; want a fresh jwt cookie", kv[0], got)
			continue
		}
		value, _, _ := strings.Cut(strings.TrimPrefix(got[0], "jwt="), ";")
		if c := verifiedClaims(t, value); c.Subject != "alice" || c.IssuedAt.Time().Before(now.Add(-time.Minute)) {
			t.Errorf("%s: the fresh token's sub %q, iat %v; want alice, issued now", kv[0], c.Subject, c.IssuedAt.Time())
		}
	}
}

// TestCookieSettingErrors: each mistake in the settings of a jwt_cookie
// policy is an error naming the key that was written (or, when none was,
// the policy's key that would fix it).
func TestCookieSettingErrors(t *testing.T) {
	pub := publicPEMs(t, testKeys()[0])[0].pem
	for _, tt := range []struct {
		name     string
		m        map[string]string
		key      string
		sentinel error
		says     string
	}{
		{"a bad cookie_samesite", cookieStack("multiauth.policy.web.cookie_samesite", "Sideways"),
			"multiauth.policy.web.cookie_samesite", settings.ErrBadValue, `multiauth.policy.web.cookie_samesite: "Sideways" is not Lax, Strict or None`},
		{"a bad top-level cookie_samesite", cookieStack("jwtauth.cookie_samesite", "Sideways"),
			"jwtauth.cookie_samesite", settings.ErrBadValue, `jwtauth.cookie_samesite: "Sideways" is not Lax, Strict or None`},
		{"a bad cookie_secure", cookieStack("multiauth.policy.web.cookie_secure", "maybe"),
			"multiauth.policy.web.cookie_secure", settings.ErrBadValue, `"maybe" is not a boolean`},
		{"a bad cookie_reissue_time", cookieStack("multiauth.policy.web.cookie_reissue_time", "soon"),
			"multiauth.policy.web.cookie_reissue_time", settings.ErrBadValue, `"soon" is not a whole number of seconds`},
		{"a negative cookie_reissue_time", cookieStack("multiauth.policy.web.cookie_reissue_time", "-5"),
			"multiauth.policy.web.cookie_reissue_time", settings.ErrBadValue, "must not be negative"},
		{"a cookie_reissue_time not shorter than the expiration", cookieStack("multiauth.policy.web.cookie_reissue_time", "3600"),
			"multiauth.policy.web.cookie_reissue_time", settings.ErrBadValue, "not shorter than the tokens' lifetime"},
		{"a bad cookie_trusted_origins", cookieStack("multiauth.policy.web.cookie_trusted_origins", "https://example.com/path"),
			"multiauth.policy.web.cookie_trusted_origins", settings.ErrBadValue, "multiauth.policy.web.cookie_trusted_origins: "},
		{"a bad cookie_name", cookieStack("multiauth.policy.web.cookie_name", "my session"),
			"multiauth.policy.web.cookie_name", settings.ErrBadValue, "multiauth.policy.web.cookie_name: "},
		{"a __Host- cookie_name with a path", cookieStack("multiauth.policy.web.cookie_name", "__Host-sid", "multiauth.policy.web.cookie_path", "/app"),
			"multiauth.policy.web.cookie_name", settings.ErrBadValue, "__Host-"},
		{"a __Secure- cookie_name without Secure", cookieStack("multiauth.policy.web.cookie_name", "__Secure-sid", "multiauth.policy.web.cookie_secure", "false"),
			"multiauth.policy.web.cookie_name", settings.ErrBadValue, "__Secure-"},
		{"a bad cookie_path", cookieStack("multiauth.policy.web.cookie_path", "/a;b"),
			"multiauth.policy.web.cookie_path", settings.ErrBadValue, "multiauth.policy.web.cookie_path: "},
		{"a bad cookie_domain", cookieStack("multiauth.policy.web.cookie_domain", "exa mple.com"),
			"multiauth.policy.web.cookie_domain", settings.ErrBadValue, "multiauth.policy.web.cookie_domain: "},
		// SameSite=None needs Secure: the error names cookie_samesite,
		// where None was written, and says which setting leaves Secure out.
		{"samesite None, not secure", cookieStack("multiauth.policy.web.cookie_samesite", "None", "multiauth.policy.web.cookie_secure", "false"),
			"multiauth.policy.web.cookie_samesite", settings.ErrBadValue, "None needs the Secure attribute, which cookie_secure = false leaves out"},
		{"samesite None at top level, not secure", cookieStack("jwtauth.cookie_samesite", "None", "multiauth.policy.web.cookie_secure", "false"),
			"jwtauth.cookie_samesite", settings.ErrBadValue, "None needs the Secure attribute"},
		{"samesite None, not secure at top level", cookieStack("multiauth.policy.web.cookie_samesite", "None", "jwtauth.cookie_secure", "false"),
			"multiauth.policy.web.cookie_samesite", settings.ErrBadValue, "None needs the Secure attribute"},
		// The cookie policy signs what it remembers.
		{"no key at all", cookieStack("multiauth.policies", "web", "multiauth.policy.api.use", "-", "jwtauth.master_secret", "-"),
			"multiauth.policy.web.master_secret", settings.ErrBadValue, "multiauth.policy.web.master_secret: "},
		{"a public key only", cookieStack("multiauth.policies", "web", "multiauth.policy.api.use", "-", "jwtauth.master_secret", "-",
			"multiauth.policy.web.public_key", string(pub), "multiauth.policy.web.algorithm", "RS256"),
			"multiauth.policy.web.master_secret", settings.ErrBadValue, "the cookie policy signs the tokens it remembers"},
		// scheme is the header policy's: not a jwt_cookie policy's own key,
		// and a top-level one is no default of it (see TestCookieScheme).
		{"scheme of a jwt_cookie policy", cookieStack("multiauth.policy.web.scheme", "Bearer"),
			"multiauth.policy.web.scheme", settings.ErrBadValue, "is a setting of the jwt policy"},
		// cookie_* keys are the jwt_cookie policy's.
		{"cookie_name of a jwt policy", cookieStack("multiauth.policy.api.cookie_name", "sid"),
			"multiauth.policy.api.cookie_name", settings.ErrUnknownKey, "it is a setting of jwt_cookie policies, not of jwt"},
		{"cookie_secure of a jwt policy", cookieStack("multiauth.policy.api.cookie_secure", "false"),
			"multiauth.policy.api.cookie_secure", settings.ErrUnknownKey, "unknown setting"},
		// Typos get the key they are near.
		{"a typo of a jwt_cookie key", cookieStack("multiauth.policy.web.cookie_nmae", "sid"),
			"multiauth.policy.web.cookie_nmae", settings.ErrUnknownKey,
			"multiauth.policy.web.cookie_nmae: unknown setting; did you mean multiauth.policy.web.cookie_name?"},
		{"a typo of a top-level cookie key", cookieStack("jwtauth.cookie_samesit", "Lax"),
			"jwtauth.cookie_samesit", settings.ErrUnknownKey,
			"jwtauth.cookie_samesit: unknown setting; did you mean jwtauth.cookie_samesite?"},
		// Without a stack, the settings make the header policy alone: a
		// cookie key is a mistake, not a setting ignored.
		{"jwtauth.cookie_name without a stack", map[string]string{"jwtauth.master_secret": secret, "jwtauth.cookie_name": "sid"},
			"jwtauth.cookie_name", settings.ErrBadValue, "multiauth.policies"},
		{"jwtauth.cookie_secure without a stack", map[string]string{"jwtauth.master_secret": secret, "jwtauth.cookie_secure": "false"},
			"jwtauth.cookie_secure", settings.ErrBadValue, "is a setting of the cookie policy"},
		// Nor is one that no jwt_cookie policy of the stack takes.
		{"jwtauth.cookie_samesite in a stack without a cookie policy", cookieStack("multiauth.policies", "api", "multiauth.policy.web.use", "-", "jwtauth.cookie_samesite", "Sideways"),
			"jwtauth.cookie_samesite", settings.ErrBadValue, "no policy of multiauth.policies uses jwt_cookie"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := settings.NewPolicy(tt.m, nil, quiet)
			if p != nil {
				p.Close()
				t.Fatalf("a policy was made: %T", p)
			}
			msg := settingsError(t, err, tt.key, tt.sentinel)
			if !strings.Contains(msg, tt.says) {
				t.Errorf("error %q does not say %q", msg, tt.says)
			}
			noKeyMaterial(t, msg, pub)
		})
	}
}

// TestCookieScheme: jwtauth.scheme is the header policy's default alone:
// with it, a stack builds, the jwt policy challenges with it and the
// cookie policy still reads its cookie (and no header of that scheme).
func TestCookieScheme(t *testing.T) {
	stack := mustStack(t, cookieStack("jwtauth.scheme", "Bearer"))
	tok := mint(t, "HS256", []byte(secret), fresh("alice"))
	if id := policy.Identify(stack, cookieRequest(http.MethodGet, "jwt", tok)); id.Err != nil || id.UserID != "alice" || id.Policy != "web" {
		t.Errorf("the cookie: %q by %q, %v; want alice by web", id.UserID, id.Policy, id.Err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if id := policy.Identify(stack, r); id.Err != nil || id.Policy != "api" {
		t.Errorf("a Bearer header: %q by %q, %v; want alice by api", id.UserID, id.Policy, id.Err)
	}
	if id := policy.IdentityOf(r, cookiePolicy(t, stack)); !errors.Is(id.Err, policy.ErrNoCredentials) {
		t.Errorf("the cookie policy, asked about a Bearer header: %v; want no credentials", id.Err)
	}
	w := httptest.NewRecorder()
	stack.Challenge(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != "Bearer" {
		t.Errorf("the stack's challenge %q; want [Bearer] (a cookie has no scheme)", got)
	}
}

// TestCookieEnvErrorsNameTheVariable: an error in a cookie key set by an
// environment variable names the variable, and its key.
func TestCookieEnvErrorsNameTheVariable(t *testing.T) {
	for _, tt := range []struct {
		env, key, msg string
		sentinel      error
	}{
		{"MULTIAUTH_POLICY_WEB_COOKIE_SAMESITE=Sideways", "multiauth.policy.web.cookie_samesite",
			`MULTIAUTH_POLICY_WEB_COOKIE_SAMESITE (multiauth.policy.web.cookie_samesite): "Sideways" is not Lax, Strict or None`, settings.ErrBadValue},
		{"JWTAUTH_COOKIE_SAMESITE=Sideways", "jwtauth.cookie_samesite",
			`JWTAUTH_COOKIE_SAMESITE (jwtauth.cookie_samesite): "Sideways" is not Lax, Strict or None`, settings.ErrBadValue},
		{"MULTIAUTH_POLICY_WEB_COOKIE_SECURE=maybe", "multiauth.policy.web.cookie_secure",
			`MULTIAUTH_POLICY_WEB_COOKIE_SECURE (multiauth.policy.web.cookie_secure): "maybe" is not a boolean (use true or false)`, settings.ErrBadValue},
		{"MULTIAUTH_POLICY_WEB_COOKIE_NMAE=sid", "multiauth.policy.web.cookie_nmae",
			"MULTIAUTH_POLICY_WEB_COOKIE_NMAE (multiauth.policy.web.cookie_nmae): unknown setting; did you mean MULTIAUTH_POLICY_WEB_COOKIE_NAME?", settings.ErrUnknownKey},
		{"MULTIAUTH_POLICY_API_COOKIE_NAME=sid", "multiauth.policy.api.cookie_name",
			"MULTIAUTH_POLICY_API_COOKIE_NAME (multiauth.policy.api.cookie_name): unknown setting: it is a setting of jwt_cookie policies, not of jwt", settings.ErrUnknownKey},
	} {
		t.Run(tt.env, func(t *testing.T) {
			m, from := settings.FromEnv([]string{
				"MULTIAUTH_POLICIES=api web",
				"MULTIAUTH_POLICY_API_USE=jwt",
				"MULTIAUTH_POLICY_WEB_USE=jwt_cookie",
				"JWTAUTH_MASTER_SECRET=" + secret,
				tt.env,
			})
			p, err := settings.NewPolicy(m, from, quiet)
			if p != nil {
				p.Close()
				t.Fatalf("a policy was made: %T", p)
			}
			settingsError(t, err, tt.key, tt.sentinel)
			if err.Error() != tt.msg {
				t.Errorf("error\n got %q\nwant %q", err, tt.msg)
			}
			var e *settings.Error
			if errors.As(err, &e); e.Env != strings.SplitN(tt.env, "=", 2)[0] {
				t.Errorf("Env = %q", e.Env)
			}
			noKeyMaterial(t, err.Error())
		})
	}
	// The same key without a stack names its variable too.
	m, from := settings.FromEnv([]string{"JWTAUTH_MASTER_SECRET=" + secret, "JWTAUTH_COOKIE_NAME=sid"})
	_, err := settings.NewPolicy(m, from, quiet)
	if settingsError(t, err, "jwtauth.cookie_name", settings.ErrBadValue); !strings.HasPrefix(err.Error(), "JWTAUTH_COOKIE_NAME (jwtauth.cookie_name): ") {
		t.Errorf("without a stack: %v", err)
	}
}

// TestCookieDefaultsLeaveTheHeaderPolicyAlone: top-level cookie_* keys,
// in a stack, are no error of the jwt policy (which refuses them as its
// own keys): it builds, and reads its header as before.
func TestCookieDefaultsLeaveTheHeaderPolicyAlone(t *testing.T) {
	stack := mustStack(t, cookieStack("jwtauth.cookie_name", "sid", "jwtauth.cookie_secure", "false", "jwtauth.cookie_reissue_time", "60"))
	tok := mint(t, "HS256", []byte(secret), fresh("alice"))
	r := request("JWT", tok)
	if id := policy.Identify(stack, r); id.Err != nil || id.UserID != "alice" || id.Policy != "api" {
		t.Errorf("a JWT header: %q by %q, %v; want alice by api", id.UserID, id.Policy, id.Err)
	}
}

// TestCookieBesideAnIdentityProvider: the stack most applications want,
// an identity provider's tokens for the API (top-level key set keys) and
// the application's own cookie session, builds: the key set keys and
// token_type are no defaults of the jwt_cookie policy.
func TestCookieBesideAnIdentityProvider(t *testing.T) {
	a := jwk(1, "key-a")
	path := writeFile(t, "jwks.json", testkit.PublicJWKS(t, a))
	p, err := settings.NewPolicy(map[string]string{
		"multiauth.policies":                 "api web",
		"multiauth.policy.api.use":           "jwt",
		"multiauth.policy.web.use":           "jwt_cookie",
		"multiauth.policy.web.master_secret": secret,
		"jwtauth.jwks_file":                  path,
		"jwtauth.token_type":                 "at+jwt",
	}, nil, quiet)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	defer p.Close()
	r := httptest.NewRequest("POST", "/login", nil)
	c, err := http.ParseSetCookie(p.Remember(r, "alice").Get("Set-Cookie"))
	if err != nil {
		t.Fatalf("the stack's Remember made no cookie: %v", err)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	if userid, err := p.AuthenticatedUserID(r); err != nil || userid != "alice" {
		t.Errorf("the cookie: %q, %v; want alice", userid, err)
	}
}
