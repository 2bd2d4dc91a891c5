package chiadapter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestAccessors: policy.UserIDFrom, PrincipalsFrom, ClaimsFrom and
// IdentityFrom read what Authenticate worked out.
func TestAccessors(t *testing.T) {
	p := newPolicy(t, nil, nil)
	rs := requesters(t)
	custom := userClaims("carol", "admins", "editors")
	custom["tenant"] = "acme"
	custom["level"] = 7
	customToken := mint(t, testSecret, custom)
	emptyUser := mint(t, testSecret, userClaims(""))
	reserved := mint(t, testSecret, userClaims(policy.Authenticated))

	tests := []struct {
		name, token    string
		wantUserID     string
		wantOK         bool
		wantPrincipals []string
		wantErr        []error // each must match the identity's Err; nil: Err is nil
		wantClaims     map[string]any
	}{
		{"anonymous", "", "", false, []string{policy.Everyone},
			[]error{policy.ErrNoCredentials}, nil},
		{"user with groups and a custom claim", customToken, "carol", true,
			[]string{"carol", policy.Everyone, policy.Authenticated, "group:admins", "group:editors"},
			nil, map[string]any{"sub": "carol", "tenant": "acme", "level": json.Number("7"), "groups": []any{"admins", "editors"}}},
		{"user without groups", rs["plain"].token, "paul", true,
			[]string{"paul", policy.Everyone, policy.Authenticated},
			nil, map[string]any{"sub": "paul"}},
		{"empty userid is a userid", emptyUser, "", true,
			[]string{"", policy.Everyone, policy.Authenticated},
			nil, map[string]any{"sub": ""}},
		{"rejected user", rs["rejected"].token, "", false, []string{policy.Everyone},
			[]error{policy.ErrUserRejected}, nil},
		{"reserved userid", reserved, "", false, []string{policy.Everyone},
			[]error{policy.ErrUserRejected}, nil},
		{"broken signature", rs["broken"].token, "", false, []string{policy.Everyone},
			[]error{policy.ErrInvalidCredentials, policy.ErrInvalidSignature}, nil},
		{"expired", rs["expired"].token, "", false, []string{policy.Everyone},
			[]error{policy.ErrInvalidCredentials, policy.ErrTokenExpired}, nil},
	}
	others := []error{policy.ErrNoCredentials, policy.ErrInvalidCredentials, policy.ErrUserRejected}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran bool
			h := chiadapter.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				userid, ok := policy.UserIDFrom(r.Context())
				if userid != tt.wantUserID || ok != tt.wantOK {
					t.Errorf("UserID = %q, %v; want %q, %v", userid, ok, tt.wantUserID, tt.wantOK)
				}
				if got := policy.PrincipalsFrom(r.Context()); !slices.Equal(got, tt.wantPrincipals) {
					t.Errorf("Principals = %q; want %q", got, tt.wantPrincipals)
				}
				claims := policy.ClaimsFrom(r.Context())
				if tt.wantClaims == nil && claims != nil {
					t.Errorf("Claims = %v; want nil", claims)
				}
				for k, want := range tt.wantClaims {
					if got := claims[k]; !equalJSON(got, want) {
						t.Errorf("claim %q = %#v; want %#v", k, got, want)
					}
					if n, isNumber := want.(json.Number); isNumber && claims[k] != n {
						t.Errorf("claim %q = %#v (%T); want the json.Number %v", k, claims[k], claims[k], n)
					}
				}
				s, ok := policy.IdentityFrom(r.Context())
				if !ok {
					t.Fatal("IdentityFrom: ok false under Authenticate")
				}
				if tt.wantErr == nil && s.Err != nil {
					t.Errorf("Err = %v; want nil", s.Err)
				}
				for _, e := range tt.wantErr {
					if !errors.Is(s.Err, e) {
						t.Errorf("Err = %v; want it to match %v", s.Err, e)
					}
				}
				// Exactly one of the three outcomes.
				matched := 0
				for _, e := range others {
					if errors.Is(s.Err, e) {
						matched++
					}
				}
				if s.Err != nil && matched != 1 {
					t.Errorf("Err %v matches %d of the three outcomes; want 1", s.Err, matched)
				}
				if s.Err == nil && (s.UserID != tt.wantUserID || !slices.Equal(s.Principals, tt.wantPrincipals)) {
					t.Errorf("State = %+v", s)
				}
				// A second look gives the same state.
				if s2, _ := policy.IdentityFrom(r.Context()); s2.UserID != s.UserID || s2.Err != s.Err || !slices.Equal(s2.Principals, s.Principals) {
					t.Errorf("StateOf returned a different state the second time")
				}
			}))
			do(h, http.MethodGet, "/", tt.token)
			if !ran {
				t.Fatal("handler did not run")
			}
		})
	}
}

// TestAccessorsWithoutAuthenticate: with no Authenticate middleware, the
// request has no user and Everyone as its only principal.
func TestAccessorsWithoutAuthenticate(t *testing.T) {
	rs := requesters(t)
	for _, name := range []string{"anonymous", "admin"} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tok := rs[name].token; tok != "" {
				req.Header.Set("Authorization", "JWT token="+tok)
			}
			if userid, ok := policy.UserIDFrom(req.Context()); ok || userid != "" {
				t.Errorf("UserID = %q, %v; want \"\", false", userid, ok)
			}
			if got := policy.PrincipalsFrom(req.Context()); !slices.Equal(got, []string{policy.Everyone}) {
				t.Errorf("Principals = %q; want [Everyone]", got)
			}
			if c := policy.ClaimsFrom(req.Context()); c != nil {
				t.Errorf("Claims = %v; want nil", c)
			}
			if id, ok := policy.IdentityFrom(req.Context()); ok || !errors.Is(id.Err, policy.ErrNoCredentials) {
				t.Errorf("IdentityFrom = %+v, %v; want no credentials, false", id, ok)
			}
			if res := chiadapter.Resource(req); res != nil {
				t.Errorf("Resource = %v; want nil", res)
			}
			if _, ok := chiadapter.DecisionOf(req); ok {
				t.Error("DecisionOf ok without a guard")
			}
		})
	}
}

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// TestPrincipalsIsACopy: the slice Principals returns is the caller's.
// Changing it (sorting it for display, say) must neither change what
// Principals returns next nor what a guard below decides.
//
// FAILS at the time of writing: Principals returns the state's own slice,
// so a middleware that writes into it changes the principals every later
// guard decides with (here a plain user gains group:admins and may delete).
func TestPrincipalsIsACopy(t *testing.T) {
	p := newPolicy(t, nil, nil)
	g := &chiadapter.Guard{Policy: p}
	want := []string{"paul", policy.Everyone, policy.Authenticated}
	for _, change := range []struct {
		name string
		f    func([]string)
	}{
		{"sort", func(ps []string) { slices.Sort(ps) }},
		{"overwrite", func(ps []string) { ps[0] = "group:admins" }},
	} {
		t.Run(change.name, func(t *testing.T) {
			var after []string
			h := chiadapter.Authenticate(p)(chiadapter.StaticACL("root", rootACL)(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					change.f(policy.PrincipalsFrom(r.Context()))
					after = policy.PrincipalsFrom(r.Context())
					g.Require("delete")(okHandler).ServeHTTP(w, r)
				})))
			rec := do(h, http.MethodDelete, "/", mint(t, testSecret, userClaims("paul")))
			if !slices.Equal(after, want) {
				t.Errorf("after the caller changed its slice, Principals = %q; want %q", after, want)
			}
			if rec.Code != http.StatusForbidden {
				t.Errorf("plain user's DELETE = %d; want 403", rec.Code)
			}
		})
	}
}

// TestStateNotPrinted formats a request's context after Authenticate and a
// guard have worked out its state: neither the token nor a claim may
// appear, however fmt or slog print it.
func TestStateNotPrinted(t *testing.T) {
	p := newPolicy(t, nil, nil)
	claims := userClaims("marker-user-7")
	claims["tenant"] = "marker-tenant-9"
	tok := mint(t, testSecret, claims)
	g := &chiadapter.Guard{}
	var printed []string
	h := chiadapter.Authenticate(p)(g.Authenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		printed = append(printed, fmt.Sprintf("%v", ctx), fmt.Sprintf("%+v", ctx), fmt.Sprintf("%#v", ctx))
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("request", "ctx", ctx)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("request", "ctx", ctx)
		printed = append(printed, text.String(), js.String())
	})))
	if rec := do(h, http.MethodGet, "/", tok); rec.Code != http.StatusOK {
		t.Fatalf("status %d; want 200", rec.Code)
	}
	if len(printed) == 0 {
		t.Fatal("the handler did not run")
	}
	for _, s := range printed {
		for _, secret := range []string{tok[:20], tok[len(tok)-20:], "marker-user-7", "marker-tenant-9"} {
			if strings.Contains(s, secret) {
				t.Errorf("a printed context shows %q: %s", secret, s)
			}
		}
	}
}

// TestStateClaimsFollowTheState: the claims IdentityFrom gives are those of the
// token the state was worked out for, even when asked with a copy of the
// request that carries another token, a forged one, or none; and they are a
// deep copy, which a handler may change without changing what a later
// request of the same (cached) token gets.
func TestStateClaimsFollowTheState(t *testing.T) {
	rs := requesters(t)
	p := newPolicy(t, groupFinder, nil)
	var got []policy.Identity
	h := chiadapter.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := policy.UserIDFrom(r.Context()); !ok { // the state, worked out for eddie
			t.Fatal("eddie is not authenticated")
		}
		for _, other := range []string{rs["admin"].token, rs["broken"].token, ""} {
			r2 := r.Clone(r.Context())
			r2.Header.Del("Authorization")
			if other != "" {
				r2.Header.Set("Authorization", "JWT token="+other)
			}
			s, _ := policy.IdentityFrom(r2.Context())
			got = append(got, s)
		}
		// A handler that changes the claims it was given.
		policy.ClaimsFrom(r.Context())["groups"].([]any)[0] = "admins"
		policy.ClaimsFrom(r.Context())["sub"] = "mallory"
	}))
	for range 3 { // the token is cached from its second request on
		got = got[:0]
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "JWT token="+rs["editor"].token)
		h.ServeHTTP(httptest.NewRecorder(), req)
		for i, s := range got {
			if s.Err != nil || s.UserID != "eddie" || s.Claims()["sub"] != "eddie" ||
				!slices.Equal(s.Principals, []string{"eddie", policy.Everyone, policy.Authenticated, "group:editors"}) {
				t.Fatalf("IdentityFrom with request copy %d: %q, %v, principals %q, claims %v; want eddie's", i, s.UserID, s.Err, s.Principals, s.Claims())
			}
			if g, _ := s.Claims()["groups"].([]any); len(g) != 1 || g[0] != "editors" {
				t.Fatalf("IdentityFrom with request copy %d: groups claim %v; want [editors]", i, s.Claims()["groups"])
			}
		}
	}
}
