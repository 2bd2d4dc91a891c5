package policy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Identity is what a policy found of one request: the one answer the
// framework keeps for it (see Authenticate) and every accessor, guard and
// challenge reads.
type Identity struct {
	// UserID is the authenticated userid; meaningful when Err is nil.
	UserID string
	// Claimed is the userid the request claims, verified or not
	// (UnauthenticatedUserID); HasClaim is false when it claims none.
	Claimed  string
	HasClaim bool
	// Principals are the effective principals, [Everyone] at least, in
	// EffectivePrincipals' order.
	Principals []string
	// Err is nil for an authenticated user, or matches exactly one of
	// ErrNoCredentials, ErrInvalidCredentials (with the reason) and
	// ErrUserRejected.
	Err error
	// Policy names the policy that authenticated the request, or, when
	// none did, the one whose credentials failed or were rejected; "" for
	// a policy without a name and for a request without credentials.
	Policy string

	claims *claimSet // the verified claims, when the policy has them
	// by is the policy whose credentials authenticated the request (in a
	// stack, the policy chosen), nil when none did (AuthenticatedBy).
	by AuthenticationPolicy
	// revocationUnchecked: the token's revocation could not be checked
	// (the policy fails open); a cookie policy does not re-issue it.
	revocationUnchecked bool
}

// Authenticated tells whether the request has an authenticated user.
func (id Identity) Authenticated() bool { return id.Err == nil }

// AuthenticatedBy tells whether p's credentials authenticated the request:
// p is the policy that worked the identity out, or, for a stack's, the
// policy it chose. It tells a cookie's identity from a header's, for an
// Admitter that acts only on requests its own credentials authenticate.
// Policies are told apart as IdentityOf tells them.
func (id Identity) AuthenticatedBy(p AuthenticationPolicy) bool {
	return id.Err == nil && id.by != nil && samePolicy(id.by, p)
}

// Claims returns a copy of the verified claims of an authenticated user's
// token, decoded when first asked for; nil when the user is not
// authenticated or the policy has no claims (a Basic policy), and nil
// when the claims, which decoded when the token was verified, do not
// decode in full (which cannot be unless two decoders disagree: the
// policies' Claims methods then return an error matching ErrUserRejected).
func (id Identity) Claims() Claims {
	claims, _ := id.claimsErr()
	return claims
}

// claimsErr is Claims with its error: id.Err, or one matching
// ErrUserRejected for claims that do not decode in full.
func (id Identity) claimsErr() (Claims, error) {
	claims, err := id.SharedClaims()
	return claims.Clone(), err
}

// SharedClaims returns the verified claims as a group finder is given
// them: not a copy, so they must not be modified (other requests that
// present the same token share them). The error is id.Err, or one
// matching ErrUserRejected when the claims do not decode in full; the
// caller must then treat the user as rejected, never as a user without
// claims. Nil claims and no error: a policy without claims (Basic).
func (id Identity) SharedClaims() (Claims, error) {
	if id.Err != nil {
		return nil, id.Err
	}
	claims, err := id.claims.getErr()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserRejected, err)
	}
	return claims, nil
}

// PrincipalsAnswer is EffectivePrincipals' answer from the identity, as
// every policy of this module gives it: a copy of the principals, and the
// error when presented credentials failed (no credentials and a rejected
// user are no error).
func (id Identity) PrincipalsAnswer() ([]string, error) {
	if errors.Is(id.Err, ErrInvalidCredentials) {
		return slices.Clone(id.Principals), id.Err
	}
	return slices.Clone(id.Principals), nil
}

// Identifier is implemented by policies that work out a request's whole
// identity in one pass, as every policy of this module does. The
// framework asks any other AuthenticationPolicy its questions one by one
// (see Identify).
type Identifier interface {
	Identify(r *http.Request) Identity
}

// Identify works out r's identity with p, in one pass for an Identifier,
// otherwise from p's UnauthenticatedUserID, EffectivePrincipals and
// AuthenticatedUserID, whose answers are kept as they are (a policy may
// give principals to a request without a user). Either way, Everyone is
// among the principals, an identity with an error has no UserID, and an
// error that matches none of the three an Identity may hold is taken as
// invalid credentials (so that a guard answers it 401, never lets it
// through). Identify keeps nothing: Authenticate is what makes the answer
// once per request.
func Identify(p AuthenticationPolicy, r *http.Request) Identity {
	if i, ok := p.(Identifier); ok {
		return normalized(i.Identify(r), p)
	}
	var id Identity
	var perr error
	id.Claimed, id.HasClaim = p.UnauthenticatedUserID(r)
	id.Principals, perr = p.EffectivePrincipals(r)
	id.UserID, id.Err = p.AuthenticatedUserID(r)
	if id.Err == nil && perr != nil {
		id.Err = perr
	}
	return normalized(id, p)
}

// normalized holds id, p's identity of a request, to what every Identity
// is.
func normalized(id Identity, p AuthenticationPolicy) Identity {
	if id.Err == nil && id.by == nil {
		id.by = p
	}
	if id.Err != nil {
		id.by = nil
		id.UserID = ""
		if !errors.Is(id.Err, ErrNoCredentials) && !errors.Is(id.Err, ErrInvalidCredentials) && !errors.Is(id.Err, ErrUserRejected) {
			id.Err = fmt.Errorf("%w: %w", ErrInvalidCredentials, id.Err)
		}
	}
	if !slices.Contains(id.Principals, Everyone) {
		id.Principals = append([]string{Everyone}, id.Principals...)
	}
	return id
}
