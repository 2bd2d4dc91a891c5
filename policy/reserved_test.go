package policy_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestReservedPrincipalPrefixes: userids and groups share one namespace of
// principals, so a userid that starts with a reserved prefix would be that
// group (or system principal) in every ACL. Such a user is rejected, as
// by a group finder, and the finder is never asked; the log says why and
// never holds the token.
func TestReservedPrincipalPrefixes(t *testing.T) {
	for _, tt := range []struct {
		name     string
		prefixes []string // Config.ReservedPrincipalPrefixes
		rejected []string
		accepted []string
	}{
		{
			name:     "default",
			rejected: []string{"group:admins", "group:", "role:admin", "scope:write", "system.Everyone", "system.Authenticated", "system.", "system.other"},
			accepted: []string{"", "alice", "groupie", "Group:admins", "GROUP:admins", " group:admins", "admin@example.com", "user:group:admins", "system", "systemd"},
		},
		{
			name:     "own prefixes replace the defaults",
			prefixes: []string{"team:", "org/"},
			rejected: []string{"team:a", "org/x", "system.Everyone"},
			accepted: []string{"group:admins", "role:admin", "alice"},
		},
		{
			name:     "empty list: system. alone",
			prefixes: []string{},
			rejected: []string{"system.Everyone", "system.x"},
			accepted: []string{"group:admins", "scope:write", ""},
		},
		{
			name:     "system. given",
			prefixes: []string{"system."},
			rejected: []string{"system.Authenticated"},
			accepted: []string{"group:admins"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			logger, logs := bufLogger()
			p := newPolicy(t, func(c *policy.Config) {
				c.Logger = logger
				c.ReservedPrincipalPrefixes = tt.prefixes
				c.GroupFinder = func(userid string, _ *http.Request, _ policy.Claims) ([]string, bool) {
					asked = append(asked, userid)
					return []string{"group:editors"}, true
				}
			})
			for _, userid := range tt.rejected {
				tok := mintHS(t, validClaims(userid))
				r := policy.WithIdentity(newRequest(jwtAuth(tok)), p)
				if uid, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrUserRejected) {
					t.Errorf("%q: AuthenticatedUserID = %q, %v; want ErrUserRejected", userid, uid, err)
				}
				if got, err := p.EffectivePrincipals(r); err != nil || !slices.Equal(got, []string{policy.Everyone}) {
					t.Errorf("%q: EffectivePrincipals = %q, %v; want [Everyone]", userid, got, err)
				}
				if id := p.Identify(newRequest(jwtAuth(tok))); !errors.Is(id.Err, policy.ErrUserRejected) || id.UserID != "" || !slices.Equal(id.Principals, []string{policy.Everyone}) {
					t.Errorf("%q: Identify = %+v", userid, id)
				}
				if c, err := p.Claims(r); !errors.Is(err, policy.ErrUserRejected) || c != nil {
					t.Errorf("%q: Claims = %v, %v; want none, ErrUserRejected", userid, c, err)
				}
				if claimed, ok := p.UnauthenticatedUserID(r); !ok || claimed != userid {
					t.Errorf("%q: UnauthenticatedUserID = %q, %v; the claim is still what the token says", userid, claimed, ok)
				}
				if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), strings.Split(tok, ".")[2]) {
					t.Errorf("the log holds the token:\n%s", logs)
				}
			}
			if len(asked) != 0 {
				t.Errorf("the group finder was asked about %q", asked)
			}
			if n := strings.Count(logs.String(), "reserved principal prefix"); n != 2*len(tt.rejected) {
				t.Errorf("%d rejections logged, want %d (one per request):\n%s", n, 2*len(tt.rejected), logs)
			}
			for _, userid := range tt.accepted {
				r := newRequest(jwtAuth(mintHS(t, validClaims(userid))))
				if uid, err := p.AuthenticatedUserID(r); err != nil || uid != userid {
					t.Errorf("%q: AuthenticatedUserID = %q, %v", userid, uid, err)
				}
				want := []string{userid, policy.Everyone, policy.Authenticated, "group:editors"}
				if got, err := p.EffectivePrincipals(r); err != nil || !slices.Equal(got, want) {
					t.Errorf("%q: EffectivePrincipals = %q, %v; want %q", userid, got, err, want)
				}
				if c, err := p.Claims(r); err != nil || c["sub"] != userid {
					t.Errorf("%q: Claims = %v, %v", userid, c, err)
				}
			}
		})
	}
}

// The rule holds whatever claim holds the userid: an identity provider
// that lets users choose their preferred_username or email lets them
// choose "group:admins".
func TestReservedPrincipalPrefixesOtherClaim(t *testing.T) {
	p := newPolicy(t, func(c *policy.Config) { c.UserIDClaim = "preferred_username" })
	claims := validClaims("0c6f1a")
	claims["preferred_username"] = "group:admins"
	if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintHS(t, claims)))); !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("AuthenticatedUserID = %q, %v; want ErrUserRejected", uid, err)
	}
}

// An empty prefix would reserve every userid: a configuration error
// naming the setting.
func TestReservedPrincipalPrefixesEmpty(t *testing.T) {
	_, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, Logger: discard, ReservedPrincipalPrefixes: []string{"group:", ""}})
	var ce *policy.ConfigError
	if !errors.As(err, &ce) || ce.Key != "reserved_principal_prefixes" {
		t.Fatalf("NewJWT: %v; want a ConfigError for reserved_principal_prefixes", err)
	}
}
