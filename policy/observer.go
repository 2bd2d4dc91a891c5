package policy

import (
	"errors"
)

// Observer is told what the policies do, for the counters an operator
// watches (Counters is one): each field is a func called on one event, and
// a nil field, or a nil *Observer, is not called, at the cost of a nil
// check. An Observer is given to a policy by Config.Observer (the JWT and
// cookie policies and their Verifier), basic.Config.Observer,
// multiauth.Config.Observer and keyset.Options.Observer (the key-set
// fetches); settings.WithObserver gives one to every policy and key set
// NewPolicy builds.
//
// Each event has one place in the code, so that one request is counted
// once: the identity of a request is reported by Authenticate (and
// Admit), once per request, when it is worked out, to the observer of the
// policy Authenticate was given (for a stack, the stack's, naming the
// policy of the stack that decided); a policy asked without Authenticate,
// or a request whose credential headers a handler changed, is not
// reported. The other events come from where they happen: the
// verified-token cache, the revocation check, the DPoP binding step and a
// key set's fetch.
//
// The funcs must be safe for concurrent use and quick: they run on the
// request's goroutine (a fetch's on the key set's). They are never given a
// token, a claim's value, a password, a proof or a secret: a policy's
// name, a reason that is one of the module's sentinel errors (Reason), a
// key set's source without credentials or query.
type Observer struct {
	// Authenticated: a request's user was authenticated; policy is the
	// name of the policy that authenticated it in a stack
	// (Identity.Policy), "" for a policy alone.
	Authenticated func(policy string)
	// Refused: a request presented credentials that failed (invalid
	// credentials) or whose user was rejected; policy is as Authenticated's
	// (the policy whose credentials failed) and reason is Reason of the
	// identity's error, such as ErrInvalidSignature, ErrTokenExpired,
	// ErrTokenRevoked or ErrUserRejected. A request without credentials is
	// neither authenticated nor refused.
	Refused func(policy string, reason error)
	// CacheHit: a token was answered from the verified-token cache, its
	// signature not checked again (its times and revocation are).
	CacheHit func()
	// CacheMiss: a token was looked up in the verified-token cache and not
	// found there (or found stale): it is verified in full. A policy
	// without a cache (Config.CacheSize NoCache) reports neither.
	CacheMiss func()
	// KeySetFetched: a key set was fetched (a URL's, discovery included,
	// or a file read because it changed or a token named an unknown kid);
	// ok tells whether it succeeded. source is the file's path, or the
	// URL (the issuer, for OpenID Connect discovery) without its user
	// information and query.
	KeySetFetched func(source string, ok bool)
	// Revoked: the revocation store refused a verified token
	// (ErrTokenRevoked).
	Revoked func()
	// RevocationUnavailable: the revocation store could not be asked about
	// a verified token (refused with ErrRevocationUnavailable, or accepted
	// with Config.RevocationFailOpen).
	RevocationUnavailable func()
	// DPoPReplay: a DPoP proof was refused because it was used before
	// (dpop.ErrProofReplayed).
	DPoPReplay func()
}

// Observable is a policy with an Observer: Authenticate reports the
// identity of each request to the observer of the policy it was given
// (see Observer). The policies of this module are Observable; a policy of
// an application's may be too.
type Observable interface {
	// Observer returns the policy's observer; nil for none.
	Observer() *Observer
}

// observerOf is p's observer, or nil.
func observerOf(p AuthenticationPolicy) *Observer {
	if o, ok := p.(Observable); ok {
		return o.Observer()
	}
	return nil
}

// Reason returns the reason of an Identity's error, as Observer.Refused
// is given it: for invalid credentials, the InvalidTokenError's Reason
// (for a *ClaimError, its Err, such as ErrMissingClaim), or
// ErrInvalidCredentials when there is none; for a user rejected,
// ErrCrossOrigin or ErrUserRejected; ErrNoCredentials for no credentials;
// nil for nil. Each is a sentinel of this module (or of the policy that
// made the InvalidTokenError, such as basic.ErrBadPassword), whose text
// holds nothing of the request.
func Reason(err error) error {
	if err == nil {
		return nil
	}
	var ite *InvalidTokenError
	if errors.As(err, &ite) && ite.Reason != nil {
		var ce *ClaimError
		if errors.As(ite.Reason, &ce) && ce.Err != nil {
			return ce.Err
		}
		return ite.Reason
	}
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return ErrInvalidCredentials
	case errors.Is(err, ErrCrossOrigin):
		return ErrCrossOrigin
	case errors.Is(err, ErrUserRejected):
		return ErrUserRejected
	}
	return ErrNoCredentials
}

// identified reports a request's identity: authenticated, refused, or
// nothing for no credentials.
func (o *Observer) identified(id Identity) {
	if o != nil {
		o.report(id)
	}
}

func (o *Observer) report(id Identity) {
	switch {
	case id.Err == nil:
		if o.Authenticated != nil {
			o.Authenticated(id.Policy)
		}
	case errors.Is(id.Err, ErrNoCredentials):
	case o.Refused != nil:
		o.Refused(id.Policy, Reason(id.Err))
	}
}

// cacheLookup reports a look-up in the verified-token cache.
func (o *Observer) cacheLookup(hit bool) {
	if o == nil {
		return
	}
	if f := o.CacheMiss; !hit && f != nil {
		f()
	} else if f := o.CacheHit; hit && f != nil {
		f()
	}
}

// revocation reports a revocation refusal (revoked) or a store that could
// not be asked.
func (o *Observer) revocation(revoked bool) {
	if o == nil {
		return
	}
	if f := o.Revoked; revoked && f != nil {
		f()
	} else if f := o.RevocationUnavailable; !revoked && f != nil {
		f()
	}
}

// dpopReplay reports a replayed DPoP proof.
func (o *Observer) dpopReplay() {
	if o != nil && o.DPoPReplay != nil {
		o.DPoPReplay()
	}
}
