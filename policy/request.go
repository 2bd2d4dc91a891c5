package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/pyramid-go/jwtauth/internal/authheader"
)

// outcome is one request's authentication, worked out at most once: the
// token stage on first use, the group finder only when a method needs it.
type outcome struct {
	header    []string // the Authorization values it was worked out for
	tokenOnce sync.Once
	present   bool    // a token (or an unreadable header) of our scheme came
	verdict   verdict // the token's verification

	groupsOnce sync.Once
	groups     []string
	accepted   bool
}

// requestMemo keeps each request's outcome while the *http.Request lives,
// so that a handler asking several questions of one request verifies its
// token once even without Middleware.
type requestMemo struct{ m sync.Map } // weak.Pointer[http.Request] -> *outcome

func (m *requestMemo) get(r *http.Request) *outcome {
	k := weak.Make(r)
	if o, ok := m.m.Load(k); ok {
		return o.(*outcome)
	}
	o, loaded := m.m.LoadOrStore(k, new(outcome))
	if !loaded {
		runtime.AddCleanup(r, func(k weak.Pointer[http.Request]) { m.m.Delete(k) }, k)
	}
	return o.(*outcome)
}

// stateKey is the context key of Middleware's outcomes, one per policy.
type stateKey struct{ p *JWT }

// Middleware keeps the request's authentication outcome in its context, so
// that the token is verified once per request however many handlers and
// middlewares below ask, even through requests copied with WithContext.
// Verification happens lazily, on the first question.
func (p *JWT) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctx := p.WithState(r.Context()); ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// WithState returns ctx holding a place for a request's authentication
// outcome, as Middleware puts in the request's context (ctx itself when it
// holds one already). A middleware that makes its own context, as the chi
// adapter does, calls it to spare a second copy of the request.
func (p *JWT) WithState(ctx context.Context) context.Context {
	if _, ok := ctx.Value(stateKey{p}).(*outcome); ok {
		return ctx
	}
	return &stateContext{Context: ctx, p: p}
}

// stateContext is the context WithState returns: its parent, and the place
// for one request's outcome with one policy, in a single allocation.
type stateContext struct {
	context.Context
	p *JWT
	o outcome
}

// Value returns the outcome for the policy's key, and asks the parent
// about any other.
func (c *stateContext) Value(key any) any {
	if k, ok := key.(stateKey); ok && k.p == c.p {
		return &c.o
	}
	return c.Context.Value(key)
}

// String names the context as context.WithValue's would, by types only:
// fmt and slog must never print the outcome, which holds the token.
func (c *stateContext) String() string {
	return contextName(c.Context) + ".WithValue(policy.stateKey, *policy.outcome)"
}

// GoString is String, so that %#v prints no field either.
func (c *stateContext) GoString() string { return c.String() }

// contextName is a context's String, or its type when it has none.
func contextName(c context.Context) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return reflect.TypeOf(c).String()
}

// state returns r's outcome with its token stage done. An outcome worked
// out for other Authorization headers (a handler changed them, or built a
// request on this one's context) is not reused: the request is verified
// afresh.
func (p *JWT) state(r *http.Request) *outcome {
	o, ok := r.Context().Value(stateKey{p}).(*outcome)
	if !ok {
		o = p.memo.get(r)
	}
	// The header's values are read from the map directly: its key is
	// canonical, as Header.Values would make it.
	o.tokenOnce.Do(func() {
		o.header = r.Header["Authorization"]
		p.readToken(r, o)
	})
	if !slices.Equal(o.header, r.Header["Authorization"]) {
		o = &outcome{header: r.Header["Authorization"]}
		o.tokenOnce.Do(func() { p.readToken(r, o) })
	}
	return o
}

// readToken is the token stage: find the token in the Authorization header
// and verify it. A failure is logged with its reason and the client's
// address, never the token.
func (p *JWT) readToken(r *http.Request, o *outcome) {
	v, looked, ok := p.knownToken(r)
	if ok {
		o.verdict, o.present = v, true
		return
	}
	token, found, err := p.tokenOf(r)
	switch {
	case !found:
		o.verdict.err = ErrNoCredentials
		return
	case errors.Is(err, authheader.ErrTooLarge):
		o.verdict.err = invalid(ErrTokenTooLarge, nil)
	case err != nil:
		o.verdict.err = invalid(ErrMalformedHeader, err)
	default:
		o.verdict = p.verify(r.Context(), token, token != looked)
	}
	o.present = true
	if o.verdict.err != nil {
		var ite *InvalidTokenError
		errors.As(o.verdict.err, &ite)
		p.cfg.Logger.Info("jwtauth: invalid credentials", "reason", ite.Reason.Error(), "remote", r.RemoteAddr)
		if ite.Cause != nil {
			// The cause (a parser's message, a key set's failure) may
			// quote a fragment of the token's header or claims, never
			// its signature: Debug only.
			p.cfg.Logger.Debug("jwtauth: invalid credentials", "reason", ite.Reason.Error(), "cause", ite.Cause.Error(), "remote", r.RemoteAddr)
		}
	}
}

// knownToken is the verified-token cache's fast path: a request whose one
// Authorization header carries, in a plain form ("<scheme> <jwt>" or
// "<scheme> token=<jwt>"), a token that verified before is answered
// without reading the header's syntax. It answers what the full path
// would: every cached token is a compact JWS, for which
// authheader.Candidate's contract says that Token reads the same token
// from the header; and the header is held to the same bound. looked is the
// candidate it looked up and missed, which the full path need not look up
// again.
func (p *JWT) knownToken(r *http.Request) (v verdict, looked string, ok bool) {
	values := r.Header["Authorization"]
	if p.cache == nil || len(values) != 1 || len(values[0]) > p.headerLimit() {
		return verdict{}, "", false
	}
	token, ok := authheader.Candidate(values[0], p.cfg.Scheme)
	if !ok {
		return verdict{}, "", false
	}
	v, ok = p.cached(token, p.keysVersion())
	return v, token, ok
}

// headerLimit bounds the whole Authorization header, loosely, before it
// is read; the token itself is bounded by max_token_bytes in verify.
func (p *JWT) headerLimit() int { return 2*p.cfg.MaxTokenBytes + 256 }

// tokenOf finds the request's token for the policy's scheme. found is false
// when no Authorization header uses the scheme; more than one header when
// one of them does is malformed, since readers could disagree on which
// counts. The whole header is bounded (headerLimit) before it is read.
func (p *JWT) tokenOf(r *http.Request) (token string, found bool, err error) {
	values := r.Header["Authorization"]
	limit := p.headerLimit()
	for _, v := range values {
		t, ours, err := authheader.Token(v, p.cfg.Scheme, limit)
		if !ours {
			continue
		}
		if len(values) > 1 {
			return "", true, errors.New("more than one Authorization header")
		}
		return t, true, err
	}
	return "", false, nil
}

// groupsOf runs the group finder once for r's verified userid; a userid
// with a reserved prefix (a system principal, a group) is never passed to
// it and authenticates nobody.
func (p *JWT) groupsOf(r *http.Request, o *outcome) ([]string, bool) {
	o.groupsOnce.Do(func() {
		if prefix, reserved := p.reservedPrefix(o.verdict.claimed); reserved {
			p.cfg.Logger.Info("jwtauth: user rejected", "reason", "the userid starts with a reserved principal prefix", "prefix", prefix, "remote", r.RemoteAddr)
			return
		}
		if p.acceptAll {
			o.accepted = true // the default finder, which needs no claims
			return
		}
		o.groups, o.accepted = p.cfg.GroupFinder(o.verdict.claimed, r, o.verdict.claims.get())
	})
	return o.groups, o.accepted
}

// AuthenticatedUserID returns the userid of a token that verified and whose
// user the group finder accepted. Otherwise its error matches
// ErrNoCredentials, ErrInvalidCredentials (with the reason) or
// ErrUserRejected.
func (p *JWT) AuthenticatedUserID(r *http.Request) (string, error) {
	o := p.state(r)
	if o.verdict.err != nil {
		return "", o.verdict.err
	}
	if _, ok := p.groupsOf(r, o); !ok {
		return "", ErrUserRejected
	}
	return o.verdict.claimed, nil
}

// UnauthenticatedUserID returns the userid the token claims, without
// verifying it: even a token whose signature or times fail still names its
// user, as in pyramid_jwtauth, as long as it decodes.
func (p *JWT) UnauthenticatedUserID(r *http.Request) (string, bool) {
	o := p.state(r)
	return o.verdict.claimed, o.verdict.hasClaim
}

// EffectivePrincipals returns [userid, Everyone, Authenticated, groups...]
// for an authenticated user and [Everyone] otherwise; the error is set, and
// matches ErrInvalidCredentials, when a presented token failed.
func (p *JWT) EffectivePrincipals(r *http.Request) ([]string, error) {
	o := p.state(r)
	if o.verdict.err != nil {
		if o.present {
			return []string{Everyone}, o.verdict.err
		}
		return []string{Everyone}, nil
	}
	groups, ok := p.groupsOf(r, o)
	if !ok {
		return []string{Everyone}, nil
	}
	return slices.Concat([]string{o.verdict.claimed, Everyone, Authenticated}, groups), nil
}

// Identity is everything the policy found of a request, asked at once.
type Identity struct {
	// UserID is the authenticated userid; meaningful when Err is nil.
	UserID string
	// Principals are the effective principals, as EffectivePrincipals.
	Principals []string
	// Err is nil for an authenticated user, or matches one of
	// ErrNoCredentials, ErrInvalidCredentials and ErrUserRejected.
	Err error

	claims *claimSet // of the token this identity was found for
}

// Claims returns a copy of the verified claims of the token this identity
// was found for, decoded when first asked for: nil when the token failed,
// present for a user the group finder rejected.
func (i Identity) Claims() Claims { return i.claims.get().Clone() }

// Identify answers AuthenticatedUserID and EffectivePrincipals in one
// pass, for a caller that keeps the answer for the request (as the chi
// adapter does). Like every method, it verifies the token once per
// request. Its claims are decoded only if its Claims method is called.
func (p *JWT) Identify(r *http.Request) Identity {
	o := p.state(r)
	id := Identity{Err: o.verdict.err, claims: o.verdict.claims}
	if o.verdict.err != nil {
		id.Principals = []string{Everyone}
		return id
	}
	groups, accepted := p.groupsOf(r, o)
	if !accepted {
		id.Principals, id.Err = []string{Everyone}, ErrUserRejected
		return id
	}
	id.UserID = o.verdict.claimed
	id.Principals = append(append(make([]string, 0, 3+len(groups)), o.verdict.claimed, Everyone, Authenticated), groups...)
	return id
}

// Claims returns a copy of the request's verified claims (a deep one: the
// caller may change it); the error is as AuthenticatedUserID's, but the
// group finder is not asked: a userid with a reserved prefix is
// ErrUserRejected, with no claims.
func (p *JWT) Claims(r *http.Request) (Claims, error) {
	o := p.state(r)
	if o.verdict.err != nil {
		return nil, o.verdict.err
	}
	if _, reserved := p.reservedPrefix(o.verdict.claimed); reserved {
		return nil, ErrUserRejected
	}
	return o.verdict.claims.get().Clone(), nil
}

// UnverifiedClaims returns the claims of the request's token whatever its
// verification found, for display and debugging only: nothing in them is
// to be trusted. ok is false when there is no token or it does not decode.
func (p *JWT) UnverifiedClaims(r *http.Request) (claims Claims, ok bool) {
	token, found, err := p.tokenOf(r)
	if !found || err != nil || len(token) > p.cfg.MaxTokenBytes {
		return nil, false
	}
	return unverifiedClaims(token, p.algs)
}

// Challenge answers 401 with "WWW-Authenticate: <scheme>". When the request
// presented a token that failed, the header also carries RFC 6750's
// error="invalid_token" and a short error_description (the reason, nothing
// from the token); an unreadable Authorization header of the policy's
// scheme is answered 400 with error="invalid_request". The body is JSON
// with the same error and description.
func (p *JWT) Challenge(w http.ResponseWriter, r *http.Request) {
	o := p.state(r)
	status, code, desc := http.StatusUnauthorized, "", ""
	var ite *InvalidTokenError
	if o.present && errors.As(o.verdict.err, &ite) {
		code, desc = "invalid_token", ite.Reason.Error()
		if ite.Reason == ErrMalformedHeader {
			status, code = http.StatusBadRequest, "invalid_request"
		}
	}
	for k, v := range p.Forget(r) {
		w.Header()[k] = v
	}
	body := map[string]string{"error": "unauthorized"}
	if code != "" {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("%s error=%q, error_description=%q", p.cfg.Scheme, code, desc))
		body = map[string]string{"error": code, "error_description": desc}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
