package policy_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// tnow is testNow in seconds, for hand-written payloads.
var tnow = testNow.Unix()

// payloadWith returns a JSON object with sub "u" and the given raw members.
func payloadWith(members ...string) string {
	return `{"sub":"u"` + func() string {
		var b strings.Builder
		for _, m := range members {
			b.WriteString("," + m)
		}
		return b.String()
	}() + `}`
}

func TestTimeClaims(t *testing.T) {
	leeway := func(d time.Duration) func(*policy.Config) { return func(c *policy.Config) { c.Leeway = d } }
	tests := []struct {
		name    string
		mod     func(*policy.Config)
		member  string
		wantErr error // nil: accepted
	}{
		{"exp one second ahead", nil, fmt.Sprintf(`"exp":%d`, tnow+1), nil},
		{"exactly at exp is expired", nil, fmt.Sprintf(`"exp":%d`, tnow), policy.ErrTokenExpired},
		{"exp one second ago", nil, fmt.Sprintf(`"exp":%d`, tnow-1), policy.ErrTokenExpired},
		{"exp with leeway, 29s past", leeway(30 * time.Second), fmt.Sprintf(`"exp":%d`, tnow-29), nil},
		{"exp with leeway, 30s past is expired", leeway(30 * time.Second), fmt.Sprintf(`"exp":%d`, tnow-30), policy.ErrTokenExpired},
		{"exp with leeway, 31s past", leeway(30 * time.Second), fmt.Sprintf(`"exp":%d`, tnow-31), policy.ErrTokenExpired},
		{"exp fraction ahead", nil, fmt.Sprintf(`"exp":%d.5`, tnow), nil},
		{"exp fraction behind", nil, fmt.Sprintf(`"exp":%d.5`, tnow-1), policy.ErrTokenExpired},
		{"exp in exponent form", nil, `"exp":1.8e9`, nil},
		{"exp as a string", nil, fmt.Sprintf(`"exp":"%d"`, tnow+3600), policy.ErrMalformedClaims},
		{"exp as a boolean", nil, `"exp":true`, policy.ErrMalformedClaims},
		{"exp null", nil, `"exp":null`, policy.ErrMalformedClaims},
		{"exp as an object", nil, `"exp":{"t":1}`, policy.ErrMalformedClaims},
		{"exp huge 1e300", nil, `"exp":1e300`, nil},
		{"exp huge integer", nil, `"exp":99999999999999999999999999999999`, nil},
		{"exp beyond float64", nil, `"exp":1e400`, policy.ErrMalformedClaims},
		{"exp negative", nil, `"exp":-1`, policy.ErrTokenExpired},
		{"exp negative huge", nil, `"exp":-1e300`, policy.ErrTokenExpired},
		{"exp zero", nil, `"exp":0`, policy.ErrTokenExpired},

		{"nbf now", nil, fmt.Sprintf(`"nbf":%d`, tnow), nil},
		{"nbf one second ahead", nil, fmt.Sprintf(`"nbf":%d`, tnow+1), policy.ErrTokenNotYetValid},
		{"nbf with leeway, 30s ahead", leeway(30 * time.Second), fmt.Sprintf(`"nbf":%d`, tnow+30), nil},
		{"nbf with leeway, 31s ahead", leeway(30 * time.Second), fmt.Sprintf(`"nbf":%d`, tnow+31), policy.ErrTokenNotYetValid},
		{"nbf as a string", nil, `"nbf":"0"`, policy.ErrMalformedClaims},
		{"nbf negative huge", nil, `"nbf":-1e300`, nil},
		{"nbf huge", nil, `"nbf":1e300`, policy.ErrTokenNotYetValid},

		{"iat now", nil, fmt.Sprintf(`"iat":%d`, tnow), nil},
		{"iat in the past", nil, fmt.Sprintf(`"iat":%d`, tnow-1000), nil},
		{"iat one second ahead", nil, fmt.Sprintf(`"iat":%d`, tnow+1), policy.ErrTokenIssuedInFuture},
		{"iat fraction of this second", nil, fmt.Sprintf(`"iat":%d.9`, tnow), nil},
		{"iat with leeway, 30s ahead", leeway(30 * time.Second), fmt.Sprintf(`"iat":%d`, tnow+30), nil},
		{"iat with leeway, 31s ahead", leeway(30 * time.Second), fmt.Sprintf(`"iat":%d`, tnow+31), policy.ErrTokenIssuedInFuture},
		{"iat as a string", nil, `"iat":"now"`, policy.ErrMalformedClaims},
		{"iat huge", nil, `"iat":1e300`, policy.ErrTokenIssuedInFuture},
		{"iat negative", nil, `"iat":-5`, nil},

		{"no time claims at all", nil, `"x":1`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, tt.mod)
			tok := mintRaw(t, jose.HS256, testSecret, payloadWith(tt.member))
			uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
			if tt.wantErr == nil {
				if err != nil || uid != "u" {
					t.Errorf("AuthenticatedUserID = %q, %v; want u", uid, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			// The claimed userid of a decodable token is still reported.
			if claimed, ok := p.UnauthenticatedUserID(newRequest(jwtAuth(tok))); !ok || claimed != "u" {
				t.Errorf("UnauthenticatedUserID = %q, %v; want u", claimed, ok)
			}
		})
	}
}

// TestDisableSwitches: each disable_verify_* switch turns exactly its own
// check off and leaves the others on.
func TestDisableSwitches(t *testing.T) {
	failing := map[string]struct {
		member string
		err    error
	}{
		"exp": {fmt.Sprintf(`"exp":%d`, tnow-10), policy.ErrTokenExpired},
		"nbf": {fmt.Sprintf(`"nbf":%d`, tnow+100), policy.ErrTokenNotYetValid},
		"iat": {fmt.Sprintf(`"iat":%d`, tnow+100), policy.ErrTokenIssuedInFuture},
		"aud": {`"aud":"someone-else"`, policy.ErrInvalidAudience},
	}
	switches := map[string]func(*policy.Config){
		"exp": func(c *policy.Config) { c.DisableVerifyExp = true },
		"nbf": func(c *policy.Config) { c.DisableVerifyNbf = true },
		"iat": func(c *policy.Config) { c.DisableVerifyIat = true },
		"aud": func(c *policy.Config) { c.DisableVerifyAud = true },
	}
	for sw, mod := range switches {
		p := newPolicy(t, mod)
		for check, f := range failing {
			t.Run("disable_verify_"+sw+"/"+check+" fails", func(t *testing.T) {
				tok := mintRaw(t, jose.HS256, testSecret, payloadWith(f.member))
				uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
				if sw == check {
					if err != nil || uid != "u" {
						t.Errorf("AuthenticatedUserID = %q, %v; want the check skipped", uid, err)
					}
				} else if !errors.Is(err, f.err) {
					t.Errorf("err = %v, want %v (another check must stay on)", err, f.err)
				}
			})
		}
		t.Run("disable_verify_"+sw+"/bad signature", func(t *testing.T) {
			tok := mint(t, jose.HS256, []byte("wrong-secret-wrong-secret-wrong-secret!!"), validClaims("u"))
			if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrInvalidSignature) {
				t.Errorf("err = %v, want ErrInvalidSignature", err)
			}
		})
	}
	// A disabled check still refuses a claim that is not a NumericDate: the
	// policy reads every time claim before applying the switches.
	t.Run("disable_verify_exp/exp as a string is still malformed", func(t *testing.T) {
		p := newPolicy(t, switches["exp"])
		tok := mintRaw(t, jose.HS256, testSecret, payloadWith(`"exp":"soon"`))
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrMalformedClaims) {
			t.Errorf("err = %v, want ErrMalformedClaims", err)
		}
	})
}

func TestExpiredAndBadlySignedReportsSignature(t *testing.T) {
	c := validClaims("u")
	c["exp"] = tnow - 3600
	tok := mint(t, jose.HS256, []byte("attacker-secret-attacker-secret-attacker"), c)
	p := newPolicy(t, nil)
	_, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
	if !errors.Is(err, policy.ErrInvalidSignature) {
		t.Errorf("err = %v, want ErrInvalidSignature", err)
	}
	if errors.Is(err, policy.ErrTokenExpired) {
		t.Errorf("err = %v reports expiry for a token whose signature fails", err)
	}
	if _, err := p.Claims(newRequest(jwtAuth(tok))); err == nil {
		t.Error("Claims of a badly signed token returned no error")
	}
}

func TestUserIDClaim(t *testing.T) {
	tests := []struct {
		name        string
		mod         func(*policy.Config)
		payload     string
		wantUID     string
		wantErr     error
		wantClaimed bool
	}{
		{"empty-string userid", nil, `{"sub":""}`, "", nil, true},
		{"missing sub", nil, `{"name":"u"}`, "", policy.ErrMissingUserID, false},
		{"numeric sub", nil, `{"sub":42}`, "", policy.ErrInvalidUserIDClaim, false},
		{"null sub", nil, `{"sub":null}`, "", policy.ErrInvalidUserIDClaim, false},
		{"array sub", nil, `{"sub":["a"]}`, "", policy.ErrInvalidUserIDClaim, false},
		{"custom claim", func(c *policy.Config) { c.UserIDClaim = "email" }, `{"sub":"x","email":"a@b.c"}`, "a@b.c", nil, true},
		{"custom claim missing", func(c *policy.Config) { c.UserIDClaim = "email" }, `{"sub":"x"}`, "", policy.ErrMissingUserID, false},
		{"unicode userid", nil, `{"sub":"jürgen ☃"}`, "jürgen ☃", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, tt.mod)
			r := newRequest(jwtAuth(mintRaw(t, jose.HS256, testSecret, tt.payload)))
			uid, err := p.AuthenticatedUserID(r)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, policy.ErrInvalidCredentials) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || uid != tt.wantUID {
				t.Errorf("AuthenticatedUserID = %q, %v; want %q", uid, err, tt.wantUID)
			}
			claimed, ok := p.UnauthenticatedUserID(r)
			if ok != tt.wantClaimed || claimed != tt.wantUID {
				t.Errorf("UnauthenticatedUserID = %q, %v; want %q, %v", claimed, ok, tt.wantUID, tt.wantClaimed)
			}
			principals, _ := p.EffectivePrincipals(r)
			want := []string{policy.Everyone}
			if tt.wantErr == nil {
				want = []string{tt.wantUID, policy.Everyone, policy.Authenticated}
			}
			if !slices.Equal(principals, want) {
				t.Errorf("EffectivePrincipals = %q, want %q", principals, want)
			}
		})
	}
}

func TestReservedUserIDs(t *testing.T) {
	for _, reserved := range []string{policy.Everyone, policy.Authenticated} {
		t.Run(reserved, func(t *testing.T) {
			calls := 0
			p := newPolicy(t, func(c *policy.Config) {
				c.GroupFinder = func(string, *http.Request, policy.Claims) ([]string, bool) {
					calls++
					return []string{"admin"}, true
				}
			})
			r := newRequest(jwtAuth(mintHS(t, validClaims(reserved))))
			uid, err := p.AuthenticatedUserID(r)
			if !errors.Is(err, policy.ErrUserRejected) || uid != "" {
				t.Errorf("AuthenticatedUserID = %q, %v; want ErrUserRejected", uid, err)
			}
			principals, err := p.EffectivePrincipals(r)
			if err != nil || !slices.Equal(principals, []string{policy.Everyone}) {
				t.Errorf("EffectivePrincipals = %q, %v; want [Everyone]", principals, err)
			}
			if calls != 0 {
				t.Errorf("group finder called %d times for a reserved userid", calls)
			}
		})
	}
}

func TestGroupFinderReceivesVerifiedClaims(t *testing.T) {
	var got policy.Claims
	var gotUID string
	p := newPolicy(t, func(c *policy.Config) {
		c.GroupFinder = func(uid string, _ *http.Request, claims policy.Claims) ([]string, bool) {
			gotUID, got = uid, claims
			return []string{"g1", "g2", "g1"}, true
		}
	})
	c := validClaims("fred")
	c["role"] = "editor"
	r := newRequest(jwtAuth(mintHS(t, c)))
	principals, err := p.EffectivePrincipals(r)
	if want := []string{"fred", policy.Everyone, policy.Authenticated, "g1", "g2", "g1"}; err != nil || !slices.Equal(principals, want) {
		t.Errorf("EffectivePrincipals = %q, %v; want %q (nothing de-duplicated)", principals, err, want)
	}
	if role, _ := got.String("role"); gotUID != "fred" || role != "editor" {
		t.Errorf("finder got %q, %v", gotUID, got)
	}
}

// TestThreeOutcomes: every failure matches exactly one of ErrNoCredentials,
// ErrInvalidCredentials and ErrUserRejected.
func TestThreeOutcomes(t *testing.T) {
	p := newPolicy(t, func(c *policy.Config) {
		c.GroupFinder = func(uid string, _ *http.Request, _ policy.Claims) ([]string, bool) { return nil, uid != "blocked" }
	})
	expired := validClaims("u")
	expired["exp"] = tnow - 1
	tests := []struct {
		name  string
		authz []string
		want  error
	}{
		{"no header", nil, policy.ErrNoCredentials},
		{"other scheme", []string{"Basic dTpw"}, policy.ErrNoCredentials},
		{"empty header", []string{""}, policy.ErrNoCredentials},
		{"garbage token", []string{"JWT a.b.c"}, policy.ErrInvalidCredentials},
		{"expired", []string{jwtAuth(mintHS(t, expired))}, policy.ErrInvalidCredentials},
		{"malformed header", []string{`JWT token="abc`}, policy.ErrInvalidCredentials},
		{"two Authorization headers", []string{jwtAuth(mintHS(t, validClaims("u"))), jwtAuth(mintHS(t, validClaims("v")))}, policy.ErrInvalidCredentials},
		{"rejected user", []string{jwtAuth(mintHS(t, validClaims("blocked")))}, policy.ErrUserRejected},
		{"reserved userid", []string{jwtAuth(mintHS(t, validClaims(policy.Everyone)))}, policy.ErrUserRejected},
	}
	outcomes := []error{policy.ErrNoCredentials, policy.ErrInvalidCredentials, policy.ErrUserRejected}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.AuthenticatedUserID(newRequest(tt.authz...))
			for _, o := range outcomes {
				if errors.Is(err, o) != (o == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, o, errors.Is(err, o))
				}
			}
		})
	}
}

// TestSubSecondClock: a token whose fractional exp has passed is expired,
// even when the clock is between two whole seconds.
func TestSubSecondClock(t *testing.T) {
	p := newPolicy(t, func(c *policy.Config) {
		c.Now = func() time.Time { return testNow.Add(700 * time.Millisecond) }
	})
	tok := mintRaw(t, jose.HS256, testSecret, payloadWith(fmt.Sprintf(`"exp":%d.5`, tnow)))
	if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrTokenExpired) {
		t.Errorf("exp %d.5 at %d.7: AuthenticatedUserID = %q, %v; want ErrTokenExpired", tnow, tnow, uid, err)
	}
}

// TestClaimsAreDeepCopies: the claims Claims hands out, nested objects and
// arrays included, are the caller's to change; a later request of the same
// token (cached from its second verification) gets them as signed.
func TestClaimsAreDeepCopies(t *testing.T) {
	p := newPolicy(t, nil)
	claims := validClaims("alice")
	claims["groups"] = []string{"editors"}
	claims["org"] = map[string]any{"name": "acme", "units": []string{"a"}}
	tok := mintHS(t, claims)
	for i := range 4 {
		c, err := p.Claims(newRequest(jwtAuth(tok)))
		if err != nil {
			t.Fatal(err)
		}
		groups, _ := c["groups"].([]any)
		org, _ := c["org"].(map[string]any)
		units, _ := org["units"].([]any)
		if len(groups) != 1 || groups[0] != "editors" || org["name"] != "acme" || len(units) != 1 || units[0] != "a" {
			t.Fatalf("request %d: claims %v; want them as signed", i, c)
		}
		groups[0], org["name"], units[0] = "admins", "evil", "z"
	}

	orig := policy.Claims{"a": []any{map[string]any{"b": "c"}}, "n": 1}
	cp := orig.Clone()
	cp["a"].([]any)[0].(map[string]any)["b"] = "changed"
	if orig["a"].([]any)[0].(map[string]any)["b"] != "c" {
		t.Error("Clone shares a nested object with the original")
	}
	if policy.Claims(nil).Clone() != nil {
		t.Error("the Clone of nil claims is not nil")
	}
}
