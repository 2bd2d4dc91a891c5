package policy_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

// appClaims is an application's own claims type.
type appClaims struct {
	Subject  string           `json:"sub"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt int64            `json:"iat"`
	Level    float64          `json:"level"`
	Groups   []string         `json:"groups"`
	Address  struct {
		City string `json:"city"`
		Zip  int    `json:"zip"`
	} `json:"address"`
	Updated time.Time `json:"updated_at"` // RFC 3339, as a string
	Missing string    `json:"missing"`    // a claim the token does not have
}

// identityOf authenticates a request carrying tok with p.
func identityOf(t *testing.T, p policy.AuthenticationPolicy, authz ...string) policy.Identity {
	t.Helper()
	return policy.IdentityOf(newRequest(authz...), p)
}

func TestClaimsAsDecodesTheVerifiedClaims(t *testing.T) {
	p := newPolicy(t, nil)
	c := validClaims("alice")
	c["level"] = 2.5
	c["groups"] = []string{"editors", "authors"}
	c["address"] = map[string]any{"city": "Paris", "zip": 75001}
	c["updated_at"] = "2023-11-14T22:13:20Z"
	c["extra"] = map[string]any{"not": "in the struct"}
	id := identityOf(t, p, jwtAuth(mintHS(t, c)))
	if id.Err != nil {
		t.Fatal(id.Err)
	}

	got, err := policy.ClaimsAs[appClaims](id)
	if err != nil {
		t.Fatalf("ClaimsAs: %v", err)
	}
	if got.Subject != "alice" || got.IssuedAt != testNow.Unix() || got.Level != 2.5 || got.Missing != "" {
		t.Errorf("sub, iat, level, missing = %q, %d, %v, %q", got.Subject, got.IssuedAt, got.Level, got.Missing)
	}
	if got.Expiry == nil || !got.Expiry.Time().Equal(testNow.Add(time.Hour)) {
		t.Errorf("exp = %v, want %v", got.Expiry, testNow.Add(time.Hour))
	}
	if strings.Join(got.Groups, ",") != "editors,authors" {
		t.Errorf("groups = %q", got.Groups)
	}
	if got.Address.City != "Paris" || got.Address.Zip != 75001 {
		t.Errorf("address = %+v", got.Address)
	}
	if want := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC); !got.Updated.Equal(want) {
		t.Errorf("updated_at = %v, want %v", got.Updated, want)
	}

	// A map takes every claim; a second call decodes again, the same.
	m, err := policy.ClaimsAs[map[string]any](id)
	if err != nil || m["sub"] != "alice" || m["extra"] == nil {
		t.Errorf("ClaimsAs[map[string]any] = %v, %v", m, err)
	}
	again, err := policy.ClaimsAs[appClaims](id)
	if err != nil || again.Subject != "alice" {
		t.Errorf("again: %q, %v", again.Subject, err)
	}
}

// Names match exactly, as the verifier reads them: "SUB" is not "sub",
// so T sees the userid the policy authenticated. (encoding/json would
// fill Subject with the last of the two.)
func TestClaimsAsMatchesNamesExactly(t *testing.T) {
	p := newPolicy(t, nil)
	payload := `{"sub":"alice","iat":1700000000,"exp":1700003600,"SUB":"admin","Sub":"root"}`
	id := identityOf(t, p, jwtAuth(mintRaw(t, jose.HS256, testSecret, payload)))
	if id.Err != nil || id.UserID != "alice" {
		t.Fatalf("identity %q, %v", id.UserID, id.Err)
	}
	got, err := policy.ClaimsAs[struct {
		Subject string `json:"sub"`
	}](id)
	if err != nil || got.Subject != "alice" {
		t.Errorf("sub = %q, %v; want the authenticated alice", got.Subject, err)
	}
}

func TestClaimsAsMismatch(t *testing.T) {
	p := newPolicy(t, nil)
	c := validClaims("alice")
	c["groups"] = "editors-secret-value"
	c["age"] = 31337
	id := identityOf(t, p, jwtAuth(mintHS(t, c)))
	if id.Err != nil {
		t.Fatal(id.Err)
	}
	for name, decode := range map[string]func() (any, error){
		"groups": func() (any, error) {
			return policy.ClaimsAs[struct {
				Groups []string `json:"groups"`
			}](id)
		},
		"age": func() (any, error) {
			return policy.ClaimsAs[struct {
				Age int8 `json:"age"` // 31337 overflows
			}](id)
		},
		"exp": func() (any, error) {
			return policy.ClaimsAs[struct {
				Expiry time.Time `json:"exp"` // a number, not an RFC 3339 string
			}](id)
		},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := decode()
			if !errors.Is(err, policy.ErrClaimsMismatch) {
				t.Fatalf("err = %v; want ErrClaimsMismatch", err)
			}
			if errors.Is(err, policy.ErrNoClaims) || errors.Is(err, policy.ErrInvalidCredentials) {
				t.Errorf("err %v matches another sentinel", err)
			}
			var se *jsonv2.SemanticError
			if !errors.As(err, &se) {
				t.Errorf("err %v does not unwrap to the decoder's *json.SemanticError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"/`+name+`"`) {
				t.Errorf("message %q does not name the claim %q", msg, name)
			}
			for _, value := range []string{"editors-secret-value", "31337", "1700003600"} {
				if strings.Contains(msg, value) {
					t.Errorf("message %q quotes the claim value %s", msg, value)
				}
			}
			if !reflectZero(v) {
				t.Errorf("on an error, ClaimsAs returned %+v, not the zero value", v)
			}
		})
	}
}

// reflectZero tells whether v (a struct of one field) is its zero value.
func reflectZero(v any) bool {
	b, _ := jsonv2.Marshal(v, jsonv2.OmitZeroStructFields(true))
	return string(b) == "{}"
}

func TestClaimsAsNoClaims(t *testing.T) {
	p := newPolicy(t, nil)
	forged := mint(t, jose.HS256, []byte("another-secret-another-secret-another-secret"), validClaims("admin"))

	for _, tc := range []struct {
		name string
		id   policy.Identity
		also error
	}{
		{"no credentials", identityOf(t, p), policy.ErrNoCredentials},
		{"a forged token", identityOf(t, p, jwtAuth(forged)), policy.ErrInvalidCredentials},
		{"a reserved userid", identityOf(t, p, jwtAuth(mintHS(t, validClaims("system.Everyone")))), policy.ErrUserRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := policy.ClaimsAs[appClaims](tc.id)
			if !errors.Is(err, policy.ErrNoClaims) || !errors.Is(err, tc.also) {
				t.Errorf("err = %v; want ErrNoClaims and %v", err, tc.also)
			}
			if got.Subject != "" {
				t.Errorf("claims of a failed identity: %+v", got)
			}
		})
	}

	// A Basic user is authenticated, without claims.
	b, err := basic.New(basic.Config{Check: basic.Passwords(map[string]string{"alice": "pw"}, nil), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth("alice", "pw")
	id := policy.IdentityOf(r, b)
	if id.Err != nil || id.UserID != "alice" {
		t.Fatalf("Basic identity %q, %v", id.UserID, id.Err)
	}
	if _, err := policy.ClaimsAs[appClaims](id); !errors.Is(err, policy.ErrNoClaims) || errors.Is(err, policy.ErrInvalidCredentials) {
		t.Errorf("Basic user: err = %v; want ErrNoClaims alone", err)
	}

	// Without an Authenticate above it, a context has no claims.
	if _, err := policy.ClaimsFromAs[appClaims](context.Background()); !errors.Is(err, policy.ErrNoClaims) || !errors.Is(err, policy.ErrNoCredentials) {
		t.Errorf("ClaimsFromAs(Background) err = %v", err)
	}
}

// The claims of the context are those of the token that verified for the
// request Authenticate saw: a copy of the request carrying another token
// (forged, or with a payload swapped in under a valid signature) does not
// change them, and asked with the copy, the policy finds that the copy's
// token fails.
func TestClaimsFromAsAreTheVerifiedTokens(t *testing.T) {
	p := newPolicy(t, nil)
	alice := mintHS(t, validClaims("alice"))
	forged := mint(t, jose.HS256, []byte("another-secret-another-secret-another-secret"), validClaims("admin"))
	parts := strings.Split(alice, ".")
	swapped := parts[0] + "." + b64(`{"sub":"admin","iat":1700000000,"exp":1700003600}`) + "." + parts[2]

	type sub struct {
		Subject string `json:"sub"`
	}
	var ran bool
	h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran = true
		got, err := policy.ClaimsFromAs[sub](r.Context())
		if err != nil || got.Subject != "alice" {
			t.Errorf("ClaimsFromAs = %q, %v; want alice", got.Subject, err)
		}
		for name, tok := range map[string]string{"forged": forged, "swapped payload": swapped} {
			c := r.Clone(r.Context())
			c.Header.Set("Authorization", jwtAuth(tok))
			if got, err := policy.ClaimsFromAs[sub](c.Context()); err != nil || got.Subject != "alice" {
				t.Errorf("%s: ClaimsFromAs(copy's context) = %q, %v; want alice", name, got.Subject, err)
			}
			if got, err := policy.ClaimsAs[sub](policy.IdentityOf(c, p)); !errors.Is(err, policy.ErrInvalidCredentials) || got.Subject != "" {
				t.Errorf("%s: ClaimsAs(IdentityOf(copy)) = %q, %v; want invalid credentials", name, got.Subject, err)
			}
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), newRequest(jwtAuth(alice)))
	if !ran {
		t.Fatal("the handler did not run")
	}
}
