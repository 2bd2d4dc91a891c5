package chiadapter_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// newCookiePolicy is the cookie policy of the tests: the tests' secret,
// group finder and clock.
func newCookiePolicy(t testing.TB) *policy.Cookie {
	t.Helper()
	c, err := policy.NewCookie(policy.CookieConfig{Config: policy.Config{
		MasterSecret: testSecret,
		GroupFinder:  groupFinder,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          func() time.Time { return testNow },
	}})
	if err != nil {
		t.Fatalf("NewCookie: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// siteHost is the host of the tests' site, whose pages are same-origin.
const siteHost = "app.example.com"

// csrfRequest is a request of method on target at siteHost, with the
// token in the policy's cookie (none when cookie is ""), the token in the
// Authorization header (none when header is "") and the other headers of
// kv.
func csrfRequest(method, target, cookie, header string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, "http://"+siteHost+target, nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: policy.DefaultCookieName, Value: cookie})
	}
	if header != "" {
		r.Header.Set("Authorization", "JWT token="+header)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	return r
}

// How a browser marks where a request comes from.
var (
	crossSite  = []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example.net"}
	sameOrigin = []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + siteHost}
	// An older browser: Origin alone, of another host.
	otherOrigin = []string{"Origin", "https://evil.example.net"}
	// An older browser: Origin alone, the site's own.
	ownOrigin = []string{"Origin", "http://" + siteHost}
)

// countingHandler answers 200 with the authenticated userid and counts
// the requests it serves.
func countingHandler(served *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		userid, _ := policy.UserIDFrom(r.Context())
		_, _ = io.WriteString(w, "ok "+userid)
	})
}

// commentACL lets Everyone comment: a route whose permission alone lets
// a request through, so that only the CSRF rule refuses it.
var commentACL = authorizer.ACL{allowACE(policy.Everyone, "view", "comment")}

// guardedApp is the app of the CSRF tests, with the guard g and no
// Authenticate of its own: the articles as in articleApp, and
// /comments, where Everyone may POST.
func guardedApp(g *chiadapter.Guard, h http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.StaticACL("root", rootACL))
		r.Use(chiadapter.Context(findArticle))
		r.With(g.Require("view")).Get("/", h.ServeHTTP)
		r.With(g.Require("edit")).Put("/", h.ServeHTTP)
		r.With(g.Require("delete")).Delete("/", h.ServeHTTP)
	})
	r.With(chiadapter.StaticACL("comments", commentACL), g.Require("comment")).Post("/comments", h.ServeHTTP)
	r.With(g.Authenticated).Post("/private", h.ServeHTTP)
	return r
}

// checkCSRFRefusal checks the CSRF answer: 403, {"error":"csrf"} with a
// description, JSON, no WWW-Authenticate.
func checkCSRFRefusal(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusForbidden || jsonError(rec.Body.String()) != "csrf" {
		t.Errorf("%d %s; want 403 {\"error\":\"csrf\"}", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	if !strings.Contains(rec.Body.String(), `"error_description":"cross-origin request refused`) {
		t.Errorf("body %s has no error_description", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := rec.Header().Values("WWW-Authenticate"); len(got) != 0 {
		t.Errorf("WWW-Authenticate %q; want none", got)
	}
}

// TestGuardOfACookiePolicy: a guard given a cookie policy, with no
// Authenticate above, refuses an unsafe request from another origin that
// the cookie authenticates, before its handler, even where Everyone may;
// a safe one, one from the site's own pages and one without any origin
// (no browser) go through.
func TestGuardOfACookiePolicy(t *testing.T) {
	var served atomic.Int32
	app := guardedApp(&chiadapter.Guard{Policy: newCookiePolicy(t)}, countingHandler(&served))
	rs := requesters(t)
	editor, broken := rs["editor"].token, rs["broken"].token

	tests := []struct {
		name, method, target, cookie string
		from                         []string
		want                         int // 0: the CSRF refusal
		body                         string
	}{
		{"a cross-site PUT", http.MethodPut, "/articles/1", editor, crossSite, 0, ""},
		{"a PUT from another Origin", http.MethodPut, "/articles/1", editor, otherOrigin, 0, ""},
		{"a cross-site DELETE", http.MethodDelete, "/articles/1", editor, crossSite, 0, ""},
		{"a same-site (not same-origin) PUT", http.MethodPut, "/articles/1", editor, []string{"Sec-Fetch-Site", "same-site"}, 0, ""},
		{"a cross-site POST where Everyone may", http.MethodPost, "/comments", editor, crossSite, 0, ""},
		{"a cross-site POST to an authenticated route", http.MethodPost, "/private", editor, crossSite, 0, ""},

		{"a same-origin PUT", http.MethodPut, "/articles/1", editor, sameOrigin, http.StatusOK, "ok eddie"},
		{"a PUT from the own Origin", http.MethodPut, "/articles/1", editor, ownOrigin, http.StatusOK, "ok eddie"},
		{"a PUT the user typed (Sec-Fetch-Site none)", http.MethodPut, "/articles/1", editor, []string{"Sec-Fetch-Site", "none"}, http.StatusOK, "ok eddie"},
		{"a PUT without origin (no browser)", http.MethodPut, "/articles/1", editor, nil, http.StatusOK, "ok eddie"},
		{"a cross-site GET", http.MethodGet, "/articles/1", editor, crossSite, http.StatusOK, "ok eddie"},
		{"a same-origin POST where Everyone may", http.MethodPost, "/comments", editor, sameOrigin, http.StatusOK, "ok eddie"},

		// A cookie that does not verify authenticates nobody: no CSRF
		// refusal, the challenge.
		{"a cross-site PUT with a broken cookie", http.MethodPut, "/articles/1", broken, crossSite, http.StatusUnauthorized, ""},
		{"a cross-site POST without a cookie, where Everyone may", http.MethodPost, "/comments", "", crossSite, http.StatusOK, "ok "},
		{"a cross-site PUT without a cookie", http.MethodPut, "/articles/1", "", crossSite, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served.Store(0)
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, csrfRequest(tt.method, tt.target, tt.cookie, "", tt.from...))
			if tt.want == 0 {
				checkCSRFRefusal(t, rec)
				if n := served.Load(); n != 0 {
					t.Errorf("the handler ran %d times; want never", n)
				}
				return
			}
			if rec.Code != tt.want {
				t.Fatalf("%d %s; want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q; want %q", rec.Body, tt.body)
			}
			want := int32(0)
			if tt.want == http.StatusOK {
				want = 1
			}
			if n := served.Load(); n != want {
				t.Errorf("the handler ran %d times; want %d", n, want)
			}
		})
	}
}

// forgetSpy is a JWT header policy that records each call of its Forget,
// which may sign a user out: a 403 must not call it.
type forgetSpy struct {
	*policy.JWT
	forgot atomic.Int32
}

func (s *forgetSpy) Forget(r *http.Request) http.Header {
	s.forgot.Add(1)
	return s.JWT.Forget(r)
}

// newForgetSpy is a forgetSpy of the tests' secret, with schemes.
func newForgetSpy(t testing.TB, schemes ...string) *forgetSpy {
	t.Helper()
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: testSecret,
		Schemes:      schemes,
		GroupFinder:  groupFinder,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return &forgetSpy{JWT: p}
}

// newBasic is a Basic policy with one user, alice (an editor), password
// "pw".
func newBasic(t testing.TB) *basic.Policy {
	t.Helper()
	p, err := basic.New(basic.Config{
		Check:  basic.Passwords(map[string]string{"alice": "pw"}, map[string][]string{"alice": {"group:editors"}}),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// schemedBasic is a Basic policy that names its scheme as policy.JWT
// does: a guard's 403 must still give it no insufficient_scope, which is
// RFC 6750's, for tokens.
type schemedBasic struct{ *basic.Policy }

func (schemedBasic) Scheme() string { return "Basic" }

// newStackOf stacks the policies, named p0, p1...
func newStackOf(t testing.TB, ps ...policy.AuthenticationPolicy) *multiauth.Policy {
	t.Helper()
	var named []multiauth.Named
	for i, p := range ps {
		named = append(named, multiauth.Named{Name: "p" + string(rune('0'+i)), Policy: p})
	}
	s, err := multiauth.New(multiauth.Config{Policies: named})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCSRFUnderAuthenticate: under Authenticate with a stack of the JWT
// header policy and the cookie policy, a cross-origin unsafe request with
// valid header credentials goes through, cookie or not (no browser
// attaches a header by itself); one with the cookie alone is refused
// before the guard, whichever the guard's Policy.
func TestCSRFUnderAuthenticate(t *testing.T) {
	rs := requesters(t)
	editor, admin := rs["editor"].token, rs["admin"].token
	cookie := newCookiePolicy(t)
	header := newPolicy(t, nil, nil)
	for _, order := range []struct {
		name  string
		stack *multiauth.Policy
	}{
		{"header first", newStackOf(t, header, cookie)},
		{"cookie first", newStackOf(t, cookie, header)},
	} {
		for _, g := range []struct {
			name  string
			guard *chiadapter.Guard
		}{
			{"the guard of the nearest policy", &chiadapter.Guard{}},
			{"the guard of the stack", &chiadapter.Guard{Policy: order.stack}},
		} {
			var served atomic.Int32
			app := chiadapter.Authenticate(order.stack)(guardedApp(g.guard, countingHandler(&served)))
			for _, tt := range []struct {
				name, method, target string
				cookie, header       string
				from                 []string
				want                 int // 0: the CSRF refusal
				body                 string
			}{
				{"a cross-site PUT with a header and a cookie", http.MethodPut, "/articles/1", editor, editor, crossSite, http.StatusOK, "ok eddie"},
				{"a cross-site PUT with a header and another user's cookie", http.MethodPut, "/articles/1", admin, editor, crossSite, http.StatusOK, "ok eddie"},
				{"a cross-site PUT with a header alone", http.MethodPut, "/articles/1", "", editor, crossSite, http.StatusOK, "ok eddie"},
				{"a cross-site PUT with a cookie alone", http.MethodPut, "/articles/1", editor, "", crossSite, 0, ""},
				{"a PUT from another Origin with a cookie alone", http.MethodPut, "/articles/1", editor, "", otherOrigin, 0, ""},
				{"a cross-site POST with a cookie alone, where Everyone may", http.MethodPost, "/comments", editor, "", crossSite, 0, ""},
				{"a same-origin PUT with a cookie alone", http.MethodPut, "/articles/1", editor, "", sameOrigin, http.StatusOK, "ok eddie"},
			} {
				t.Run(order.name+"/"+g.name+"/"+tt.name, func(t *testing.T) {
					served.Store(0)
					rec := httptest.NewRecorder()
					app.ServeHTTP(rec, csrfRequest(tt.method, tt.target, tt.cookie, tt.header, tt.from...))
					if tt.want == 0 {
						checkCSRFRefusal(t, rec)
						if n := served.Load(); n != 0 {
							t.Errorf("the handler ran %d times; want never", n)
						}
						return
					}
					if rec.Code != tt.want || rec.Body.String() != tt.body {
						t.Errorf("%d %q; want %d %q", rec.Code, rec.Body, tt.want, tt.body)
					}
					if n := served.Load(); n != 1 {
						t.Errorf("the handler ran %d times; want once", n)
					}
				})
			}
		}
	}

	// A guard that asks the cookie policy itself, under the stack's
	// Authenticate: the stack admitted the request by its header, but the
	// cookie policy's identity of it is the user the CSRF rule rejected,
	// which the guard answers with the CSRF refusal.
	stack := newStackOf(t, header, cookie)
	var served atomic.Int32
	app := chiadapter.Authenticate(stack)(guardedApp(&chiadapter.Guard{Policy: cookie}, countingHandler(&served)))
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, csrfRequest(http.MethodPut, "/articles/1", editor, editor, crossSite...))
	checkCSRFRefusal(t, rec)
	if served.Load() != 0 {
		t.Error("the handler ran")
	}
}

// TestForbiddenNamesTheTokenSchemes: a guard's 403 for valid credentials
// that are not enough carries RFC 6750's insufficient_scope for the scheme
// of each token policy of the stack (not Basic, not the cookie), once per
// scheme, and never calls a policy's Forget, whoever the user and however
// they authenticated.
func TestForbiddenNamesTheTokenSchemes(t *testing.T) {
	rs := requesters(t)
	bearer := newForgetSpy(t, "Bearer")
	jwtSpy := newForgetSpy(t) // the default scheme, JWT
	again := newForgetSpy(t, "bearer")
	stack := newStackOf(t, bearer, newCookiePolicy(t), newBasic(t), schemedBasic{newBasic(t)}, jwtSpy, again)
	want := []string{`Bearer error="insufficient_scope"`, `JWT error="insufficient_scope"`}

	for _, guard := range []struct {
		name string
		app  http.Handler
	}{
		{"under Authenticate", chiadapter.Authenticate(stack)(guardedApp(&chiadapter.Guard{}, okHandler))},
		{"with its own policy", guardedApp(&chiadapter.Guard{Policy: stack}, okHandler)},
	} {
		for _, tt := range []struct {
			name string
			req  *http.Request
		}{
			{"an editor's Bearer token", func() *http.Request {
				r := csrfRequest(http.MethodDelete, "/articles/1", "", "")
				r.Header.Set("Authorization", "Bearer "+rs["editor"].token)
				return r
			}()},
			{"an editor's JWT token", csrfRequest(http.MethodDelete, "/articles/1", "", rs["editor"].token)},
			{"an editor's cookie", csrfRequest(http.MethodDelete, "/articles/1", rs["editor"].token, "", sameOrigin...)},
			{"an editor's password", func() *http.Request {
				r := csrfRequest(http.MethodDelete, "/articles/1", "", "")
				r.SetBasicAuth("alice", "pw")
				return r
			}()},
			{"a user the group finder rejects", csrfRequest(http.MethodPost, "/private", rs["rejected"].token, "", sameOrigin...)},
			{"an editor, on the secret", csrfRequest(http.MethodGet, "/articles/secret", rs["editor"].token, "")},
		} {
			t.Run(guard.name+"/"+tt.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				guard.app.ServeHTTP(rec, tt.req)
				if rec.Code != http.StatusForbidden || jsonError(rec.Body.String()) != "forbidden" {
					t.Fatalf("%d %s; want 403 forbidden", rec.Code, rec.Body)
				}
				if got := rec.Header().Values("WWW-Authenticate"); !slices.Equal(got, want) {
					t.Errorf("WWW-Authenticate %q; want %q", got, want)
				}
				if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
					t.Errorf("Set-Cookie %q: a 403 signs nobody out", got)
				}
				for _, spy := range []*forgetSpy{bearer, jwtSpy, again} {
					if n := spy.forgot.Load(); n != 0 {
						t.Errorf("the %s policy's Forget was called %d times; want never", spy.Scheme(), n)
					}
				}
			})
		}
	}

}
