// Package chiadapter puts any authentication policy and the ACL authorizer
// on chi routes, with middleware of the standard func(http.Handler)
// http.Handler shape that serves plain net/http as well.
//
//   - [Authenticate] is policy.Authenticate: each request gets one
//     identity with the policy, worked out on first use; handlers and
//     service code read it with policy.IdentityFrom(r.Context()) and the
//     other policy accessors.
//   - [Context] and [StaticACL] set the request's context resource (Pyramid's
//     root factory and traversal): a group of routes can carry a static ACL,
//     and a route can find its resource from URL parameters, under it.
//     [URLParam] reads a chi URL parameter decoded exactly once.
//   - [Guard.Require] lets a request through only with a permission on that
//     resource; [Guard.Authenticated] only with an authenticated user.
//
// A denied request is answered with the policy's challenge (401) when it
// carried no valid credentials, and 403 when its valid credentials are not
// enough. A request that presents credentials that fail is answered 401 by
// every guard, even where Everyone is allowed.
package chiadapter

import (
	"net/http"

	"github.com/pyramid-go/jwtauth/policy"
)

// Authenticate returns middleware that gives each request one identity
// with p: policy.Authenticate(p), so that either, or both, in any order,
// give the same answers.
func Authenticate(p policy.AuthenticationPolicy) func(http.Handler) http.Handler {
	return policy.Authenticate(p)
}
