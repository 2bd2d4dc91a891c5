package chiadapter_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestMiddlewareInAnyOrder: the policy's own middleware, policy.Authenticate
// and chiadapter.Authenticate are one middleware. Alone, together, in any
// order, or left to the guard, they give the handler the same identity,
// and the token is verified once and the group finder asked once per
// request.
func TestMiddlewareInAnyOrder(t *testing.T) {
	var finds atomic.Int32
	p := newPolicy(t, func(userid string, r *http.Request, c policy.Claims) ([]string, bool) {
		finds.Add(1)
		return groupFinder(userid, r, c)
	}, nil)
	stacks := map[string][]func(http.Handler) http.Handler{
		"the guard alone":                  nil,
		"p.Middleware":                     {p.Middleware},
		"policy.Authenticate":              {policy.Authenticate(p)},
		"chiadapter.Authenticate":          {chiadapter.Authenticate(p)},
		"p.Middleware, then chiadapter":    {p.Middleware, chiadapter.Authenticate(p)},
		"chiadapter, then p.Middleware":    {chiadapter.Authenticate(p), p.Middleware},
		"all three, twice":                 {policy.Authenticate(p), chiadapter.Authenticate(p), p.Middleware, policy.Authenticate(p)},
		"chiadapter, then policy's, again": {chiadapter.Authenticate(p), policy.Authenticate(p), chiadapter.Authenticate(p)},
	}
	type answer struct {
		UserID     string
		Principals []string
		Groups     any
		Err        string
	}
	rs := requesters(t)
	var want map[string]answer
	for name, stack := range stacks {
		t.Run(name, func(t *testing.T) {
			got := map[string]answer{}
			var seen answer
			var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := policy.IdentityFrom(r.Context())
				uid, err := p.AuthenticatedUserID(r) // the policy's own method: the same identity
				pr, _ := p.EffectivePrincipals(r)
				if uid != id.UserID || !slices.Equal(pr, id.Principals) || !errors.Is(err, id.Err) && (err != nil || id.Err != nil) {
					t.Errorf("the policy answers %q %q %v; the context %q %q %v", uid, pr, err, id.UserID, id.Principals, id.Err)
				}
				seen = answer{UserID: id.UserID, Principals: id.Principals, Groups: policy.ClaimsFrom(r.Context())["groups"], Err: errText(id.Err)}
			})
			guard := &chiadapter.Guard{Policy: p}
			handler = guard.Require("view")(handler)
			for _, mw := range slices.Backward(stack) {
				handler = mw(handler)
			}
			r := chi.NewRouter()
			r.Use(chiadapter.StaticACL("root", rootACL))
			r.Handle("/", handler)
			for _, who := range []string{"anonymous", "editor", "admin", "plain"} {
				finds.Store(0)
				seen = answer{}
				rec := do(r, http.MethodGet, "/", rs[who].token)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d", who, rec.Code)
				}
				got[who] = seen
				if rs[who].token != "" && finds.Load() != 1 {
					t.Errorf("%s: the group finder was asked %d times in one request; want 1", who, finds.Load())
				}
			}
			if got["editor"].UserID != "eddie" || got["anonymous"].Err == "" {
				t.Fatalf("answers %+v", got)
			}
			if want == nil {
				want = got
			} else if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("answers %s; another order gave %s", g, w)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// headerPolicy is an AuthenticationPolicy written by an application, not
// a JWT: "X-User: name" names the user, "X-Groups" lists groups, a user
// "bad" is rejected and a user "forged" presents credentials that fail.
// It is a value type holding a slice, which == cannot compare.
type headerPolicy struct {
	realm []string
	asked *atomic.Int32
}

func (h headerPolicy) UnauthenticatedUserID(r *http.Request) (string, bool) {
	u := r.Header.Get("X-User")
	return u, u != ""
}

func (h headerPolicy) AuthenticatedUserID(r *http.Request) (string, error) {
	h.asked.Add(1)
	switch u := r.Header.Get("X-User"); u {
	case "":
		return "", policy.ErrNoCredentials
	case "bad":
		return "", policy.ErrUserRejected
	case "forged":
		return "", errors.New("the credentials do not verify") // matches none of the three
	default:
		return u, nil
	}
}

func (h headerPolicy) EffectivePrincipals(r *http.Request) ([]string, error) {
	u, err := h.AuthenticatedUserID(r)
	if err != nil {
		return []string{policy.Everyone}, nil
	}
	out := []string{u, policy.Everyone, policy.Authenticated}
	for _, g := range strings.Fields(r.Header.Get("X-Groups")) {
		out = append(out, "group:"+g)
	}
	return out, nil
}

func (h headerPolicy) Remember(*http.Request, string) http.Header { return http.Header{} }

func (h headerPolicy) Forget(*http.Request) http.Header {
	return http.Header{"Www-Authenticate": {"XUser realm=" + strings.Join(h.realm, "")}}
}

// Scheme names the scheme of the policy's challenge, which the guard's
// 403 answers in.
func (h headerPolicy) Scheme() string { return "XUser" }

func (h headerPolicy) Challenge(w http.ResponseWriter, r *http.Request) {
	for k, v := range h.Forget(r) {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusUnauthorized)
}

// TestPolicyOfTheApplication: the guards, the accessors and the challenge
// serve a policy the application wrote as they serve the JWT policy.
func TestPolicyOfTheApplication(t *testing.T) {
	asked := &atomic.Int32{}
	p := headerPolicy{realm: []string{"app"}, asked: asked}
	guard := &chiadapter.Guard{}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", rootACL))
	var seen policy.Identity
	record := func(w http.ResponseWriter, r *http.Request) { seen, _ = policy.IdentityFrom(r.Context()) }
	r.With(guard.Require("view")).Get("/view", record)
	r.With(guard.Require("edit")).Put("/edit", record)
	r.With(guard.Authenticated).Get("/me", record)
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, tt := range []struct {
		method, path, user, groups string
		status                     int
		userid                     string
		principals                 []string
	}{
		{"GET", "/view", "", "", 200, "", []string{policy.Everyone}},
		{"GET", "/me", "", "", 401, "", nil},
		{"GET", "/me", "carol", "", 200, "carol", []string{"carol", policy.Everyone, policy.Authenticated}},
		{"PUT", "/edit", "carol", "", 403, "", nil},
		{"PUT", "/edit", "erin", "editors", 200, "erin", []string{"erin", policy.Everyone, policy.Authenticated, "group:editors"}},
		{"GET", "/me", "bad", "", 403, "", nil},
		{"GET", "/view", "bad", "", 200, "", []string{policy.Everyone}},
		{"GET", "/view", "forged", "", 401, "", nil}, // failed credentials: 401 even where Everyone may view
	} {
		seen = policy.Identity{}
		asked.Store(0)
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		if tt.user != "" {
			req.Header.Set("X-User", tt.user)
		}
		if tt.groups != "" {
			req.Header.Set("X-Groups", tt.groups)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.status {
			t.Errorf("%s %s as %q: %d; want %d", tt.method, tt.path, tt.user, res.StatusCode, tt.status)
			continue
		}
		if tt.status == 401 && res.Header.Get("WWW-Authenticate") != "XUser realm=app" {
			t.Errorf("%s %s as %q: challenge %q; want the policy's", tt.method, tt.path, tt.user, res.Header.Values("WWW-Authenticate"))
		}
		if tt.status == 403 && len(res.Header.Values("WWW-Authenticate")) != 1 {
			t.Errorf("%s %s as %q: 403 with %q", tt.method, tt.path, tt.user, res.Header.Values("WWW-Authenticate"))
		}
		if tt.status == 200 && (seen.UserID != tt.userid || !slices.Equal(seen.Principals, tt.principals)) {
			t.Errorf("%s %s as %q: the handler saw %q %q; want %q %q", tt.method, tt.path, tt.user, seen.UserID, seen.Principals, tt.userid, tt.principals)
		}
		if n := asked.Load(); tt.user != "" && n > 2 {
			t.Errorf("%s %s as %q: the policy was asked %d times in one request", tt.method, tt.path, tt.user, n)
		}
	}
	// An error of the application's that matches none of the three is
	// invalid credentials.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-User", "forged")
	if id := policy.Identify(p, req); !errors.Is(id.Err, policy.ErrInvalidCredentials) || id.UserID != "" {
		t.Errorf("Identify = %+v; want invalid credentials", id)
	}
}

// oddPolicy is an Identifier of the application's that answers an error
// of its own, beside principals that would be allowed.
type oddPolicy struct{ headerPolicy }

func (o oddPolicy) Identify(*http.Request) policy.Identity {
	return policy.Identity{UserID: "eve", Principals: []string{"eve", policy.Authenticated, "group:editors"}, Err: io.ErrUnexpectedEOF}
}

// TestIdentifierErrorIsInvalidCredentials: an error that matches none of
// the three an Identity may hold is invalid credentials, whoever answers
// it: 401 from the guard, never the principals beside it.
func TestIdentifierErrorIsInvalidCredentials(t *testing.T) {
	p := oddPolicy{headerPolicy{realm: []string{"odd"}, asked: &atomic.Int32{}}}
	guard := &chiadapter.Guard{}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p), chiadapter.StaticACL("root", rootACL))
	r.With(guard.Require("edit")).Put("/edit", func(http.ResponseWriter, *http.Request) {})
	rec := do(r, http.MethodPut, "/edit", "")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("PUT /edit: %d; want 401", rec.Code)
	}
	id := policy.Identify(p, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(id.Err, policy.ErrInvalidCredentials) || !errors.Is(id.Err, io.ErrUnexpectedEOF) || id.UserID != "" || !slices.Contains(id.Principals, policy.Everyone) {
		t.Errorf("Identify = %+v", id)
	}
}
