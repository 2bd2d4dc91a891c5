package policy

import "net/http"

// AuthenticationPolicy is Pyramid's authentication policy for net/http: the
// five questions an application asks about a request's identity, and the
// challenge that asks the client for credentials.
type AuthenticationPolicy interface {
	// AuthenticatedUserID returns the userid whose credentials verified and
	// whom the group finder accepted. The empty string is a userid. When
	// there is none, the error tells why: it matches ErrNoCredentials,
	// ErrInvalidCredentials (and the reason, such as ErrTokenExpired) or
	// ErrUserRejected with errors.Is.
	AuthenticatedUserID(r *http.Request) (string, error)

	// UnauthenticatedUserID returns the userid the request claims, read
	// from the request alone: nothing is verified and no group finder is
	// asked. ok is false when the request claims no userid.
	UnauthenticatedUserID(r *http.Request) (userid string, ok bool)

	// EffectivePrincipals returns Everyone and, for an authenticated user,
	// the userid, Authenticated and the user's groups, in the order
	// [userid, Everyone, Authenticated, groups...]. A request that presents
	// credentials that fail gets [Everyone] and an error matching
	// ErrInvalidCredentials; no credentials and a rejected user are not
	// errors.
	EffectivePrincipals(r *http.Request) ([]string, error)

	// Remember returns the headers that make the client present userid's
	// identity on its next requests.
	Remember(r *http.Request, userid string) http.Header

	// Forget returns the headers that make the client drop its identity.
	Forget(r *http.Request) http.Header

	// Challenge answers the request with the response that asks the client
	// for credentials (401 with the Forget headers).
	Challenge(w http.ResponseWriter, r *http.Request)
}

// GroupFinder is Pyramid's authentication callback. It is called with a
// userid whose token verified, the request and the token's verified claims,
// which it must not modify (they are shared with other requests that
// present the same token).
// It returns ok false to reject the user (Pyramid's None), or ok true and
// the user's groups, which may be none. It is never called for a userid
// that starts with a reserved principal prefix: such a user is rejected.
type GroupFinder func(userid string, r *http.Request, claims Claims) (groups []string, ok bool)

// AcceptAll is the default group finder: it accepts every user, with no
// groups.
func AcceptAll(string, *http.Request, Claims) ([]string, bool) { return nil, true }
