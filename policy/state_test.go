package policy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
	r = r.WithContext(pb.WithState(pa.WithState(r.Context())))
	if uid, err := pb.AuthenticatedUserID(r); err != nil || uid != "bob" {
		t.Errorf("policy b: %q, %v; want bob", uid, err)
	}
	if _, err := pa.AuthenticatedUserID(r); err == nil {
		t.Error("policy a authenticated b's token")
	}
}
