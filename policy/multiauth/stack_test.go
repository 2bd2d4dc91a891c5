package multiauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestStack: two policy.JWT (schemes JWT and Bearer, secrets of their own)
// and the tests' API key policy, stacked: a credential that fails in one
// policy does not keep another from authenticating the request; the
// identity names the policy chosen, or the one that failed or was
// rejected; the principals, claimed userid and OnSelected events are the
// package doc's; every method answers from the one identity.
func TestStack(t *testing.T) {
	f := newFixture(t)
	alice := mintJWT(t, claims("alice", "tenant", "acme"))
	mallory := mintJWT(t, claims("mallory"))
	bob := mintBearer(t, claims("bob"))
	expiredBob := mintBearer(t, map[string]any{"sub": "bob", "exp": testNow.Add(-time.Hour).Unix()})
	brokenAlice := testkit.BreakSignature(t, alice)

	everyone := []string{policy.Everyone}
	tests := []struct {
		name        string
		creds       creds
		wantUser    string
		wantErr     []error // nil: authenticated
		wantPolicy  string
		wantClaimed string // "": none
		principals  []string
		selected    []string
	}{
		{"no credentials", creds{}, "", []error{policy.ErrNoCredentials}, "", "", everyone, nil},
		{"JWT", creds{authorization: []string{"JWT token=" + alice}}, "alice", nil, "jwt", "alice",
			[]string{"alice", policy.Everyone, policy.Authenticated, "group:admins"}, []string{"jwt"}},
		{"Bearer", creds{authorization: []string{"Bearer " + bob}}, "bob", nil, "bearer", "bob",
			[]string{"bob", policy.Everyone, policy.Authenticated}, []string{"bearer"}},
		{"API key", creds{apiKey: "k-svc"}, "svc", nil, "apikey", "svc",
			[]string{"svc", policy.Everyone, policy.Authenticated, "apikey:svc"}, []string{"apikey"}},
		// The broken token still claims alice: the first claimed userid.
		{"broken JWT beside a good API key", creds{authorization: []string{"JWT " + brokenAlice}, apiKey: "k-svc"}, "svc", nil, "apikey", "alice",
			[]string{"svc", policy.Everyone, policy.Authenticated, "apikey:svc"}, []string{"apikey"}},
		{"unknown API key beside a good Bearer token", creds{authorization: []string{"Bearer " + bob}, apiKey: "k-nobody"}, "bob", nil, "bearer", "bob",
			[]string{"bob", policy.Everyone, policy.Authenticated}, []string{"bearer"}},
		{"broken JWT alone", creds{authorization: []string{"JWT " + brokenAlice}}, "",
			[]error{policy.ErrInvalidCredentials, policy.ErrInvalidSignature}, "jwt", "alice", everyone, nil},
		// The first failure in stack order is the error.
		{"expired Bearer beside an unknown API key", creds{authorization: []string{"Bearer " + expiredBob}, apiKey: "k-nobody"}, "",
			[]error{policy.ErrInvalidCredentials, policy.ErrTokenExpired}, "bearer", "bob", everyone, nil},
		{"the JWT policy's token under Bearer", creds{authorization: []string{"Bearer " + alice}}, "",
			[]error{policy.ErrInvalidCredentials, policy.ErrInvalidSignature}, "bearer", "alice", everyone, nil},
		// pyramid_multiauth keeps a rejected user's principals in the union.
		{"user rejected by the stack's finder", creds{authorization: []string{"JWT " + mallory}}, "",
			[]error{policy.ErrUserRejected}, "jwt", "mallory", []string{policy.Everyone, "mallory"}, []string{"jwt"}},
		{"rejected user falls through to the API key", creds{authorization: []string{"JWT " + mallory}, apiKey: "k-svc"}, "svc", nil, "apikey", "mallory",
			[]string{"svc", policy.Everyone, policy.Authenticated, "mallory", "apikey:svc"}, []string{"jwt", "apikey"}},
		// Failed credentials outrank a rejected user.
		{"broken JWT beside a rejected API key user", creds{authorization: []string{"JWT " + brokenAlice}, apiKey: "k-mallory"}, "",
			[]error{policy.ErrInvalidCredentials, policy.ErrInvalidSignature}, "jwt", "alice",
			[]string{policy.Everyone, "mallory", "apikey:mallory"}, []string{"apikey"}},
		// Two Authorization headers are malformed for both JWT policies.
		{"two Authorization headers", creds{authorization: []string{"JWT " + alice, "Bearer " + bob}}, "",
			[]error{policy.ErrInvalidCredentials, policy.ErrMalformedHeader}, "jwt", "", everyone, nil},
	}
	three := []error{policy.ErrNoCredentials, policy.ErrInvalidCredentials, policy.ErrUserRejected}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			tt.creds.apply(r)
			f.takeSelected()
			id := f.stack.Identify(r)
			if got := f.takeSelected(); !slices.Equal(got, tt.selected) {
				t.Errorf("OnSelected names = %q, want %q", got, tt.selected)
			}
			if tt.wantErr == nil {
				if id.Err != nil || id.UserID != tt.wantUser {
					t.Errorf("Identify = %q, %v; want %q", id.UserID, id.Err, tt.wantUser)
				}
			} else {
				for _, want := range tt.wantErr {
					if !errors.Is(id.Err, want) {
						t.Errorf("Err = %v, want it to match %v", id.Err, want)
					}
				}
				n := 0
				for _, e := range three {
					if errors.Is(id.Err, e) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("Err = %v matches %d of the three outcomes", id.Err, n)
				}
			}
			if id.Policy != tt.wantPolicy {
				t.Errorf("Policy = %q, want %q", id.Policy, tt.wantPolicy)
			}
			if claimed := tt.wantClaimed != ""; id.HasClaim != claimed || id.Claimed != tt.wantClaimed {
				t.Errorf("Claimed = %q, %v; want %q", id.Claimed, id.HasClaim, tt.wantClaimed)
			}
			if !slices.Equal(id.Principals, tt.principals) {
				t.Errorf("Principals = %q, want %q", id.Principals, tt.principals)
			}

			// The methods answer from the identity, kept once under
			// WithIdentity: the events fire once for all of them.
			rr := policy.WithIdentity(r, f.stack)
			uid, err := f.stack.AuthenticatedUserID(rr)
			if uid != id.UserID || errText(err) != errText(id.Err) {
				t.Errorf("AuthenticatedUserID = %q, %v; Identify %q, %v", uid, err, id.UserID, id.Err)
			}
			claimed, ok := f.stack.UnauthenticatedUserID(rr)
			if claimed != id.Claimed || ok != id.HasClaim {
				t.Errorf("UnauthenticatedUserID = %q, %v", claimed, ok)
			}
			principals, err := f.stack.EffectivePrincipals(rr)
			if !slices.Equal(principals, id.Principals) {
				t.Errorf("EffectivePrincipals = %q, want %q", principals, id.Principals)
			}
			if invalid := errors.Is(id.Err, policy.ErrInvalidCredentials); (err != nil) != invalid {
				t.Errorf("EffectivePrincipals err = %v with identity err %v", err, id.Err)
			}
			if got := f.takeSelected(); !slices.Equal(got, tt.selected) {
				t.Errorf("OnSelected names under WithIdentity = %q, want %q (once for every method)", got, tt.selected)
			}
		})
	}
}

// TestStackClaims: the identity of a chosen JWT policy keeps its verified
// claims (Identity.Claims, Policy.Claims), which the stack's group finder
// was given; a policy without claims gives none.
func TestStackClaims(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "JWT "+mintJWT(t, claims("alice", "tenant", "acme")))
	id := f.stack.Identify(r)
	if tenant, _ := id.Claims().String("tenant"); tenant != "acme" {
		t.Errorf("Identity.Claims() = %v, want tenant acme", id.Claims())
	}
	c, err := f.stack.Claims(r)
	if tenant, _ := c.String("tenant"); err != nil || tenant != "acme" {
		t.Errorf("Claims = %v, %v", c, err)
	}
	if tenant, _ := f.finderOf["alice"].String("tenant"); tenant != "acme" {
		t.Errorf("the group finder saw %v, want alice's claims", f.finderOf["alice"])
	}

	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Api-Key", "k-svc")
	if id := f.stack.Identify(r); id.Err != nil || id.Claims() != nil {
		t.Errorf("API key identity: err %v, claims %v; want none", id.Err, id.Claims())
	}
	if c, seen := f.finderOf["svc"]; !seen || c != nil {
		t.Errorf("the group finder saw %v (asked: %v) for svc, want nil claims", c, seen)
	}
}

// errText is err's text, "" for nil: errors of two identities of one
// request are alike, not one value.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestMiddleware: the stack's Middleware is Authenticate with it: the
// handler's questions are answered from one identity (OnSelected fires
// once), which the context accessors read.
func TestMiddleware(t *testing.T) {
	f := newFixture(t)
	var userid, name string
	h := f.stack.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userid, _ = f.stack.AuthenticatedUserID(r)
		_, _ = f.stack.EffectivePrincipals(r)
		id, _ := policy.IdentityFrom(r.Context())
		name = id.Policy
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+mintBearer(t, claims("bob")))
	f.takeSelected()
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got := f.takeSelected(); userid != "bob" || name != "bearer" || !slices.Equal(got, []string{"bearer"}) {
		t.Errorf("userid %q, policy %q, OnSelected %q; want bob, bearer, [bearer] once", userid, name, got)
	}
}
