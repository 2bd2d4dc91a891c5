package policy_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestConcurrentUse: one policy shared by 50 goroutines, each authenticating
// its own requests, valid and invalid. Run with -race.
func TestConcurrentUse(t *testing.T) {
	var finderCalls atomic.Int32
	p := newPolicy(t, func(c *policy.Config) {
		c.GroupFinder = func(uid string, _ *http.Request, _ policy.Claims) ([]string, bool) {
			finderCalls.Add(1)
			return []string{"g-" + uid}, true
		}
	})
	const workers, perWorker = 50, 10
	expiredClaims := validClaims("late")
	expiredClaims["exp"] = tnow - 1
	expired := mintHS(t, expiredClaims)
	forged := mint(t, jose.HS256, []byte("forged-forged-forged-forged-forged-forged"), validClaims("admin"))

	var wg sync.WaitGroup
	var valid atomic.Int32
	for w := range workers {
		uid := fmt.Sprintf("user%d", w)
		tok := mintHS(t, validClaims(uid))
		wg.Go(func() {
			for i := range perWorker {
				switch (w + i) % 3 {
				case 0:
					r := policy.WithIdentity(newRequest(jwtAuth(tok)), p)
					got, err := p.AuthenticatedUserID(r)
					if err != nil || got != uid {
						t.Errorf("worker %d: AuthenticatedUserID = %q, %v", w, got, err)
					}
					pr, err := p.EffectivePrincipals(r)
					if want := []string{uid, policy.Everyone, policy.Authenticated, "g-" + uid}; err != nil || !slices.Equal(pr, want) {
						t.Errorf("worker %d: EffectivePrincipals = %q, %v", w, pr, err)
					}
					valid.Add(1)
				case 1:
					if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(expired))); !errors.Is(err, policy.ErrTokenExpired) {
						t.Errorf("worker %d: expired err = %v", w, err)
					}
				case 2:
					r := newRequest(jwtAuth(forged))
					if _, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrInvalidSignature) {
						t.Errorf("worker %d: forged err = %v", w, err)
					}
					if claimed, _ := p.UnauthenticatedUserID(r); claimed != "admin" {
						t.Errorf("worker %d: claimed = %q", w, claimed)
					}
				}
			}
		})
	}
	wg.Wait()
	if got := finderCalls.Load(); got != valid.Load() {
		t.Errorf("group finder calls = %d, want one per valid request (%d)", got, valid.Load())
	}
}

// TestConcurrentSameRequest: goroutines asking about one request (under
// Authenticate's place for its identity) share one verification and one
// group-finder call.
func TestConcurrentSameRequest(t *testing.T) {
	var finderCalls atomic.Int32
	clk := &countingClock{}
	p := newPolicy(t, func(c *policy.Config) {
		c.Now = clk.now
		c.GroupFinder = func(string, *http.Request, policy.Claims) ([]string, bool) {
			finderCalls.Add(1)
			return nil, true
		}
	})
	r := policy.WithIdentity(newRequest(jwtAuth(mintHS(t, validClaims("shared")))), p)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if uid, err := p.AuthenticatedUserID(r); err != nil || uid != "shared" {
				t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
			}
			p.EffectivePrincipals(r)
		})
	}
	wg.Wait()
	if finderCalls.Load() != 1 || clk.n.Load() != 1 {
		t.Errorf("finder calls = %d, verifications = %d; want 1 and 1", finderCalls.Load(), clk.n.Load())
	}
}
