package policy_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
