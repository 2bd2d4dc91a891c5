package policy

import (
	"errors"
	"net/http"

	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// tokenIdentities is what the JWT policies share, whatever carries their
// tokens (the Authorization header, a cookie): the verifier, and the one
// way from a token to an identity.
type tokenIdentities struct {
	cfg       Config
	v         *Verifier
	reserved  ReservedPrefixes
	acceptAll bool // no group finder was configured
	// proofs verifies DPoP proofs (Config.DPoP); nil with DPoP disabled.
	proofs *dpop.Verifier
}

// newTokenIdentities checks the token settings of cfg (its reserved
// prefixes, then the verifier's) and builds them.
func newTokenIdentities(cfg Config) (tokenIdentities, error) {
	reserved, err := NewReservedPrefixes(cfg.ReservedPrincipalPrefixes)
	if err != nil {
		return tokenIdentities{}, configErr("reserved_principal_prefixes", "%w", err)
	}
	cfg.ReservedPrincipalPrefixes = reserved
	if _, ok := reserved.Of(ScopePrefix); cfg.ScopePrincipals && !ok {
		return tokenIdentities{}, configErr("reserved_principal_prefixes", "must reserve %s with scope_principals: a userid %sx would otherwise be the scope x in every ACL", ScopePrefix, ScopePrefix)
	}
	acceptAll := cfg.GroupFinder == nil
	if acceptAll {
		cfg.GroupFinder = AcceptAll
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		return tokenIdentities{}, err
	}
	return tokenIdentities{cfg: v.cfg, v: v, reserved: reserved, acceptAll: acceptAll}, nil
}

// Observer returns the policy's observer (Config.Observer), which
// Authenticate tells of the requests it authenticates and refuses.
func (ti *tokenIdentities) Observer() *Observer { return ti.cfg.Observer }

// verified verifies raw, the token a request presented (lookUp false: the
// caller looked it up in the cache already), and logs a failure with its
// reason and the client's address, never the token.
func (ti *tokenIdentities) verified(r *http.Request, raw string, lookUp bool) VerifiedToken {
	t := ti.v.verify(r.Context(), raw, lookUp)
	if t.Err != nil {
		ti.logInvalid(r, t.Err)
	}
	return t
}

// logInvalid logs why a presented token failed.
func (ti *tokenIdentities) logInvalid(r *http.Request, err error) {
	var ite *InvalidTokenError
	if !errors.As(err, &ite) {
		ti.cfg.Logger.Info("jwtauth: invalid credentials", "remote", r.RemoteAddr)
		return
	}
	ti.cfg.Logger.Info("jwtauth: invalid credentials", "reason", ite.Reason.Error(), "remote", r.RemoteAddr)
	if ite.Cause != nil {
		// The cause (a parser's message, a key set's failure) may quote a
		// fragment of the token's header or claims, never its signature:
		// Debug only.
		ti.cfg.Logger.Debug("jwtauth: invalid credentials", "reason", ite.Reason.Error(), "cause", ite.Cause.Error(), "remote", r.RemoteAddr)
	}
}

// identity is the identity of a request that presented the token t (or,
// when presented is false, none): the token's userid and its principals,
// after the reserved prefixes and the group finder, with its scopes last
// (read once, when the token was verified: Config.ScopePrincipals).
func (ti *tokenIdentities) identity(r *http.Request, t VerifiedToken, presented bool) Identity {
	id := Identity{Claimed: t.UserID, HasClaim: t.HasUserID, Err: t.Err, claims: t.claims, revocationUnchecked: t.unchecked}
	switch {
	case !presented:
		id.Principals, id.Err = []string{Everyone}, ErrNoCredentials
		return id
	case t.Err != nil:
		id.Principals = []string{Everyone}
		return id
	}
	groups, ok := ti.groupsOf(r, t)
	if !ok {
		id.Principals, id.Err = []string{Everyone}, ErrUserRejected
		return id
	}
	id.UserID = t.UserID
	id.Principals = make([]string, 0, 3+len(groups)+len(t.scopes))
	id.Principals = append(append(append(id.Principals, t.UserID, Everyone, Authenticated), groups...), t.scopes...)
	return id
}

// groupsOf asks the group finder about a verified token's userid; a userid
// with a reserved prefix (a system principal, a group) is never passed to
// it and authenticates nobody.
func (ti *tokenIdentities) groupsOf(r *http.Request, t VerifiedToken) ([]string, bool) {
	if prefix, reserved := ti.reserved.Of(t.UserID); reserved {
		ti.cfg.Logger.Info("jwtauth: user rejected", "reason", "the userid starts with a reserved principal prefix", "prefix", prefix, "remote", r.RemoteAddr)
		return nil, false
	}
	if ti.acceptAll {
		return nil, true // the default finder, which needs no claims
	}
	claims, err := t.claims.getErr()
	if err != nil {
		// Never the finder's answer on no claims: it may accept a user
		// for want of a claim it would refuse.
		ti.cfg.Logger.Error("jwtauth: user rejected", "reason", "the verified token's claims do not decode as they did when it was verified", "remote", r.RemoteAddr)
		return nil, false
	}
	return ti.cfg.GroupFinder(t.UserID, r, claims)
}
