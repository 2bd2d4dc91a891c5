package multiauth_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// The stack of the tests: "jwt" (scheme JWT, secretJWT), "bearer" (scheme
// Bearer, secretBearer) and "apikey", a policy of the tests' own reading
// X-Api-Key. Every token is minted with go-jose (testkit.Mint).

var testNow = time.Unix(1_700_000_000, 0)

var (
	secretJWT    = []byte("the JWT policy's secret, 32 bytes or more")
	secretBearer = []byte("the Bearer policy's secret, not the other one")
)

var discard = slog.New(slog.DiscardHandler)

// counter is a JWT policy's own group finder, accepting every user
// without groups: the policy calls it once for each token that verifies,
// so it counts the identities the policy works out.
type counter struct{ n atomic.Int64 }

func (c *counter) find(string, *http.Request, policy.Claims) ([]string, bool) {
	c.n.Add(1)
	return nil, true
}

func clock() time.Time { return testNow }

// claims returns sub plus iat/exp around testNow, and extra.
func claims(sub string, extra ...any) map[string]any {
	c := map[string]any{"sub": sub, "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix()}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

func mintJWT(t testing.TB, c map[string]any) string { return testkit.Mint(t, jose.HS256, secretJWT, c) }
func mintBearer(t testing.TB, c map[string]any) string {
	return testkit.Mint(t, jose.HS256, secretBearer, c)
}

// apiKeyPolicy is a policy of the tests' own, no policy.JWT and no
// Identifier: X-Api-Key names a user by a key of keys; an unknown key is
// invalid credentials. It counts the identities asked of it.
type apiKeyPolicy struct {
	keys  map[string]string
	calls atomic.Int64 // AuthenticatedUserID calls
}

var errUnknownKey = fmt.Errorf("%w: unknown API key", policy.ErrInvalidCredentials)

func (p *apiKeyPolicy) user(r *http.Request) (string, error) {
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		return "", policy.ErrNoCredentials
	}
	if u, ok := p.keys[key]; ok {
		return u, nil
	}
	return "", errUnknownKey
}

func (p *apiKeyPolicy) AuthenticatedUserID(r *http.Request) (string, error) {
	p.calls.Add(1)
	return p.user(r)
}

func (p *apiKeyPolicy) UnauthenticatedUserID(r *http.Request) (string, bool) {
	u, err := p.user(r)
	return u, err == nil
}

func (p *apiKeyPolicy) EffectivePrincipals(r *http.Request) ([]string, error) {
	u, err := p.user(r)
	switch {
	case err == nil:
		return []string{u, policy.Everyone, policy.Authenticated, "apikey:" + u}, nil
	case err == policy.ErrNoCredentials:
		return []string{policy.Everyone}, nil
	}
	return []string{policy.Everyone}, err
}

func (p *apiKeyPolicy) Remember(*http.Request, string) http.Header { return http.Header{} }

// Scheme names the scheme of the policy's challenge, in which a guard's
// 403 answers.
func (p *apiKeyPolicy) Scheme() string { return "ApiKey" }

func (p *apiKeyPolicy) Forget(*http.Request) http.Header {
	return http.Header{"Www-Authenticate": {`ApiKey realm="test"`}}
}

func (p *apiKeyPolicy) Challenge(w http.ResponseWriter, r *http.Request) {
	body := map[string]string{"error": "unauthorized"}
	if _, err := p.user(r); err == errUnknownKey {
		w.Header().Set("WWW-Authenticate", `ApiKey realm="test", error="invalid_key"`)
		body = map[string]string{"error": "invalid_key"}
	} else {
		w.Header().Set("WWW-Authenticate", `ApiKey realm="test"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(body)
}

// fixture is the stack of the tests and what it counts.
type fixture struct {
	stack                 *multiauth.Policy
	jwt, bearer           *policy.JWT
	jwtCount, bearerCount *counter
	apikey                *apiKeyPolicy

	mu       sync.Mutex
	selected []string                 // OnSelected's names
	finderOf map[string]policy.Claims // the claims the finder saw, by userid
}

// takeSelected returns and clears the names OnSelected was called with.
func (f *fixture) takeSelected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.selected
	f.selected = nil
	return s
}

// newFixture builds the stack: "jwt", "bearer", "apikey", with a group
// finder that rejects mallory, gives alice group:admins, and accepts
// everyone else without groups.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{jwtCount: &counter{}, bearerCount: &counter{}, finderOf: map[string]policy.Claims{}}
	var err error
	f.jwt, err = policy.NewJWT(policy.Config{MasterSecret: secretJWT, Now: clock, Logger: discard, GroupFinder: f.jwtCount.find})
	if err != nil {
		t.Fatal(err)
	}
	f.bearer, err = policy.NewJWT(policy.Config{MasterSecret: secretBearer, Schemes: []string{"Bearer"}, Now: clock, Logger: discard, GroupFinder: f.bearerCount.find})
	if err != nil {
		t.Fatal(err)
	}
	f.apikey = &apiKeyPolicy{keys: map[string]string{"k-svc": "svc", "k-mallory": "mallory"}}
	f.stack, err = multiauth.New(multiauth.Config{
		Policies: []multiauth.Named{{Name: "jwt", Policy: f.jwt}, {Name: "bearer", Policy: f.bearer}, {Name: "apikey", Policy: f.apikey}},
		GroupFinder: func(userid string, _ *http.Request, c policy.Claims) ([]string, bool) {
			f.mu.Lock()
			f.finderOf[userid] = c
			f.mu.Unlock()
			switch userid {
			case "mallory":
				return nil, false
			case "alice":
				return []string{"group:admins"}, true
			}
			return nil, true
		},
		OnSelected: func(_ *http.Request, name, _ string) {
			f.mu.Lock()
			f.selected = append(f.selected, name)
			f.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.stack.Close() })
	return f
}

// creds are the credentials of one request.
type creds struct {
	authorization []string
	apiKey        string
}

func (c creds) apply(r *http.Request) {
	for _, a := range c.authorization {
		r.Header.Add("Authorization", a)
	}
	if c.apiKey != "" {
		r.Header.Set("X-Api-Key", c.apiKey)
	}
}
