package policy_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestStatePerPolicy stacks the middleware of two policies with different
// secrets: each keeps its own outcome in the one request context, the
// context still answers its parent's values, and a cancelable context
// made under it is canceled with its parent.
func TestStatePerPolicy(t *testing.T) {
	otherSecret := []byte("another secret, long enough for HS256!!")
	pa := newPolicy(t, nil)
	pb := newPolicy(t, func(c *policy.Config) { c.MasterSecret = otherSecret })
	tok := mintHS(t, validClaims("alice")) // signed with testSecret: pa's

	type parentKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), parentKey{}, "kept"))
	var child context.Context
	stop := func() {}
	defer func() { stop() }()
	h := pa.Middleware(pb.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uid, err := pa.AuthenticatedUserID(r); err != nil || uid != "alice" {
			t.Errorf("policy a: %q, %v; want alice", uid, err)
		}
		if uid, err := pb.AuthenticatedUserID(r); err == nil {
			t.Errorf("policy b authenticated %q with a's token", uid)
		}
		if v := r.Context().Value(parentKey{}); v != "kept" {
			t.Errorf("parent value = %v, want kept", v)
		}
		child, stop = context.WithCancel(r.Context())
	})))
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent)
	r.Header.Set("Authorization", jwtAuth(tok))
	h.ServeHTTP(httptest.NewRecorder(), r)

	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context made under the policy's state was not canceled with its parent")
	}

	// And the other way round: b's token is b's alone.
	tokB := mint(t, jose.HS256, otherSecret, validClaims("bob"))
	r = newRequest(jwtAuth(tokB))
	r = policy.WithIdentity(policy.WithIdentity(r, pa), pb)
	if uid, err := pb.AuthenticatedUserID(r); err != nil || uid != "bob" {
		t.Errorf("policy b: %q, %v; want bob", uid, err)
	}
	if _, err := pa.AuthenticatedUserID(r); err == nil {
		t.Error("policy a authenticated b's token")
	}
}

// TestStateNotPrinted formats a request's context, as a handler or a
// logging middleware may, after the policy has read its token: neither the
// token nor a claim may appear, however it is printed.
func TestStateNotPrinted(t *testing.T) {
	p := newPolicy(t, nil)
	tok := mintHS(t, validClaims("marker-user-7"))
	var printed []string
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := p.AuthenticatedUserID(r); err != nil {
			t.Fatal(err)
		}
		printed = append(printed, formatted(r.Context())...)
	}))
	h.ServeHTTP(httptest.NewRecorder(), newRequest(jwtAuth(tok)))
	for _, s := range printed {
		if strings.Contains(s, tok[:20]) || strings.Contains(s, tok[len(tok)-20:]) || strings.Contains(s, "marker-user-7") {
			t.Errorf("a printed context shows the token or a claim: %s", s)
		}
	}
	if len(printed) == 0 || !strings.Contains(printed[0], "policy.stateKey") {
		t.Errorf("the context prints as %q; want its types named", printed)
	}
}

// formatted is ctx as fmt and slog's handlers print it.
func formatted(ctx context.Context) []string {
	out := []string{fmt.Sprintf("%v", ctx), fmt.Sprintf("%+v", ctx), fmt.Sprintf("%#v", ctx), fmt.Sprintf("%s", ctx)}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("request", "ctx", ctx)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("request", "ctx", ctx)
	return append(out, text.String(), js.String())
}

// stackOf is a policy holding others, as a multiauth stack does, whose
// identity is the first inner policy's.
type stackOf []policy.AuthenticationPolicy

func (s *stackOf) Stacked() []policy.AuthenticationPolicy { return *s }
func (s *stackOf) Identify(r *http.Request) policy.Identity {
	return policy.IdentityOf(r, (*s)[0])
}
func (s *stackOf) AuthenticatedUserID(r *http.Request) (string, error) {
	id := policy.IdentityOf(r, s)
	return id.UserID, id.Err
}
func (s *stackOf) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := policy.IdentityOf(r, s)
	return id.Claimed, id.HasClaim
}
func (s *stackOf) EffectivePrincipals(r *http.Request) ([]string, error) {
	return policy.IdentityOf(r, s).Principals, nil
}
func (s *stackOf) Remember(*http.Request, string) http.Header   { return nil }
func (s *stackOf) Forget(*http.Request) http.Header             { return nil }
func (s *stackOf) Challenge(http.ResponseWriter, *http.Request) {}

// TestStackPlaces: Authenticate with a Stack gives each policy it holds a
// place too, so that the inner policy's own methods answer from the one
// working out; the stack stays the nearest policy.
func TestStackPlaces(t *testing.T) {
	clk := &countingClock{}
	inner := newPolicy(t, func(c *policy.Config) { c.Now = clk.now })
	stack := &stackOf{inner}
	tok := mintHS(t, validClaims("alice"))
	h := policy.Authenticate(stack)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			if uid, err := inner.AuthenticatedUserID(r); err != nil || uid != "alice" {
				t.Errorf("the inner policy: %q, %v", uid, err)
			}
			if uid, err := stack.AuthenticatedUserID(r); err != nil || uid != "alice" {
				t.Errorf("the stack: %q, %v", uid, err)
			}
		}
		if p, _ := policy.PolicyFrom(r.Context()); p != policy.AuthenticationPolicy(stack) {
			t.Errorf("the nearest policy is %T, not the stack", p)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), newRequest(jwtAuth(tok)))
	if n := clk.n.Load(); n != 1 {
		t.Errorf("the token was verified %d times; want once", n)
	}
}

// apiKeyPolicy is a policy of the test's own whose credentials are an
// X-Api-Key header, which the framework knows nothing of.
type apiKeyPolicy struct{ asked atomic.Int32 }

func (p *apiKeyPolicy) Identify(r *http.Request) policy.Identity {
	p.asked.Add(1)
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return policy.Identity{UserID: "key-" + k, Claimed: "key-" + k, HasClaim: true, Principals: []string{"key-" + k, policy.Everyone, policy.Authenticated}}
	}
	return policy.Identity{Principals: []string{policy.Everyone}, Err: policy.ErrNoCredentials}
}
func (p *apiKeyPolicy) AuthenticatedUserID(r *http.Request) (string, error) {
	id := policy.IdentityOf(r, p)
	return id.UserID, id.Err
}
func (p *apiKeyPolicy) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := policy.IdentityOf(r, p)
	return id.Claimed, id.HasClaim
}
func (p *apiKeyPolicy) EffectivePrincipals(r *http.Request) ([]string, error) {
	return policy.IdentityOf(r, p).Principals, nil
}
func (p *apiKeyPolicy) Remember(*http.Request, string) http.Header   { return nil }
func (p *apiKeyPolicy) Forget(*http.Request) http.Header             { return nil }
func (p *apiKeyPolicy) Challenge(http.ResponseWriter, *http.Request) {}

// TestKeptIdentityFollowsTheCredentials: the identity Authenticate keeps
// answers for the request it was worked out for and its WithContext
// copies; a request whose credentials a handler changed (in place, with
// Set, or in a request of its own made on the context, whatever header
// carries them) is worked out afresh, and the kept identity is not
// changed by it.
func TestKeptIdentityFollowsTheCredentials(t *testing.T) {
	p := newPolicy(t, nil)
	keys := &apiKeyPolicy{}
	alice, mallory := mintHS(t, validClaims("alice")), mintHS(t, validClaims("mallory"))
	var checks []func(t *testing.T, r *http.Request)
	checks = append(checks,
		func(t *testing.T, r *http.Request) { // in place
			r.Header["Authorization"][0] = jwtAuth(mallory)
			if uid, _ := p.AuthenticatedUserID(r); uid != "mallory" {
				t.Errorf("after an edit in place: %q", uid)
			}
			r.Header["Authorization"][0] = jwtAuth(alice)
		},
		func(t *testing.T, r *http.Request) { // Set, on a WithContext copy
			r2 := r.WithContext(context.WithValue(r.Context(), struct{}{}, 1))
			r2.Header.Set("Authorization", jwtAuth(mallory))
			if uid, _ := p.AuthenticatedUserID(r2); uid != "mallory" {
				t.Errorf("after Set: %q", uid)
			}
			r2.Header.Set("Authorization", jwtAuth(alice))
		},
		func(t *testing.T, r *http.Request) { // a request of the handler's own
			out := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(r.Context())
			out.Header.Set("Authorization", jwtAuth(mallory))
			out.Header.Set("X-Api-Key", "mallory")
			if uid, _ := p.AuthenticatedUserID(out); uid != "mallory" {
				t.Errorf("a new request on the context: %q", uid)
			}
			if uid, _ := keys.AuthenticatedUserID(out); uid != "key-mallory" {
				t.Errorf("a new request on the context, another header: %q", uid)
			}
		},
		func(t *testing.T, r *http.Request) { // a Clone with other headers
			c := r.Clone(r.Context())
			c.Header.Set("X-Api-Key", "mallory")
			if uid, _ := keys.AuthenticatedUserID(c); uid != "key-mallory" {
				t.Errorf("a Clone with another key: %q", uid)
			}
		},
	)
	h := policy.Authenticate(p)(policy.Authenticate(keys)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, check := range checks {
			check(t, r)
			if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "alice" {
				t.Errorf("the request itself, afterwards: %q, %v", uid, err)
			}
			if uid, err := keys.AuthenticatedUserID(r); err != nil || uid != "key-alice" {
				t.Errorf("the request itself, afterwards: %q, %v", uid, err)
			}
			if uid, _ := policy.UserIDFrom(r.Context()); uid != "key-alice" {
				t.Errorf("the context, afterwards: %q", uid)
			}
		}
	})))
	r := newRequest(jwtAuth(alice))
	r.Header.Set("X-Api-Key", "alice")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if n := keys.asked.Load(); n != 3 {
		t.Errorf("the key policy worked out %d identities; want 3 (the request's, the new request's, the Clone's)", n)
	}
}

// TestAuthenticateNil: a nil policy is a mistake of the program, told when
// the middleware is built, not on each request.
func TestAuthenticateNil(t *testing.T) {
	for name, p := range map[string]policy.AuthenticationPolicy{"nil": nil, "nil pointer": (*policy.JWT)(nil)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Authenticate did not panic", name)
				}
			}()
			policy.Authenticate(p)
		}()
	}
}
