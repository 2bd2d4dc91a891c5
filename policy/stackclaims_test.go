package policy_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// TestStackUndecodableClaimsRejectUser: a stack's group finder gets the
// claims its policy's own finder would, the shared verified claims, and is
// never asked with none when they do not decode in full: the user is
// rejected instead, as by the policy's own finder.
func TestStackUndecodableClaimsRejectUser(t *testing.T) {
	p := newPolicy(t, nil)
	asked, nilClaims := 0, 0
	stack, err := multiauth.New(multiauth.Config{
		Policies: []multiauth.Named{{Name: "jwt", Policy: p}},
		GroupFinder: func(userid string, r *http.Request, claims policy.Claims) ([]string, bool) {
			asked++
			if claims == nil {
				nilClaims++
			}
			if _, blocked := claims["blocked"]; blocked {
				return nil, false
			}
			return []string{"group:staff"}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := validClaims("alice")
	c["blocked"] = true
	tok := mintHS(t, c)
	if _, err := stack.AuthenticatedUserID(newRequest(jwtAuth(tok))); !errors.Is(err, policy.ErrUserRejected) {
		t.Fatalf("a blocked user, claims decoding: %v; want ErrUserRejected", err)
	}
	if asked != 1 || nilClaims != 0 {
		t.Fatalf("the finder was asked %d times, %d without claims; want once, with them", asked, nilClaims)
	}

	policy.Undecodable(t)
	asked, nilClaims = 0, 0
	r := newRequest(jwtAuth(tok))
	if uid, err := stack.AuthenticatedUserID(r); !errors.Is(err, policy.ErrUserRejected) || uid != "" {
		t.Errorf("claims that do not decode: %q, %v; want ErrUserRejected", uid, err)
	}
	if asked != 0 {
		t.Errorf("the stack's finder was asked %d times (%d without claims); want never", asked, nilClaims)
	}
	if claims, err := stack.Claims(r); claims != nil || !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("the stack's Claims: %v, %v; want none and ErrUserRejected", claims, err)
	}
	// As for a user the finder rejects (pyramid_multiauth keeps the
	// policy's own principals in the union): never Authenticated, never
	// the finder's groups.
	principals, _ := stack.EffectivePrincipals(r)
	if slices.Contains(principals, policy.Authenticated) || slices.Contains(principals, "group:staff") {
		t.Errorf("principals %q of a rejected user", principals)
	}
}

// TestStackUndecodableClaimsAccessor: without a finder the stack's user is
// authenticated (the claims are not decoded for the identity), and the
// stack's Claims, like the policy's, hands out none, with an error that
// says the user is rejected rather than nil claims and no error.
func TestStackUndecodableClaimsAccessor(t *testing.T) {
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "jwt", Policy: newPolicy(t, nil)}}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRequest(jwtAuth(mintHS(t, validClaims("alice"))))
	policy.Undecodable(t)
	if uid, err := stack.AuthenticatedUserID(r); err != nil || uid != "alice" {
		t.Fatalf("without a finder: %q, %v; want alice", uid, err)
	}
	if claims, err := stack.Claims(r); claims != nil || !errors.Is(err, policy.ErrUserRejected) {
		t.Errorf("the stack's Claims: %v, %v; want none and ErrUserRejected", claims, err)
	}
}
