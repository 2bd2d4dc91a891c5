// Package chiadapter puts the JWT policy and the ACL authorizer on chi
// routes, with middleware of the standard func(http.Handler) http.Handler
// shape that serves plain net/http as well.
//
//   - [Authenticate] keeps the request's authentication state in its
//     context; [UserID], [Principals] and [Claims] read it.
//   - [Context] and [StaticACL] set the request's context resource (Pyramid's
//     root factory and traversal): a group of routes can carry a static ACL,
//     and a route can find its resource from URL parameters, under it.
//     [URLParam] reads a chi URL parameter decoded exactly once.
//   - [Guard.Require] lets a request through only with a permission on that
//     resource; [Guard.Authenticated] only with an authenticated user.
//
// A denied request is answered with the policy's challenge (401) when it
// carried no valid credentials, and 403 when its valid credentials are not
// enough. A request that presents a token that fails is answered 401 by
// every guard, even where Everyone is allowed.
package chiadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"

	"github.com/pyramid-go/jwtauth/policy"
)

// State is a request's authentication, as the policy answered it.
type State struct {
	// UserID is the authenticated userid; meaningful when Err is nil.
	UserID string
	// Principals are the effective principals, [Everyone] at least.
	Principals []string
	// Claims are the verified claims, when the policy has them and the
	// user is authenticated (StateOf decodes them for the token the state
	// was worked out for, and hands out a deep copy).
	Claims policy.Claims
	// Err is nil for an authenticated user, or matches one of
	// policy.ErrNoCredentials, policy.ErrInvalidCredentials and
	// policy.ErrUserRejected.
	Err error
}

// claimer is the optional part of a policy that hands out verified claims,
// as policy.JWT does.
type claimer interface {
	Claims(r *http.Request) (policy.Claims, error)
}

// identifier is the optional part of a policy that answers every question
// at once, as policy.JWT does.
type identifier interface {
	Identify(r *http.Request) policy.Identity
}

// lazyState is what Authenticate keeps in the context: the state, worked
// out on first use, and for a policy that identifies requests at once, the
// identity it found (whose claims are decoded only if asked for).
type lazyState struct {
	p        policy.AuthenticationPolicy
	once     sync.Once
	state    State
	identity policy.Identity
}

type stateKey struct{}

// Authenticate returns middleware that keeps the request's authentication
// state in its context, worked out once on first use. A policy that keeps
// per-request state of its own (policy.JWT) gets it in the same context.
func Authenticate(p policy.AuthenticationPolicy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, withState(r, p))
		})
	}
}

// stater is the optional part of a policy that keeps its own per-request
// state in the context, as policy.JWT does.
type stater interface {
	WithState(ctx context.Context) context.Context
}

// StateOf returns a copy of r's authentication state; ok is false when no
// Authenticate middleware ran for r.
func StateOf(r *http.Request) (state State, ok bool) {
	ls, ok := r.Context().Value(stateKey{}).(*lazyState)
	if !ok {
		return State{}, false
	}
	s := ls.get(r)
	state = *s
	state.Principals = slices.Clone(s.Principals)
	if _, identifies := ls.p.(identifier); !identifies {
		state.Claims = s.Claims.Clone()
	} else if s.Err == nil {
		state.Claims = ls.identity.Claims() // decoded now, for this token
	}
	return state, true
}

// sharedState returns the state itself, worked out on first use, for the
// guards; callers outside the package get copies.
func sharedState(r *http.Request) (*State, bool) {
	ls, ok := r.Context().Value(stateKey{}).(*lazyState)
	if !ok {
		return nil, false
	}
	return ls.get(r), true
}

// get returns the state, worked out on first use.
func (ls *lazyState) get(r *http.Request) *State {
	ls.once.Do(func() {
		if id, ok := ls.p.(identifier); ok {
			i := id.Identify(r)
			ls.identity = i
			ls.state = State{UserID: i.UserID, Principals: i.Principals, Err: i.Err}
			return
		}
		ls.state = stateFor(ls.p, r)
	})
	return &ls.state
}

// withState returns r with a lazily worked-out state for p in its context,
// unless it has one already.
func withState(r *http.Request, p policy.AuthenticationPolicy) *http.Request {
	if _, ok := r.Context().Value(stateKey{}).(*lazyState); ok {
		return r
	}
	ctx := r.Context()
	if s, ok := p.(stater); ok {
		ctx = s.WithState(ctx) // the policy's own state, in the same copy
	}
	return r.WithContext(&stateContext{Context: ctx, ls: lazyState{p: p}})
}

// stateContext is the context withState makes: its parent and the lazy
// state, in a single allocation.
type stateContext struct {
	context.Context
	ls lazyState
}

// Value returns the lazy state for stateKey, and asks the parent about any
// other key.
func (c *stateContext) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return &c.ls
	}
	return c.Context.Value(key)
}

// String names the context by types only, as context.WithValue's would:
// fmt and slog must never print the state, which holds the userid and may
// hold the claims.
func (c *stateContext) String() string {
	parent := reflect.TypeOf(c.Context).String()
	if s, ok := c.Context.(fmt.Stringer); ok {
		parent = s.String()
	}
	return parent + ".WithValue(chiadapter.stateKey, *chiadapter.lazyState)"
}

// GoString is String, so that %#v prints no field either.
func (c *stateContext) GoString() string { return c.String() }

// policyOf returns the policy Authenticate stored for r, or nil.
func policyOf(r *http.Request) policy.AuthenticationPolicy {
	if ls, ok := r.Context().Value(stateKey{}).(*lazyState); ok {
		return ls.p
	}
	return nil
}

// stateFor asks p, a policy that does not identify requests at once,
// about r.
func stateFor(p policy.AuthenticationPolicy, r *http.Request) State {
	var s State
	s.Principals, s.Err = p.EffectivePrincipals(r)
	if s.Err == nil {
		s.UserID, s.Err = p.AuthenticatedUserID(r)
	}
	if c, ok := p.(claimer); ok && s.Err == nil {
		s.Claims, _ = c.Claims(r)
	}
	return s
}

// UserID returns r's authenticated userid; ok is false when there is none
// or no Authenticate middleware ran.
func UserID(r *http.Request) (userid string, ok bool) {
	s, ok := sharedState(r)
	if !ok || s.Err != nil {
		return "", false
	}
	return s.UserID, true
}

// Principals returns a copy of r's effective principals ([Everyone] when
// no Authenticate middleware ran).
func Principals(r *http.Request) []string {
	s, ok := sharedState(r)
	if !ok {
		return []string{policy.Everyone}
	}
	return slices.Clone(s.Principals)
}

// Claims returns a copy of r's verified claims, or nil.
func Claims(r *http.Request) policy.Claims {
	s, ok := StateOf(r)
	if !ok {
		return nil
	}
	return s.Claims
}

// hasValidCredentials tells a request whose credentials verified (even if
// the group finder rejected its user) from one without.
func (s *State) hasValidCredentials() bool {
	return s.Err == nil || errors.Is(s.Err, policy.ErrUserRejected)
}
