package authorizer_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

var (
	secSecret = []byte("security-policy-test-secret-0123456789")
	secNow    = time.Unix(1_900_000_000, 0)
)

// secMint signs claims with go-jose directly, not with the policy.
func secMint(t *testing.T, secret []byte, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.MintSigned(t, signer, claims)
}

func secPolicy(t *testing.T) *policy.JWT {
	t.Helper()
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: secSecret,
		GroupFinder: func(userid string, _ *http.Request, c policy.Claims) ([]string, bool) {
			if strings.Contains(userid, "bad") {
				return nil, false
			}
			names, _ := c.Strings("groups")
			var groups []string
			for _, g := range names {
				groups = append(groups, "group:"+g)
			}
			return groups, true
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return secNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func secRequest(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if token != "" {
		r.Header.Set("Authorization", "JWT token="+token)
	}
	return r
}

// TestSecurityPolicy: Identity and Permits answer from a JWT policy and
// the ACLs; a failed token is decided for Everyone and reported.
func TestSecurityPolicy(t *testing.T) {
	p := secPolicy(t)
	sp := authorizer.SecurityPolicy{Authentication: p}
	root := authorizer.NewNode("root", nil, authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("view")},
		{Action: authorizer.Allow, Principal: "group:editors", Permissions: authorizer.Perms("edit")},
	})
	page := authorizer.NewNodeWithoutACL("page", root)
	claims := func(sub string, groups ...string) map[string]any {
		return map[string]any{"sub": sub, "groups": groups, "exp": secNow.Add(time.Hour).Unix()}
	}
	expired := claims("eddie", "editors")
	expired["exp"] = secNow.Add(-time.Second).Unix()

	tests := []struct {
		name           string
		token          string
		wantID         string
		wantIDErr      error
		permission     string
		wantAllowed    bool
		wantPrincipals []string
		wantPermitErr  error
	}{
		{"editor edits", secMint(t, secSecret, claims("eddie", "editors")), "eddie", nil,
			"edit", true, []string{"eddie", policy.Everyone, policy.Authenticated, "group:editors"}, nil},
		{"reader may not edit", secMint(t, secSecret, claims("rita")), "rita", nil,
			"edit", false, []string{"rita", policy.Everyone, policy.Authenticated}, nil},
		{"anonymous views", "", "", policy.ErrNoCredentials,
			"view", true, []string{policy.Everyone}, nil},
		{"rejected editor may not edit", secMint(t, secSecret, claims("baduser", "editors")), "", policy.ErrUserRejected,
			"edit", false, []string{policy.Everyone}, nil},
		// A broken token: decided for Everyone, who may view, and the
		// error tells the caller to challenge.
		{"broken token", secMint(t, []byte("another-secret-entirely-0123456789ab"), claims("eddie", "editors")), "", policy.ErrInvalidCredentials,
			"view", true, []string{policy.Everyone}, policy.ErrInvalidCredentials},
		{"broken token edits", secMint(t, []byte("another-secret-entirely-0123456789ab"), claims("eddie", "editors")), "", policy.ErrInvalidSignature,
			"edit", false, []string{policy.Everyone}, policy.ErrInvalidSignature},
		{"expired token", secMint(t, secSecret, expired), "", policy.ErrTokenExpired,
			"edit", false, []string{policy.Everyone}, policy.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := secRequest(tt.token)
			id, err := sp.Identity(r)
			if id != tt.wantID || !errors.Is(err, tt.wantIDErr) || (tt.wantIDErr == nil) != (err == nil) {
				t.Errorf("Identity = %q, %v; want %q, %v", id, err, tt.wantID, tt.wantIDErr)
			}
			d, err := sp.Permits(r, page, tt.permission)
			if (tt.wantPermitErr == nil) != (err == nil) || !errors.Is(err, tt.wantPermitErr) {
				t.Errorf("Permits error = %v; want %v", err, tt.wantPermitErr)
			}
			if d.Allowed != tt.wantAllowed || d.Permission != tt.permission || !slices.Equal(d.Principals, tt.wantPrincipals) {
				t.Errorf("Permits = %s; want allowed %v for %q", d, tt.wantAllowed, tt.wantPrincipals)
			}
			// The nil Authorizer is the ACL authorizer.
			want := authorizer.Permits(page, tt.wantPrincipals, tt.permission)
			if d.String() != want.String() {
				t.Errorf("Permits = %s; want the ACL authorizer's %s", d, want)
			}
		})
	}
}

// recordingAuthorizer answers what it is told and records what it is asked.
type recordingAuthorizer struct {
	allowed    bool
	principals []string
	permission string
	context    authorizer.Resource
}

func (a *recordingAuthorizer) Permits(context authorizer.Resource, principals []string, permission string) authorizer.Decision {
	a.context, a.principals, a.permission = context, principals, permission
	return authorizer.Decision{Allowed: a.allowed, Principals: principals, Permission: permission, Location: context}
}

// TestSecurityPolicyAuthorizer: a set Authorizer is asked instead of the
// ACLs, with the request's effective principals.
func TestSecurityPolicyAuthorizer(t *testing.T) {
	p := secPolicy(t)
	// An ACL that allows nothing: only the custom authorizer can allow.
	ctx := authorizer.NewNode("ctx", nil, authorizer.ACL{authorizer.DenyAll})
	for _, allowed := range []bool{true, false} {
		a := &recordingAuthorizer{allowed: allowed}
		sp := authorizer.SecurityPolicy{Authentication: p, Authorizer: a}
		r := secRequest(secMint(t, secSecret, map[string]any{"sub": "olga", "groups": []string{"ops"}}))
		d, err := sp.Permits(r, ctx, "deploy")
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != allowed {
			t.Errorf("Allowed = %v; want the authorizer's %v", d.Allowed, allowed)
		}
		want := []string{"olga", policy.Everyone, policy.Authenticated, "group:ops"}
		if !slices.Equal(a.principals, want) || a.permission != "deploy" || a.context != authorizer.Resource(ctx) {
			t.Errorf("authorizer asked (%v, %q, %q); want (ctx, %q, deploy)", a.context, a.principals, a.permission, want)
		}
	}
}

// fakePolicy answers Remember and Forget with marked headers.
type fakePolicy struct {
	policy.AuthenticationPolicy // unused methods panic
	remembered                  []string
}

func (f *fakePolicy) Remember(r *http.Request, userid string) http.Header {
	f.remembered = append(f.remembered, userid)
	return http.Header{"Set-Cookie": {"id=" + userid}}
}

func (f *fakePolicy) Forget(r *http.Request) http.Header {
	return http.Header{"Set-Cookie": {"id=; Max-Age=0"}}
}

// TestSecurityPolicyRememberForget: Remember and Forget are the
// authentication policy's.
func TestSecurityPolicyRememberForget(t *testing.T) {
	t.Run("JWT", func(t *testing.T) {
		sp := authorizer.SecurityPolicy{Authentication: secPolicy(t)}
		r := secRequest("")
		if h := sp.Remember(r, "eddie"); len(h) != 0 {
			t.Errorf("Remember = %v; want no headers", h)
		}
		if h := sp.Forget(r); len(h) != 1 || !slices.Equal(h.Values("WWW-Authenticate"), []string{"JWT"}) {
			t.Errorf("Forget = %v; want WWW-Authenticate: JWT alone", h)
		}
	})
	t.Run("pass-through", func(t *testing.T) {
		f := &fakePolicy{}
		sp := authorizer.SecurityPolicy{Authentication: f}
		r := secRequest("")
		if h := sp.Remember(r, "eddie"); h.Get("Set-Cookie") != "id=eddie" {
			t.Errorf("Remember = %v", h)
		}
		if !slices.Equal(f.remembered, []string{"eddie"}) {
			t.Errorf("policy's Remember called with %q", f.remembered)
		}
		if h := sp.Forget(r); h.Get("Set-Cookie") != "id=; Max-Age=0" {
			t.Errorf("Forget = %v", h)
		}
	})
}
