// Package multiauth stacks named authentication policies into one, with
// the semantics of pyramid_multiauth's MultiAuthenticationPolicy: a JWT
// policy, a second one for another issuer's Bearer tokens, an API key
// policy of the application's own, each asked in turn.
//
// The stack (a *Policy) is an AuthenticationPolicy and a policy.Identifier:
// it works out a request's identity by identifying the request once with
// every policy of the stack, in order, and answers each of its methods from
// that identity, kept once per request by policy.Authenticate (or
// chiadapter.Authenticate) with the stack. Its answers:
//
//   - UnauthenticatedUserID: the first policy's claimed userid, in stack
//     order (the empty string is a userid, and stops the search).
//   - AuthenticatedUserID: the userid of the first policy that
//     authenticated the request and whose user the stack's GroupFinder, if
//     any, accepts; a user the finder rejects falls through to the next
//     policy. Identity.Policy names the policy chosen, and Config.OnSelected
//     reports every policy whose user was asked of the finder (see there).
//     A credential that fails in one policy does not keep the next from
//     authenticating the request. When none does, the error is the first
//     failed policy's invalid credentials (Identity.Policy names it), else,
//     when one policy's user was rejected (by that policy, or by the
//     stack's finder), ErrUserRejected (Identity.Policy names the first),
//     else ErrNoCredentials.
//   - EffectivePrincipals: Everyone and the union of every policy's
//     principals, as they are. With a GroupFinder, Authenticated is dropped
//     from that union and added back only with the user the finder
//     accepts, together with that userid and the user's groups. Note that,
//     as in pyramid_multiauth, the principals a policy gave its user stay
//     in the union when the finder rejects that user and the next policy's
//     user is chosen.
//   - Remember and Forget: every policy's headers, concatenated in stack
//     order.
//   - Challenge: one WWW-Authenticate challenge per policy, each policy's
//     own (see Policy.Challenge).
//
// The stack checks no userid of its own: refusing reserved userids (such
// as "system.Everyone") is each policy's work, as policy.JWT does.
package multiauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/pyramid-go/jwtauth/policy"
)

// Named is one policy of a stack and the name that reports it
// (Identity.Policy, Config.OnSelected).
type Named struct {
	// Name names the policy: not empty, without spaces, unique within
	// the stack (the settings' multiauth.policies lists such names).
	Name string
	// Policy is the policy.
	Policy policy.AuthenticationPolicy
}

// Config configures a stack of policies.
type Config struct {
	// Policies is the stack, asked in this order (multiauth.policies).
	// It must hold at least one policy.
	Policies []Named
	// GroupFinder is the stack's own callback, asked after each policy's
	// own: it is called, in stack order, with each policy's authenticated
	// userid, the request and that policy's verified claims
	// (Identity.SharedClaims: not a copy, so it must not change them; nil
	// for a policy without claims), until it accepts one. A user whose
	// claims do not decode in full is rejected without asking it. nil means no callback: the first authenticated
	// userid is the stack's, and its principals are the policies' union as
	// it is (see the package doc). It is asked about every userid the
	// policies authenticate, reserved ones included.
	GroupFinder policy.GroupFinder
	// OnSelected, when set, is pyramid_multiauth's MultiAuthPolicySelected
	// event: it is called with the name of each policy whose authenticated
	// userid the stack considers, in stack order, before the GroupFinder
	// is asked about that userid (or rejects it unasked, for claims that
	// do not decode in full). Without a GroupFinder it is called once,
	// for the policy chosen; with one, also for each policy whose user the
	// finder then rejects (the last call names the policy chosen when the
	// finder accepts a user, and none is chosen when it rejects them all).
	// It is called each time the stack works out an identity: once per
	// request under policy.Authenticate with the stack, and on every
	// method call without it. It must not call the stack's methods on r.
	OnSelected func(r *http.Request, name, userid string)
	// Observer is told of the requests the stack authenticates or refuses
	// under policy.Authenticate with the stack, once per request, with the
	// name of the policy that decided (see policy.Observer); the policies
	// of the stack report their other events to their own observers, and
	// not their identities, which the stack's stand for. Default nil.
	Observer *policy.Observer
}

// Policy is a stack of policies, itself an AuthenticationPolicy and a
// policy.Identifier. It is safe for concurrent use when its policies and
// callbacks are. The zero Policy is an empty stack, which authenticates
// nobody; New refuses to build one.
type Policy struct {
	policies   []Named
	finder     policy.GroupFinder
	onSelected func(r *http.Request, name, userid string)
	observer   *policy.Observer
}

var (
	_ policy.AuthenticationPolicy = (*Policy)(nil)
	_ policy.Identifier           = (*Policy)(nil)
	_ policy.Stack                = (*Policy)(nil)
	_ policy.Observable           = (*Policy)(nil)
)

// New checks cfg and builds the stack. Its errors are *policy.ConfigError
// naming the setting "policies" (an empty stack, a nil policy, an empty
// name, one with spaces, or a name given twice), or
// "policy.NAME.reserved_principal_prefixes" (with the Prefix "multiauth.")
// for a policy NAME that does not reserve policy.ScopePrefix in a stack
// where a policy's scopes are principals.
//
// That last check: the principals of the stack are the union of its
// policies', so a userid "scope:root" of one policy would be the scope
// root of another's in every ACL. When a policy of the stack (or of a
// stack it holds) has a method ScopePrincipals() bool that answers true,
// as policy.JWT and policy.Cookie have, every policy with a method
// ReservedPrincipalPrefixes() policy.ReservedPrefixes (policy.JWT,
// policy.Cookie, basic.Policy) must reserve policy.ScopePrefix. A policy
// of one's own without that method is not checked: it must refuse such
// userids itself.
func New(cfg Config) (*Policy, error) {
	if len(cfg.Policies) == 0 {
		return nil, configErr("an empty stack authenticates nobody")
	}
	seen := make(map[string]bool, len(cfg.Policies))
	for i, n := range cfg.Policies {
		switch {
		case n.Name == "":
			return nil, configErr("policy %d has no name", i)
		case strings.ContainsFunc(n.Name, unicode.IsSpace):
			return nil, configErr("policy name %q holds a space", n.Name)
		case seen[n.Name]:
			return nil, configErr("policy name %q is given twice", n.Name)
		case n.Policy == nil || isNilPointer(n.Policy):
			return nil, configErr("policy %q is nil", n.Name)
		}
		seen[n.Name] = true
	}
	if err := checkScopesReserved(cfg.Policies); err != nil {
		return nil, err
	}
	return &Policy{policies: slices.Clone(cfg.Policies), finder: cfg.GroupFinder, onSelected: cfg.OnSelected, observer: cfg.Observer}, nil
}

// Observer returns the stack's observer (Config.Observer).
func (p *Policy) Observer() *policy.Observer { return p.observer }

// checkScopesReserved refuses a stack where one policy's scopes are
// principals and another policy (or the same) does not reserve
// policy.ScopePrefix (see New).
func checkScopesReserved(policies []Named) error {
	scoped := slices.IndexFunc(policies, func(n Named) bool { return hasScopePrincipals(n.Policy) })
	if scoped < 0 {
		return nil
	}
	for _, n := range policies {
		if !reservesScopes(n.Policy) {
			return &policy.ConfigError{
				Key:    "policy." + n.Name + ".reserved_principal_prefixes",
				Err:    fmt.Errorf("must reserve %s: the scopes of the policy %q are principals of the stack, and a userid %sx of this policy would be the scope x in every ACL", policy.ScopePrefix, policies[scoped].Name, policy.ScopePrefix),
				Prefix: "multiauth.",
			}
		}
	}
	return nil
}

// hasScopePrincipals tells whether p, or a policy of the stack p is,
// makes scopes principals.
func hasScopePrincipals(p policy.AuthenticationPolicy) bool {
	if s, ok := p.(policy.Stack); ok {
		return slices.ContainsFunc(s.Stacked(), hasScopePrincipals)
	}
	sp, ok := p.(interface{ ScopePrincipals() bool })
	return ok && sp.ScopePrincipals()
}

// reservesScopes tells whether p, and every policy of the stack p is,
// reserves policy.ScopePrefix, or cannot tell (no method
// ReservedPrincipalPrefixes).
func reservesScopes(p policy.AuthenticationPolicy) bool {
	if s, ok := p.(policy.Stack); ok {
		for _, inner := range s.Stacked() {
			if !reservesScopes(inner) {
				return false
			}
		}
		return true
	}
	rp, ok := p.(interface {
		ReservedPrincipalPrefixes() policy.ReservedPrefixes
	})
	if !ok {
		return true
	}
	_, reserved := rp.ReservedPrincipalPrefixes().Of(policy.ScopePrefix)
	return reserved
}

func configErr(format string, args ...any) error {
	return &policy.ConfigError{Key: "policies", Err: fmt.Errorf(format, args...), Prefix: "multiauth."}
}

// Policies returns the stack's policies, in order.
func (p *Policy) Policies() []Named { return slices.Clone(p.policies) }

// Stacked returns the stack's policies, in order, for policy.Authenticate
// (policy.Stack), which gives each of them its place for the request's
// identity.
func (p *Policy) Stacked() []policy.AuthenticationPolicy {
	out := make([]policy.AuthenticationPolicy, len(p.policies))
	for i, n := range p.policies {
		out[i] = n.Policy
	}
	return out
}

// Identify works out r's identity with the stack in one pass: it takes
// r's identity with each policy (policy.IdentityOf: under Authenticate
// with the stack, worked out once per request for the stack, the policy's
// own methods and its challenge alike), then chooses as the package doc
// says. The identity of a chosen policy keeps that policy's verified
// claims (Identity.Claims, policy.ClaimsFrom).
func (p *Policy) Identify(r *http.Request) policy.Identity {
	ids := make([]policy.Identity, len(p.policies))
	for i, n := range p.policies {
		ids[i] = policy.IdentityOf(r, n.Policy)
	}
	return p.combine(r, ids)
}

// combine is the stack's answer from each policy's identity.
func (p *Policy) combine(r *http.Request, ids []policy.Identity) policy.Identity {
	chosen := -1
	var groups []string
	rejected := make([]bool, len(ids)) // by the policy or the stack's finder
	for i, id := range ids {
		if id.Err != nil {
			rejected[i] = errors.Is(id.Err, policy.ErrUserRejected)
			continue
		}
		if p.onSelected != nil {
			p.onSelected(r, p.policies[i].Name, id.UserID)
		}
		if p.finder == nil {
			chosen = i
			break
		}
		// The claims as the policies' own finders get them (shared, not
		// copied); claims that do not decode reject the user, so that the
		// finder never takes them for no claims.
		claims, err := id.SharedClaims()
		if err != nil {
			rejected[i] = true
			continue
		}
		g, ok := p.finder(id.UserID, r, claims)
		if ok {
			chosen, groups = i, g
			break
		}
		rejected[i] = true
	}

	var out policy.Identity
	if chosen >= 0 {
		out = ids[chosen] // with its claims
		out.Err = nil
		out.Policy = p.policies[chosen].Name
	} else {
		out.Err = policy.ErrNoCredentials
		if i := slices.IndexFunc(ids, func(id policy.Identity) bool { return errors.Is(id.Err, policy.ErrInvalidCredentials) }); i >= 0 {
			out.Err, out.Policy = ids[i].Err, p.policies[i].Name
		} else if i := slices.Index(rejected, true); i >= 0 {
			out.Err, out.Policy = ids[i].Err, p.policies[i].Name
			if !errors.Is(out.Err, policy.ErrUserRejected) {
				out.Err = policy.ErrUserRejected // by the stack's finder
			}
		}
	}
	out.Claimed, out.HasClaim = "", false
	for _, id := range ids {
		if id.HasClaim {
			out.Claimed, out.HasClaim = id.Claimed, true
			break
		}
	}
	out.Principals = p.principals(ids, chosen, groups)
	return out
}

// principals is the stack's effective principals, de-duplicated, in the
// order [userid, Everyone, Authenticated, the policies' principals in
// stack order, groups...], each present only as the package doc says.
func (p *Policy) principals(ids []policy.Identity, chosen int, groups []string) []string {
	var union []string
	for _, id := range ids {
		for _, pr := range id.Principals {
			if pr != policy.Everyone && !(p.finder != nil && pr == policy.Authenticated) {
				union = append(union, pr)
			}
		}
	}
	out := make([]string, 0, 3+len(union)+len(groups))
	seen := make(map[string]bool, cap(out))
	add := func(pr string) {
		if !seen[pr] {
			seen[pr] = true
			out = append(out, pr)
		}
	}
	accepted := chosen >= 0 && p.finder != nil // the finder's user
	if chosen >= 0 && (accepted || slices.Contains(union, ids[chosen].UserID)) {
		add(ids[chosen].UserID)
	}
	add(policy.Everyone)
	if accepted || slices.Contains(union, policy.Authenticated) {
		add(policy.Authenticated)
	}
	for _, pr := range union {
		add(pr)
	}
	if accepted {
		for _, g := range groups {
			add(g)
		}
	}
	return out
}

// AuthenticatedUserID returns the userid of the policy chosen (see the
// package doc); otherwise its error matches ErrNoCredentials,
// ErrInvalidCredentials (with the failed policy's reason) or
// ErrUserRejected.
func (p *Policy) AuthenticatedUserID(r *http.Request) (string, error) {
	id := policy.IdentityOf(r, p)
	return id.UserID, id.Err
}

// UnauthenticatedUserID returns the first userid a policy of the stack
// reads from the request, verified or not.
func (p *Policy) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := policy.IdentityOf(r, p)
	return id.Claimed, id.HasClaim
}

// EffectivePrincipals returns Everyone and the policies' principals (see
// the package doc), each once, in the order [userid, Everyone,
// Authenticated, the policies' other principals in stack order, the
// stack's GroupFinder's groups], each of the first three only when it is
// in the set. As for policy.JWT, the error is set, and matches
// ErrInvalidCredentials, when no policy authenticated the request and one
// policy's credentials failed; the principals are then still the union,
// which holds those of any policy that gives principals without a user.
func (p *Policy) EffectivePrincipals(r *http.Request) ([]string, error) {
	return policy.IdentityOf(r, p).PrincipalsAnswer()
}

// Claims returns a copy of the verified claims of the policy chosen, nil
// when it has none; the error is as AuthenticatedUserID's, or matches
// ErrUserRejected when the claims do not decode in full (as the policies'
// Claims methods say).
func (p *Policy) Claims(r *http.Request) (policy.Claims, error) {
	claims, err := policy.IdentityOf(r, p).SharedClaims()
	return claims.Clone(), err
}

// Remember returns every policy's Remember headers for userid, in stack
// order: each header's values are those of the first policy, then the
// second's, and so on.
func (p *Policy) Remember(r *http.Request, userid string) http.Header {
	h := http.Header{}
	for _, n := range p.policies {
		appendHeader(h, n.Policy.Remember(r, userid), nil)
	}
	return h
}

// Forget returns every policy's Forget headers, in stack order, as
// Remember does: for policy.JWT policies, one WWW-Authenticate per scheme.
func (p *Policy) Forget(r *http.Request) http.Header {
	h := http.Header{}
	for _, n := range p.policies {
		appendHeader(h, n.Policy.Forget(r), nil)
	}
	return h
}

// appendHeader appends src's values to dst's, key by key (canonical),
// leaving out the keys of skip and values dst holds already when dedupe.
func appendHeader(dst, src http.Header, skip map[string]bool) {
	for k, vs := range src {
		k = http.CanonicalHeaderKey(k)
		if skip[k] {
			continue
		}
		for _, v := range vs {
			if skip != nil && slices.Contains(dst[k], v) {
				continue
			}
			dst[k] = append(dst[k], v)
		}
	}
}

// Middleware is policy.Authenticate(p): it gives each request one
// identity with the stack, so that each policy identifies it once however
// many handlers ask.
func (p *Policy) Middleware(next http.Handler) http.Handler { return policy.Authenticate(p)(next) }

// Close closes every policy of the stack that has a Close() error method
// (policy.JWT stops its key sets and cache), and returns their errors
// joined.
func (p *Policy) Close() error {
	var errs []error
	for _, n := range p.policies {
		if c, ok := n.Policy.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("multiauth: closing policy %q: %w", n.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// challengeSkip are the headers of a policy's challenge that describe its
// body or caching, which the stack's own answer sets.
var challengeSkip = map[string]bool{
	"Content-Type":     true,
	"Content-Length":   true,
	"Content-Encoding": true,
	"Cache-Control":    true,
}

// Challenge answers the request with every policy's challenge: each
// policy's Challenge is run on an in-memory response, and its headers
// (WWW-Authenticate, and any others, such as the cookies a Forget
// clears) are added to w in stack order, a value given twice once. So the
// client sees one WWW-Authenticate per policy that challenges (RFC 7235
// section 4.1), the failed policy's with its attributes (for policy.JWT,
// RFC 6750's error="invalid_token" and error_description).
//
// The status is 503, with the policy's Retry-After and body, when a
// policy could not check the credentials presented (policy.JWT with a
// revocation store that cannot be reached); 400 when every policy whose
// credentials the request presented answered 400 (for policy.JWT, a
// malformed Authorization header), and 401 otherwise: a malformed header beside credentials that
// failed or a user rejected is not the whole story. The body is JSON: when
// exactly one policy's credentials failed, that policy's JSON body (for
// policy.JWT, its error and error_description), otherwise
// {"error":"invalid_request"} for a 400 and {"error":"unauthorized"} for a
// 401.
//
// Each policy answers its challenge from its own identity of the request:
// under Authenticate with the stack, the one the stack chose from.
func (p *Policy) Challenge(w http.ResponseWriter, r *http.Request) {
	presented, malformed := 0, 0
	var failed []*recorder
	var unavailable *recorder // a policy that could not check its credentials (503)
	for _, n := range p.policies {
		ri := policy.WithIdentity(r, n.Policy)
		id := policy.IdentityOf(ri, n.Policy)
		rec := newRecorder()
		n.Policy.Challenge(rec, ri)
		rec.finish()
		appendHeader(w.Header(), rec.sent, challengeSkip)
		if errors.Is(id.Err, policy.ErrNoCredentials) {
			continue
		}
		presented++
		if rec.status == http.StatusBadRequest {
			malformed++
		}
		if rec.status == http.StatusServiceUnavailable && unavailable == nil {
			unavailable = rec
		}
		if errors.Is(id.Err, policy.ErrInvalidCredentials) {
			failed = append(failed, rec)
		}
	}
	status, body := http.StatusUnauthorized, []byte(`{"error":"unauthorized"}`+"\n")
	if presented > 0 && malformed == presented {
		status, body = http.StatusBadRequest, []byte(`{"error":"invalid_request"}`+"\n")
	}
	if len(failed) == 1 && !failed[0].overflow && json.Valid(failed[0].body.Bytes()) {
		body = failed[0].body.Bytes()
	}
	if unavailable != nil {
		// Credentials that may be good, which a store could not check:
		// the client is to try again, not to drop them.
		status, body = http.StatusServiceUnavailable, unavailable.body.Bytes()
		w.Header().Set("Retry-After", unavailable.sent.Get("Retry-After"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// maxChallengeBody bounds the body of a policy's challenge the stack
// keeps.
const maxChallengeBody = 64 << 10

// recorder is the in-memory http.ResponseWriter a policy's challenge is
// written to: its headers as they were when the status was written, the
// status and the body (up to maxChallengeBody).
type recorder struct {
	header   http.Header
	sent     http.Header // header, as written with the status
	status   int
	body     bytes.Buffer
	overflow bool
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

// Header returns the headers to be written.
func (rec *recorder) Header() http.Header { return rec.header }

// WriteHeader records the status and the headers, the first time only.
func (rec *recorder) WriteHeader(status int) {
	if rec.sent != nil {
		return
	}
	rec.status = status
	rec.sent = rec.header.Clone()
}

// Write records the body, writing the status 200 first if none was.
func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	if room := maxChallengeBody - rec.body.Len(); len(b) > room {
		rec.body.Write(b[:room])
		rec.overflow = true
		return len(b), nil
	}
	return rec.body.Write(b)
}

// finish writes the status 200 if the challenge wrote nothing, as
// net/http does for a handler that returns.
func (rec *recorder) finish() { rec.WriteHeader(http.StatusOK) }

// isNilPointer tells a policy that is a nil pointer in a non-nil
// interface, which would panic on the first request.
func isNilPointer(p policy.AuthenticationPolicy) bool {
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
