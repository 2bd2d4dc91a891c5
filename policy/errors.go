package policy

import (
	"errors"
	"strings"
)

// The three outcomes of authentication that are not a userid. Every error
// a policy of this module returns from a request, and every Identity.Err,
// matches exactly one of them with errors.Is.
var (
	// ErrNoCredentials: the request presented no credentials for the
	// policy (for the JWT policy: no Authorization header of its scheme).
	ErrNoCredentials = errors.New("jwtauth: no credentials")
	// ErrInvalidCredentials: the request presented credentials that failed
	// (a token, a password); the error also matches a reason, such as
	// those below.
	ErrInvalidCredentials = errors.New("jwtauth: invalid credentials")
	// ErrUserRejected: the credentials verified, but the group finder
	// rejected the userid, or the userid starts with a reserved principal
	// prefix (Config.ReservedPrincipalPrefixes).
	ErrUserRejected = errors.New("jwtauth: user rejected")
)

// ErrCrossOrigin is the reason a cookie policy rejects the user of a
// cross-origin request with an unsafe method (CSRF protection, see
// Cookie.Identify); the error matches ErrUserRejected too.
var ErrCrossOrigin = errors.New("cross-origin request refused")

// The errors of ClaimsAs and ClaimsFromAs, which decode an authenticated
// user's verified claims into a type of the application's.
var (
	// ErrNoClaims: the identity has no verified claims (its user is not
	// authenticated, or its policy has no claims, as the Basic policy).
	ErrNoClaims = errors.New("jwtauth: no claims")
	// ErrClaimsMismatch: the verified claims do not fit the type asked
	// for (a claim's JSON type is not its field's).
	ErrClaimsMismatch = errors.New("jwtauth: claims do not fit")
)

// The reasons a presented token fails. Their texts are short and hold nothing
// from the token, so that they can be shown to the client in the challenge's
// error_description.
var (
	ErrMalformedHeader      = errors.New("malformed Authorization header")
	ErrMalformedCookie      = errors.New("malformed token cookie")
	ErrTokenTooLarge        = errors.New("token too large")
	ErrMalformedToken       = errors.New("malformed token")
	ErrAlgorithmNotAllowed  = errors.New("signing algorithm not allowed")
	ErrInvalidSignature     = errors.New("invalid signature")
	ErrMalformedClaims      = errors.New("malformed claims")
	ErrTokenExpired         = errors.New("token expired")
	ErrTokenNotYetValid     = errors.New("token not valid yet")
	ErrTokenIssuedInFuture  = errors.New("token issued in the future")
	ErrInvalidAudience      = errors.New("invalid audience")
	ErrInvalidIssuer        = errors.New("invalid issuer")
	ErrInvalidUserIDClaim   = errors.New("userid claim is not a string")
	ErrMissingUserID        = errors.New("token names no userid")
	ErrNoKey                = errors.New("no key to verify the token")
	ErrUnsupportedTokenType = errors.New("unsupported token type")
	ErrWrongTokenType       = errors.New("wrong token type")
	// ErrUnknownIssuer: the token's iss names no configured key set
	// (Config.KeySets); it is refused before any key is fetched.
	ErrUnknownIssuer = errors.New("issuer not accepted")
	// ErrMissingClaim: the token lacks a claim that Config.Profile
	// requires; the reason is a *ClaimError naming it.
	ErrMissingClaim = errors.New("missing claim")
	// ErrInvalidClaim: a claim that Config.Profile requires has the wrong
	// JSON type (a client_id that is not a string, say); the reason is a
	// *ClaimError naming it.
	ErrInvalidClaim = errors.New("invalid claim")
	// ErrInvalidScope: with Config.ScopePrincipals, the token's scope (or
	// scp) claim is not a list of RFC 6749 scope tokens, or holds more
	// than MaxScopes of them; the reason is a *ClaimError naming the claim.
	ErrInvalidScope = errors.New("invalid scope claim")
)

// ClaimError is the reason of a token refused for one claim: the
// InvalidTokenError's Reason, which matches Err with errors.Is (such as
// ErrMissingClaim, ErrInvalidClaim or ErrInvalidScope) and whose text,
// "missing claim client_id" say, names the claim and nothing it holds, so
// that it is safe to show in the challenge's error_description.
type ClaimError struct {
	// Claim is the name of the claim at fault, such as "client_id".
	Claim string
	// Err is what is wrong with it, one of the Err* reasons above.
	Err error
}

// Error returns the reason and the claim's name.
func (e *ClaimError) Error() string { return e.Err.Error() + " " + e.Claim }

// Unwrap returns the reason.
func (e *ClaimError) Unwrap() error { return e.Err }

// claimInvalid is the invalid-credentials error of the claim name, for
// reason, with cause (what exactly is wrong; never the claim's value).
func claimInvalid(name string, reason, cause error) *InvalidTokenError {
	return invalid(&ClaimError{Claim: name, Err: reason}, cause)
}

// InvalidTokenError is the error for a presented token that failed. It
// matches ErrInvalidCredentials and its Reason with errors.Is.
type InvalidTokenError struct {
	// Reason is one of the Err* reasons above, or a *ClaimError wrapping
	// one and naming the claim at fault; its text is safe to show.
	Reason error
	// Cause is the underlying error, for debugging. It never holds the
	// signature, but a parser's message may quote a fragment of the
	// token's header or claims: log Reason where that matters.
	Cause error
}

// Error returns the reason and, when there is one, the cause.
func (e *InvalidTokenError) Error() string {
	var b strings.Builder
	b.WriteString("jwtauth: invalid credentials: ")
	b.WriteString(e.Reason.Error())
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Is makes the error match ErrInvalidCredentials.
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidCredentials }

// Unwrap returns the reason and the cause.
func (e *InvalidTokenError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Cause}
}

func invalid(reason, cause error) *InvalidTokenError {
	return &InvalidTokenError{Reason: reason, Cause: cause}
}
