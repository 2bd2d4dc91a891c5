package policy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// newCookie builds a cookie policy with testSecret and the fixed clock,
// then applies mod.
func newCookie(t testing.TB, mod func(*policy.CookieConfig)) *policy.Cookie {
	t.Helper()
	cfg := policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, Now: clock, Logger: discard}}
	if mod != nil {
		mod(&cfg)
	}
	p, err := policy.NewCookie(cfg)
	if err != nil {
		t.Fatalf("NewCookie: %v", err)
	}
	return p
}

// setCookieParts splits a Set-Cookie value into its name=value and its
// attributes.
func setCookieParts(t testing.TB, v string) (name, value string, attrs []string) {
	t.Helper()
	parts := strings.Split(v, "; ")
	name, value, ok := strings.Cut(parts[0], "=")
	if !ok {
		t.Fatalf("Set-Cookie %q has no name=value", v)
	}
	return name, value, parts[1:]
}

// onlySetCookie returns the one Set-Cookie value of h.
func onlySetCookie(t testing.TB, h http.Header) string {
	t.Helper()
	if v := h.Values("Set-Cookie"); len(v) != 1 {
		t.Fatalf("Set-Cookie = %q; want one", v)
	}
	return h.Get("Set-Cookie")
}

// TestCookieAttributes: Remember's and Forget's Set-Cookie, attribute by
// attribute, for each setting; the token Remember stores verifies with
// go-jose and carries the claims asked for, but none that the policy owns.
func TestCookieAttributes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mod    func(*policy.CookieConfig)
		cookie string
		attrs  []string // of Remember's cookie; Forget's are the same with Max-Age=0
		maxAge string
	}{
		{"defaults", nil, "jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=3600"},
		{"name", func(c *policy.CookieConfig) { c.Name = "session" }, "session", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=3600"},
		{"__Host- name", func(c *policy.CookieConfig) { c.Name = "__Host-jwt" }, "__Host-jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=3600"},
		{"insecure", func(c *policy.CookieConfig) { c.Insecure = true }, "jwt", []string{"Path=/", "HttpOnly", "SameSite=Lax"}, "Max-Age=3600"},
		{"strict", func(c *policy.CookieConfig) { c.SameSite = http.SameSiteStrictMode }, "jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"}, "Max-Age=3600"},
		{"none", func(c *policy.CookieConfig) { c.SameSite = http.SameSiteNoneMode }, "jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=None"}, "Max-Age=3600"},
		{"path", func(c *policy.CookieConfig) { c.Path = "/app" }, "jwt", []string{"Path=/app", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=3600"},
		{"domain", func(c *policy.CookieConfig) { c.Domain = "example.com" }, "jwt", []string{"Path=/", "Domain=example.com", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=3600"},
		{"expiration", func(c *policy.CookieConfig) { c.Expiration = 20 * time.Minute }, "jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, "Max-Age=1200"},
		{"no expiration", func(c *policy.CookieConfig) { c.Expiration = policy.NoExpiration }, "jwt", []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newCookie(t, tt.mod)
			r := policy.WithTokenClaims(httptest.NewRequest("POST", "/login", nil), map[string]any{
				"groups": []string{"editors"}, "sub": "mallory", "iat": 1, "exp": 2,
			})
			name, value, attrs := setCookieParts(t, onlySetCookie(t, p.Remember(r, "alice")))
			want := withMaxAge(tt.attrs, tt.maxAge)
			if name != tt.cookie || !reflect.DeepEqual(attrs, want) {
				t.Errorf("Remember: %s=…; %q; want %s=…; %q", name, attrs, tt.cookie, want)
			}
			claims := verifyWithJose(t, value, jose.HS256, testSecret)
			wantClaims := map[string]any{"sub": "alice", "iat": float64(testNow.Unix()), "groups": []any{"editors"}}
			if tt.maxAge != "" {
				exp := testNow.Add(time.Hour)
				if tt.name == "expiration" {
					exp = testNow.Add(20 * time.Minute)
				}
				wantClaims["exp"] = float64(exp.Unix())
			}
			if !reflect.DeepEqual(claims, wantClaims) {
				t.Errorf("the remembered token's claims = %v; want %v", claims, wantClaims)
			}

			name, value, attrs = setCookieParts(t, onlySetCookie(t, p.Forget(r)))
			if want := withMaxAge(tt.attrs, "Max-Age=0"); name != tt.cookie || value != "" || !reflect.DeepEqual(attrs, want) {
				t.Errorf("Forget: %s=%s; %q; want %s=; %q", name, value, attrs, tt.cookie, want)
			}
		})
	}
}

// withMaxAge puts maxAge where net/http writes it: after Path and Domain.
func withMaxAge(attrs []string, maxAge string) []string {
	if maxAge == "" {
		return attrs
	}
	i := 0
	for i < len(attrs) && (strings.HasPrefix(attrs[i], "Path=") || strings.HasPrefix(attrs[i], "Domain=")) {
		i++
	}
	out := append([]string{}, attrs[:i]...)
	out = append(out, maxAge)
	return append(out, attrs[i:]...)
}

// TestCookieRememberRefuses: no cookie for a userid that could never
// authenticate, nor for claims that do not encode.
func TestCookieRememberRefuses(t *testing.T) {
	log, buf := bufLogger()
	p := newCookie(t, func(c *policy.CookieConfig) { c.Logger = log })
	r := httptest.NewRequest("POST", "/login", nil)
	if h := p.Remember(r, "group:admins"); len(h) != 0 {
		t.Errorf("Remember(group:admins) = %v; want no header", h)
	}
	if h := p.Remember(policy.WithTokenClaims(r, map[string]any{"bad": func() {}}), "alice"); len(h) != 0 {
		t.Errorf("Remember with a claim that does not encode = %v; want no header", h)
	}
	if n := strings.Count(buf.String(), "level=ERROR msg=\"jwtauth: the cookie policy cannot remember the user\""); n != 2 {
		t.Errorf("logged %d refusals; want 2:\n%s", n, buf)
	}
	if _, err := p.CookieFor("system.Everyone", nil); err == nil {
		t.Error("CookieFor(system.Everyone) made a cookie")
	}
}

// TestCookieRoundTrip: a browser's cookie jar keeps what Remember sets,
// presents it, and drops it on Forget, over real HTTPS.
func TestCookieRoundTrip(t *testing.T) {
	p := newCookie(t, func(c *policy.CookieConfig) { c.Now = time.Now })
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		for k, v := range p.Remember(r, r.FormValue("user")) {
			w.Header()[k] = v
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		for k, v := range p.Forget(r) {
			w.Header()[k] = v
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		userid, err := p.AuthenticatedUserID(r)
		if err != nil {
			p.Challenge(w, r)
			return
		}
		io.WriteString(w, userid)
	})
	srv := httptest.NewTLSServer(policy.Authenticate(p)(mux))
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)

	me := func(want int, wantBody string) {
		t.Helper()
		res, err := client.Get(srv.URL + "/me")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || want == 200 && string(body) != wantBody {
			t.Fatalf("GET /me: %d %s; want %d %s", res.StatusCode, body, want, wantBody)
		}
	}
	post := func(path, form string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("POST %s: %d", path, res.StatusCode)
		}
	}
	me(401, "")
	post("/login", "user=alice")
	me(200, "alice")
	post("/logout", "")
	me(401, "")
}

// reissueClock is a clock the reissue tests move.
type reissueClock struct{ now atomic.Int64 }

func (c *reissueClock) Now() time.Time { return time.Unix(c.now.Load(), 0) }

// TestCookieReissue: a request whose cookie's token is older than
// ReissueAfter gets a fresh cookie, with the same claims but iat and exp;
// never beside Remember's or Forget's, never for a request a header
// authenticated, never for a fresh token, a token without iat or a failed
// one.
func TestCookieReissue(t *testing.T) {
	clk := &reissueClock{}
	clk.now.Store(testNow.Unix())
	mod := func(c *policy.CookieConfig) {
		c.Now, c.ReissueAfter, c.Expiration = clk.Now, 10*time.Minute, time.Hour
	}
	cookie := newCookie(t, mod)
	header := newPolicy(t, func(c *policy.Config) { c.Now = clk.Now })
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: header}, {Name: "web", Policy: cookie}}})
	if err != nil {
		t.Fatal(err)
	}
	claimsAt := func(iat time.Time) map[string]any {
		return map[string]any{"sub": "alice", "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix(), "groups": []string{"editors"}, "tenant": map[string]any{"id": 7}}
	}
	old := mintHS(t, claimsAt(testNow.Add(-11*time.Minute)))
	fresh := mintHS(t, claimsAt(testNow.Add(-9*time.Minute)))
	noIat := mintHS(t, map[string]any{"sub": "alice", "exp": testNow.Add(time.Hour).Unix()})
	expired := mintHS(t, claimsAt(testNow.Add(-2*time.Hour)))

	serve := func(p policy.AuthenticationPolicy, r *http.Request, handler func(w http.ResponseWriter, r *http.Request)) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		policy.Authenticate(p)(http.HandlerFunc(handler)).ServeHTTP(rec, r)
		return rec
	}
	withCookie := func(tok string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "jwt", Value: tok})
		return r
	}
	// The re-issued cookie goes on when the handler writes the header.
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

	t.Run("an old token gets a fresh cookie", func(t *testing.T) {
		for _, p := range []policy.AuthenticationPolicy{cookie, stack} {
			rec := serve(p, withCookie(old), ok)
			name, value, attrs := setCookieParts(t, onlySetCookie(t, rec.Header()))
			if want := []string{"Path=/", "Max-Age=3600", "HttpOnly", "Secure", "SameSite=Lax"}; name != "jwt" || !reflect.DeepEqual(attrs, want) {
				t.Errorf("re-issued %s=…; %q; want jwt=…; %q", name, attrs, want)
			}
			got := verifyWithJose(t, value, jose.HS256, testSecret)
			want := verifyWithJose(t, old, jose.HS256, testSecret)
			want["iat"], want["exp"] = float64(testNow.Unix()), float64(testNow.Add(time.Hour).Unix())
			if !reflect.DeepEqual(got, want) {
				t.Errorf("re-issued claims = %v; want %v", got, want)
			}
		}
	})
	for _, tt := range []struct {
		name    string
		p       policy.AuthenticationPolicy
		r       *http.Request
		handler func(w http.ResponseWriter, r *http.Request)
		want    []string // the Set-Cookie values' names and Max-Age
	}{
		{"a fresh token", cookie, withCookie(fresh), ok, nil},
		{"a token without iat", cookie, withCookie(noIat), ok, nil},
		{"an expired token", cookie, withCookie(expired), ok, nil},
		{"no cookie", cookie, httptest.NewRequest("GET", "/", nil), ok, nil},
		{"a handler that writes nothing", cookie, withCookie(old), func(http.ResponseWriter, *http.Request) {}, nil},
		{"a 1xx answer first", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, []string{"jwt Max-Age=3600"}},
		{"a flush", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush()
		}, []string{"jwt Max-Age=3600"}},
		{"a response for shared caches", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60, Public")
			io.WriteString(w, "ok")
		}, nil},
		{"a response for shared caches (s-maxage)", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "s-maxage=60")
			w.WriteHeader(200)
		}, nil},
		{"a response with a lifetime", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "max-age=600")
			w.WriteHeader(200)
		}, nil},
		{"a response with Expires", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")
			w.WriteHeader(200)
		}, nil},
		{"a response with Last-Modified", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Last-Modified", "Thu, 01 Jan 2015 00:00:00 GMT")
			w.WriteHeader(200)
		}, nil},
		{"a response for a CDN", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("CDN-Cache-Control", "max-age=600")
			w.WriteHeader(200)
		}, nil},
		{"a response no cache may store", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "no-store, max-age=600")
			w.Header().Set("Last-Modified", "Thu, 01 Jan 2015 00:00:00 GMT")
			w.WriteHeader(200)
		}, []string{"jwt Max-Age=3600"}},
		{"another site's link", cookie, func() *http.Request {
			r := withCookie(old)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}(), ok, nil},
		{"the site's own page", cookie, func() *http.Request {
			r := withCookie(old)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}(), ok, []string{"jwt Max-Age=3600"}},
		{"a private response", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "private, max-age=60")
			w.WriteHeader(200)
		}, []string{"jwt Max-Age=3600"}},
		{"the handler sets the cookie itself", cookie, withCookie(old), func(w http.ResponseWriter, _ *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "jwt", Value: "x", MaxAge: 60})
			w.WriteHeader(200)
		}, []string{"jwt Max-Age=60"}},
		{"Forget, its headers not sent", cookie, withCookie(old), func(w http.ResponseWriter, r *http.Request) {
			cookie.Forget(r)
			w.WriteHeader(200)
		}, nil},
		{"Forget", cookie, withCookie(old), func(w http.ResponseWriter, r *http.Request) {
			for k, v := range cookie.Forget(r) {
				w.Header()[k] = append(w.Header()[k], v...)
			}
			io.WriteString(w, "ok")
		}, []string{"jwt Max-Age=0"}},
		{"Forget through the stack", stack, withCookie(old), func(w http.ResponseWriter, r *http.Request) {
			for k, v := range stack.Forget(r) {
				w.Header()[k] = append(w.Header()[k], v...)
			}
			io.WriteString(w, "ok")
		}, []string{"jwt Max-Age=0"}},
		{"Remember", cookie, withCookie(old), func(w http.ResponseWriter, r *http.Request) {
			for k, v := range cookie.Remember(r, "bob") {
				w.Header()[k] = append(w.Header()[k], v...)
			}
			io.WriteString(w, "ok")
		}, []string{"jwt Max-Age=3600"}},
		{"a header authenticated the request", stack, func() *http.Request {
			r := withCookie(old)
			r.Header.Set("Authorization", jwtAuth(mintHS(t, validClaims("bob"))))
			return r
		}(), ok, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(tt.p, tt.r, tt.handler)
			var got []string
			for _, v := range rec.Header().Values("Set-Cookie") {
				name, _, attrs := setCookieParts(t, v)
				for _, a := range attrs {
					if strings.HasPrefix(a, "Max-Age=") {
						name += " " + a
					}
				}
				got = append(got, name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Set-Cookie = %q; want %q", got, tt.want)
			}
		})
	}
	t.Run("the clock decides", func(t *testing.T) {
		defer clk.now.Store(testNow.Unix())
		clk.now.Store(testNow.Add(2 * time.Minute).Unix()) // fresh is now 11 minutes old
		if rec := serve(cookie, withCookie(fresh), ok); len(rec.Header().Values("Set-Cookie")) != 1 {
			t.Errorf("after two minutes, Set-Cookie = %q; want a re-issued cookie", rec.Header().Values("Set-Cookie"))
		}
	})
}

// TestCookieCSRF: a request with an unsafe method that only the cookie
// authenticates is refused (403, {"error":"csrf"}, the handler not run)
// unless it comes from the site's own pages or a trusted origin; safe
// methods and requests a header authenticates are never refused.
func TestCookieCSRF(t *testing.T) {
	cookie := newCookie(t, func(c *policy.CookieConfig) { c.TrustedOrigins = []string{"https://app.example"} })
	header := newPolicy(t, nil)
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "api", Policy: header}, {Name: "web", Policy: cookie}}})
	if err != nil {
		t.Fatal(err)
	}
	cookieFirst, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "web", Policy: cookie}, {Name: "api", Policy: header}}})
	if err != nil {
		t.Fatal(err)
	}
	tokCookie, tokHeader := mintHS(t, validClaims("alice")), mintHS(t, validClaims("bob"))

	origins := []struct {
		name    string
		headers map[string]string
		refused bool // for an unsafe method with the cookie alone
	}{
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, false},
		{"typed by the user", map[string]string{"Sec-Fetch-Site": "none"}, false},
		{"another site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, true},
		{"a sibling site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.example.com"}, true},
		{"another Origin, no Sec-Fetch-Site", map[string]string{"Origin": "https://evil.example"}, true},
		{"the same Origin, no Sec-Fetch-Site", map[string]string{"Origin": "http://example.com"}, false},
		{"no Origin", nil, false},
		{"a trusted origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}, false},
	}
	creds := []struct {
		name           string
		p              policy.AuthenticationPolicy
		cookie, header bool
		user           string // who the handler sees
	}{
		{"cookie, cookie policy", cookie, true, false, "alice"},
		{"cookie, stack", stack, true, false, "alice"},
		{"cookie, stack with the cookie first", cookieFirst, true, false, "alice"},
		{"header, stack", stack, false, true, "bob"},
		{"header and cookie, stack", stack, true, true, "bob"},
		{"header and cookie, stack with the cookie first", cookieFirst, true, true, "alice"},
	}
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"} {
		unsafe := method != "GET" && method != "HEAD" && method != "OPTIONS"
		for _, o := range origins {
			for _, c := range creds {
				r := httptest.NewRequest(method, "http://example.com/articles/1", nil)
				for k, v := range o.headers {
					r.Header.Set(k, v)
				}
				if c.cookie {
					r.AddCookie(&http.Cookie{Name: "jwt", Value: tokCookie})
				}
				if c.header {
					r.Header.Set("Authorization", jwtAuth(tokHeader))
				}
				refused := unsafe && o.refused && !c.header
				user := c.user
				if unsafe && o.refused && c.header {
					user = "bob" // the cookie is refused; the header is not
				}
				var saw string
				ran := false
				rec := httptest.NewRecorder()
				policy.Authenticate(c.p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					ran = true
					saw, _ = policy.UserIDFrom(r.Context())
				})).ServeHTTP(rec, r)
				what := method + " from " + o.name + " with " + c.name
				if refused {
					var body map[string]string
					json.Unmarshal(rec.Body.Bytes(), &body)
					if rec.Code != 403 || ran || body["error"] != "csrf" {
						t.Errorf("%s: %d %s, handler ran %v; want 403 csrf", what, rec.Code, rec.Body, ran)
					}
					continue
				}
				if rec.Code != 200 || !ran || saw != user {
					t.Errorf("%s: %d, handler saw %q; want 200 for %q", what, rec.Code, saw, user)
				}
			}
		}
	}

	// Without Authenticate, the policy's own answers refuse the cookie of a
	// cross-site request as well.
	r := httptest.NewRequest("POST", "http://example.com/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(&http.Cookie{Name: "jwt", Value: tokCookie})
	if userid, err := cookie.AuthenticatedUserID(r); !errors.Is(err, policy.ErrUserRejected) || !errors.Is(err, policy.ErrCrossOrigin) || userid != "" {
		t.Errorf("AuthenticatedUserID of a cross-site POST = %q, %v; want ErrUserRejected and ErrCrossOrigin", userid, err)
	}
	if pr, _ := cookie.EffectivePrincipals(r); !reflect.DeepEqual(pr, []string{policy.Everyone}) {
		t.Errorf("EffectivePrincipals of a cross-site POST = %q", pr)
	}
}

// TestCookieCredentials: what a request's cookies are.
func TestCookieCredentials(t *testing.T) {
	log, buf := bufLogger()
	p := newCookie(t, func(c *policy.CookieConfig) { c.Logger = log })
	tok := mintHS(t, validClaims("alice"))
	for _, tt := range []struct {
		name    string
		cookies string
		userid  string
		err     error
	}{
		{"none", "", "", policy.ErrNoCredentials},
		{"others only", "theme=dark; lang=en", "", policy.ErrNoCredentials},
		{"one", "theme=dark; jwt=" + tok, "alice", nil},
		{"quoted", `jwt="` + tok + `"`, "alice", nil},
		{"two", "jwt=" + tok + "; jwt=" + tok, "", policy.ErrMalformedCookie},
		{"not a token", "jwt=hello", "", policy.ErrMalformedToken},
		{"a forged one", "jwt=" + tok[:len(tok)-4] + "AAAA", "", policy.ErrInvalidSignature},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.cookies != "" {
				r.Header.Set("Cookie", tt.cookies)
			}
			userid, err := p.AuthenticatedUserID(r)
			if userid != tt.userid || (tt.err == nil) != (err == nil) || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("AuthenticatedUserID = %q, %v; want %q, %v", userid, err, tt.userid, tt.err)
			}
			rec := httptest.NewRecorder()
			p.Challenge(rec, r)
			deletes := rec.Header().Get("Set-Cookie") != ""
			if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != "" || deletes != errors.Is(err, policy.ErrInvalidCredentials) {
				t.Errorf("Challenge: %d, WWW-Authenticate %q, Set-Cookie %q; want 401, none, a deletion only for failed credentials", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Header().Values("Set-Cookie"))
			}
		})
	}
	if strings.Contains(buf.String(), tok[:20]) {
		t.Errorf("the log holds the token:\n%s", buf)
	}
}

// TestCookieConfigErrors: each bad setting is refused, naming its key.
func TestCookieConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*policy.CookieConfig)
		key  string
	}{
		{"a scheme", func(c *policy.CookieConfig) { c.Schemes = []string{"Bearer"} }, "scheme"},
		{"SameSite None without Secure", func(c *policy.CookieConfig) {
			c.SameSite, c.Insecure = http.SameSiteNoneMode, true
		}, "cookie_samesite"},
		{"SameSite default mode", func(c *policy.CookieConfig) { c.SameSite = http.SameSiteDefaultMode }, "cookie_samesite"},
		{"a name that is no token", func(c *policy.CookieConfig) { c.Name = "my cookie" }, "cookie_name"},
		{"__Host- with a Domain", func(c *policy.CookieConfig) { c.Name, c.Domain = "__Host-jwt", "example.com" }, "cookie_name"},
		{"__Host- with a Path", func(c *policy.CookieConfig) { c.Name, c.Path = "__Host-jwt", "/app" }, "cookie_name"},
		{"__Secure- without Secure", func(c *policy.CookieConfig) { c.Name, c.Insecure = "__Secure-jwt", true }, "cookie_name"},
		{"a path with a semicolon", func(c *policy.CookieConfig) { c.Path = "/a;b" }, "cookie_path"},
		{"a bad domain", func(c *policy.CookieConfig) { c.Domain = "exa mple.com" }, "cookie_domain"},
		{"a trusted origin with a path", func(c *policy.CookieConfig) { c.TrustedOrigins = []string{"https://app.example/x"} }, "cookie_trusted_origins"},
		{"a negative reissue time", func(c *policy.CookieConfig) { c.ReissueAfter = -time.Second }, "cookie_reissue_time"},
		{"a reissue time past the lifetime", func(c *policy.CookieConfig) { c.ReissueAfter = time.Hour }, "cookie_reissue_time"},
		{"no signing key", func(c *policy.CookieConfig) {
			c.MasterSecret, c.Algorithm, c.PublicKey = nil, "RS256", &rsaKeyOnce().PublicKey
		}, "master_secret"},
		{"a JWT setting", func(c *policy.CookieConfig) { c.Leeway = -time.Second }, "leeway"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, Logger: discard}}
			tt.mod(&cfg)
			_, err := policy.NewCookie(cfg)
			var ce *policy.ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key || !errors.Is(err, policy.ErrConfig) {
				t.Fatalf("NewCookie: %v; want a ConfigError for %s", err, tt.key)
			}
		})
	}
	log, buf := bufLogger()
	newCookie(t, func(c *policy.CookieConfig) { c.Insecure, c.Logger = true, log })
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "cookie_secure") {
		t.Errorf("an insecure cookie logged no warning naming cookie_secure:\n%s", buf)
	}
}

// TestCookieAdmittedOnce: an Authenticate of the cookie policy above an
// Authenticate of a stack that holds it (and a stack that holds it twice)
// slides the session once; a place given by WithIdentity above is no
// admission, so the CSRF rule still refuses.
func TestCookieAdmittedOnce(t *testing.T) {
	cookie := newCookie(t, func(c *policy.CookieConfig) { c.ReissueAfter = 10 * time.Minute })
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "a", Policy: cookie}, {Name: "b", Policy: cookie}}})
	if err != nil {
		t.Fatal(err)
	}
	old := mintHS(t, map[string]any{"sub": "alice", "iat": testNow.Add(-time.Hour / 2).Unix(), "exp": testNow.Add(time.Hour / 2).Unix()})
	write := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{
		{"cookie above stack", policy.Authenticate(cookie)(policy.Authenticate(stack)(write))},
		{"stack above cookie", policy.Authenticate(stack)(policy.Authenticate(cookie)(write))},
		{"a stack holding it twice", policy.Authenticate(stack)(write)},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: "jwt", Value: old})
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, r)
		if got := rec.Header().Values("Set-Cookie"); len(got) != 1 {
			t.Errorf("%s: %d Set-Cookie headers; want the one re-issued cookie", tt.name, len(got))
		}
	}

	r := httptest.NewRequest("PUT", "/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(&http.Cookie{Name: "jwt", Value: mintHS(t, validClaims("alice"))})
	r = policy.WithIdentity(r, cookie)
	rec := httptest.NewRecorder()
	ran := false
	policy.Authenticate(cookie)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).ServeHTTP(rec, r)
	if rec.Code != 403 || ran {
		t.Errorf("a cross-site PUT with a place from WithIdentity: %d, handler ran %v; want 403", rec.Code, ran)
	}
}

// TestCookieMethodOverride: a method changed below Authenticate (a method
// override) is worked out afresh, so a cross-site GET turned DELETE loses
// the cookie's user.
func TestCookieMethodOverride(t *testing.T) {
	p := newCookie(t, nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(&http.Cookie{Name: "jwt", Value: mintHS(t, validClaims("alice"))})
	var before, after error
	policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, before = p.AuthenticatedUserID(r)
		r.Method = http.MethodDelete
		_, after = p.AuthenticatedUserID(r)
	})).ServeHTTP(httptest.NewRecorder(), r)
	if before != nil || !errors.Is(after, policy.ErrCrossOrigin) {
		t.Errorf("GET: %v; turned DELETE: %v; want alice, then ErrCrossOrigin", before, after)
	}
}

// TestCookieTrustedOrigins: trusted origins are matched as browsers spell
// an Origin (lowercase, no default port).
func TestCookieTrustedOrigins(t *testing.T) {
	p := newCookie(t, func(c *policy.CookieConfig) {
		c.TrustedOrigins = []string{"https://App.Example:443", "http://localhost:8080", "HTTP://Other.Example:80", "http://[2001:DB8:0::1]:80", "https://xn--bcher-kva.example"}
	})
	tok := mintHS(t, validClaims("alice"))
	for origin, want := range map[string]bool{
		"https://app.example":           true,
		"http://localhost:8080":         true,
		"http://other.example":          true,
		"https://evil.example":          false,
		"http://localhost:8081":         false,
		"http://[2001:db8::1]":          true,
		"https://xn--bcher-kva.example": true,
	} {
		r := httptest.NewRequest("PUT", "https://api.example/", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Origin", origin)
		r.AddCookie(&http.Cookie{Name: "jwt", Value: tok})
		if _, err := p.AuthenticatedUserID(r); (err == nil) != want {
			t.Errorf("a PUT from %s: %v; want allowed %v", origin, err, want)
		}
	}
	for _, bad := range []string{"https://*.example", "https://app.example/", "app.example", "ftp://app.example", "https://user@app.example",
		"https://app.example:", "https://app.example:0443", "https://bücher.example", "https://app.example:99999"} {
		_, err := policy.NewCookie(policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, Logger: discard}, TrustedOrigins: []string{bad}})
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != "cookie_trusted_origins" {
			t.Errorf("trusted origin %q: %v; want a ConfigError for cookie_trusted_origins", bad, err)
		}
	}
}

// TestCookieRememberLoginCSRF: another site's page cannot sign a browser
// in: Remember makes no cookie for an unsafe cross-origin request.
func TestCookieRememberLoginCSRF(t *testing.T) {
	p := newCookie(t, nil)
	for _, tt := range []struct {
		site string
		want bool
	}{{"cross-site", false}, {"same-site", false}, {"same-origin", true}, {"", true}} {
		r := httptest.NewRequest("POST", "/login", nil)
		if tt.site != "" {
			r.Header.Set("Sec-Fetch-Site", tt.site)
		}
		if got := p.Remember(r, "mallory").Get("Set-Cookie") != ""; got != tt.want {
			t.Errorf("Remember for a POST with Sec-Fetch-Site %q: a cookie %v; want %v", tt.site, got, tt.want)
		}
	}
}

// TestCookieTooLarge: a cookie browsers would drop is refused.
func TestCookieTooLarge(t *testing.T) {
	p := newCookie(t, nil)
	groups := make([]string, 400)
	for i := range groups {
		groups[i] = "group-with-a-long-name"
	}
	if _, err := p.CookieFor("alice", map[string]any{"groups": groups}); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("CookieFor with 400 groups: %v; want an error naming the bound", err)
	}
	if _, err := p.CookieFor("alice", map[string]any{"groups": groups[:10]}); err != nil {
		t.Errorf("CookieFor with 10 groups: %v", err)
	}
}

// TestCookieRefusesUnsafeChecks: the settings that would let a sliding
// session sign what it never verified are refused.
func TestCookieRefusesUnsafeChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		mod  func(*policy.CookieConfig)
		key  string
	}{
		{"no signature check", func(c *policy.CookieConfig) { c.DisableVerifySignature = true }, "disable_verify_signature"},
		{"no exp check, sliding", func(c *policy.CookieConfig) { c.DisableVerifyExp, c.ReissueAfter = true, time.Minute }, "disable_verify_exp"},
		{"sliding without an expiry", func(c *policy.CookieConfig) { c.Expiration, c.ReissueAfter = policy.NoExpiration, time.Minute }, "cookie_reissue_time"},
	} {
		cfg := policy.CookieConfig{Config: policy.Config{MasterSecret: testSecret, Logger: discard}}
		tt.mod(&cfg)
		_, err := policy.NewCookie(cfg)
		var ce *policy.ConfigError
		if !errors.As(err, &ce) || ce.Key != tt.key {
			t.Errorf("%s: %v; want a ConfigError for %s", tt.name, err, tt.key)
		}
	}
}

// TestTokenTypeOfOwnTokens: with token_type, the tokens the policies make
// carry it, and verify.
func TestTokenTypeOfOwnTokens(t *testing.T) {
	jwtP := newPolicy(t, func(c *policy.Config) { c.TokenType = "at+jwt" })
	tok, err := jwtP.NewToken("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if userid, err := jwtP.AuthenticatedUserID(newRequest(jwtAuth(tok))); err != nil || userid != "alice" {
		t.Errorf("the policy's own at+jwt token: %q, %v", userid, err)
	}
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := jws.Signatures[0].Header.ExtraHeaders["typ"]; typ != "at+jwt" {
		t.Errorf("typ = %v; want at+jwt", typ)
	}
	cookie := newCookie(t, func(c *policy.CookieConfig) { c.TokenType = "at+jwt" })
	c, err := cookie.CookieFor("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	if userid, err := cookie.AuthenticatedUserID(r); err != nil || userid != "alice" {
		t.Errorf("the cookie policy's own at+jwt token: %q, %v", userid, err)
	}
}

// countingAdmitter is a policy of the application's that counts the
// times it is asked to admit a request.
type countingAdmitter struct {
	*policy.JWT
	n *atomic.Int32
}

func (c countingAdmitter) Admit(w http.ResponseWriter, _ *http.Request, _ policy.AuthenticationPolicy) (http.ResponseWriter, bool) {
	c.n.Add(1)
	return w, true
}

// TestAdmitterAskedOnce: each Admitter is asked once per request, however
// many Authenticates and stacks hold it.
func TestAdmitterAskedOnce(t *testing.T) {
	a := countingAdmitter{newPolicy(t, nil), &atomic.Int32{}}
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "a", Policy: a}, {Name: "b", Policy: a}}})
	if err != nil {
		t.Fatal(err)
	}
	h := policy.Authenticate(a)(policy.Authenticate(stack)(policy.Authenticate(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if n := a.n.Load(); n != 1 {
		t.Errorf("the Admitter was asked %d times; want once", n)
	}
}

// TestPrintedWithoutSecrets: a policy or its configuration printed with
// fmt or logged with slog shows no secret.
func TestPrintedWithoutSecrets(t *testing.T) {
	cfg := policy.Config{MasterSecret: testSecret, Logger: discard}
	jwtP, err := policy.NewJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cookie := newCookie(t, nil)
	rsaCfg := policy.Config{Algorithm: "RS256", PrivateKey: rsaKeyOnce(), Logger: discard}
	rsaP, err := policy.NewJWT(rsaCfg)
	if err != nil {
		t.Fatal(err)
	}
	log, buf := bufLogger()
	for _, v := range []any{jwtP, cookie, jwtP.Verifier(), cfg, policy.CookieConfig{Config: cfg}, rsaP, rsaCfg} {
		out := fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
		log.Info("printed", "value", v)
		if strings.Contains(out, string(testSecret[:16])) || strings.Contains(out, fmt.Sprint(testSecret[:8])) || strings.Contains(out, rsaKeyOnce().D.String()[:20]) {
			t.Errorf("%T printed a secret: %s", v, out)
		}
	}
	if s := buf.String(); strings.Contains(s, string(testSecret[:16])) || strings.Contains(s, fmt.Sprint(testSecret[:8])) || strings.Contains(s, rsaKeyOnce().D.String()[:20]) {
		t.Errorf("slog logged a secret:\n%s", s)
	}
}

// TestSlidingWriterFlush: the response of a sliding session flushes as
// the one it wraps does, and says so to http.ResponseController.
func TestSlidingWriterFlush(t *testing.T) {
	p := newCookie(t, func(c *policy.CookieConfig) { c.ReissueAfter = 10 * time.Minute })
	old := mintHS(t, map[string]any{"sub": "alice", "iat": testNow.Add(-time.Hour / 2).Unix(), "exp": testNow.Add(time.Hour / 2).Unix()})
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "jwt", Value: old})
	var flushErr error
	rec := httptest.NewRecorder()
	policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		flushErr = http.NewResponseController(w).Flush()
	})).ServeHTTP(onlyWriter{rec}, r)
	if !errors.Is(flushErr, http.ErrNotSupported) {
		t.Errorf("Flush through a response that cannot flush: %v; want http.ErrNotSupported", flushErr)
	}
	rec = httptest.NewRecorder()
	policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		flushErr = http.NewResponseController(w).Flush()
	})).ServeHTTP(rec, r)
	if flushErr != nil || !rec.Flushed || len(rec.Header().Values("Set-Cookie")) != 1 {
		t.Errorf("Flush: %v, flushed %v, Set-Cookie %d; want flushed with the re-issued cookie", flushErr, rec.Flushed, len(rec.Header().Values("Set-Cookie")))
	}
}

// onlyWriter is a response with the three methods of http.ResponseWriter
// and nothing else.
type onlyWriter struct{ w http.ResponseWriter }

func (o onlyWriter) Header() http.Header         { return o.w.Header() }
func (o onlyWriter) Write(b []byte) (int, error) { return o.w.Write(b) }
func (o onlyWriter) WriteHeader(status int)      { o.w.WriteHeader(status) }
