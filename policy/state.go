package policy

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
)

// Authenticate returns middleware that gives each request one identity
// with p: worked out once, on the first question (IdentityOf, the
// accessors below, p's own methods, a guard, the challenge), however many
// handlers ask and through requests copied with WithContext. Before the
// handler runs, it asks every Admitter among p and the policies p stacks
// (see Admit): a cookie policy refuses there a cross-origin request its
// cookie authenticates (CSRF) and slides its session. A request that
// already has p's identity above (the same middleware twice, or
// chiadapter.Authenticate, which is this one) keeps it, and each Admitter
// is asked once per request.
//
// Like http.Handle, it panics when p is nil (a nil interface or a nil
// pointer): a program built so is wrong before any request comes.
func Authenticate(p AuthenticationPolicy) func(http.Handler) http.Handler {
	if isNil(p) {
		panic("policy: Authenticate with a nil policy")
	}
	admitters, observed := admittersOf(p, nil), observerOf(p) != nil
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if w, r, ok := admit(w, r, p, admitters, observed); ok {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// An Admitter is a policy with a say on each request before its handler
// runs: Authenticate (and Admit) asks every Admitter among its policy and
// the policies that one stacks, in stack order, once per request, and
// runs the handler only when each admits the request. The cookie policy
// and the Basic policy are Admitters (their CSRF rule, CrossOriginRule),
// and so is a JWT policy with DPoP nonces (it hands out its nonce).
type Admitter interface {
	// Admit is called with the response and the request as the handler
	// would get them; root is the policy Authenticate was given (a stack
	// that holds the Admitter, or the Admitter itself), whose identity of
	// r is the request's (IdentityOf(r, root); Identity.AuthenticatedBy
	// tells whether the Admitter's credentials made it). It returns the
	// response the handler is to write to (w, or w wrapped, as the cookie
	// policy wraps it to slide a session) and true; or false when it has
	// answered the request itself: the handler is not run.
	Admit(w http.ResponseWriter, r *http.Request, root AuthenticationPolicy) (http.ResponseWriter, bool)
}

// Admit gives r its place for an identity with p, as Authenticate does,
// and asks the Admitters among p and the policies it stacks that no
// Authenticate above asked already. It returns the response and the
// request to serve, or false when an Admitter answered the request on w,
// which must then not be served. It is for a middleware that is not a
// func(http.Handler) http.Handler, such as a guard given its own policy.
func Admit(w http.ResponseWriter, r *http.Request, p AuthenticationPolicy) (http.ResponseWriter, *http.Request, bool) {
	if isNil(p) {
		panic("policy: Admit with a nil policy")
	}
	return admit(w, r, p, admittersOf(p, nil), observerOf(p) != nil)
}

// admitter is an Admitter among a policy's, and the policy it is.
type admitter struct {
	p AuthenticationPolicy
	a Admitter
}

// admit is Admit with p's Admitters found already; observed tells that p
// has an observer. A request that has no place for p yet gets one whose
// identity, once worked out, is reported to that observer: the one place
// a request's identity is reported (see Observer).
func admit(w http.ResponseWriter, r *http.Request, p AuthenticationPolicy, admitters []admitter, observed bool) (http.ResponseWriter, *http.Request, bool) {
	if stateOf(r.Context(), p) == nil {
		r = withPlace(r, p, observed)
	}
	for _, a := range admitters {
		if s := stateOf(r.Context(), a.p); s == nil || !s.admitted.CompareAndSwap(false, true) {
			continue // asked by an Authenticate above, or a second time in a stack
		}
		var ok bool
		if w, ok = a.a.Admit(w, r, p); !ok {
			return w, r, false
		}
	}
	return w, r, true
}

// admittersOf appends the Admitters among p and the policies it stacks,
// in stack order, to out.
func admittersOf(p AuthenticationPolicy, out []admitter) []admitter {
	if s, ok := p.(Stack); ok {
		for _, inner := range s.Stacked() {
			out = admittersOf(inner, out)
		}
	}
	if a, ok := p.(Admitter); ok && admitsRequests(a) {
		out = append(out, admitter{p, a})
	}
	return out
}

// admitsRequests tells whether an Admitter has a say on requests as
// configured: a *JWT only with DPoP nonces; every other Admitter, a type
// of the application's that embeds a *JWT included, has.
func admitsRequests(a Admitter) bool {
	if j, ok := a.(*JWT); ok {
		return j.admitsRequests()
	}
	return true
}

// Stack is implemented by a policy that holds other policies, as a
// multiauth stack does: Authenticate gives each of them a place for the
// request's identity too, so that the stack, the policies' own methods and
// their challenges share one working out of each.
type Stack interface {
	AuthenticationPolicy
	Stacked() []AuthenticationPolicy
}

// WithIdentity returns r carrying a place for its identity with p (and,
// for a Stack, with each policy it holds), as Authenticate's handlers see
// it (r itself when it has one already). It asks no Admitter: a request
// to be served goes through Authenticate or Admit, which refuse what an
// Admitter refuses (a cross-origin request a cookie authenticates).
func WithIdentity(r *http.Request, p AuthenticationPolicy) *http.Request {
	if isNil(p) {
		panic("policy: WithIdentity with a nil policy")
	}
	if stateOf(r.Context(), p) != nil {
		return r
	}
	return withPlace(r, p, false)
}

// withPlace is WithIdentity for a request that has no place for p yet;
// the identity of p, once worked out, is reported to p's observer when
// observed (not for the policies a stack holds, which the stack reports).
func withPlace(r *http.Request, p AuthenticationPolicy, observed bool) *http.Request {
	if s, ok := p.(Stack); ok {
		for _, inner := range s.Stacked() {
			r = WithIdentity(r, inner) // below the stack's: p stays the nearest
		}
	}
	c := &stateContext{Context: r.Context()}
	c.s.p, c.s.observed = p, observed
	c.s.outer, _ = r.Context().Value(stateKey{}).(*requestState)
	r = r.WithContext(c)
	c.s.r = r
	return r
}

// IdentityOf returns r's identity with p: the one Authenticate keeps for
// r, worked out on first use, or, when no Authenticate for p ran above,
// one worked out now. It is how policies answer their own methods. A nil p
// is the policy of the nearest Authenticate (no credentials without one).
// Its Principals are shared with every other asker: copy them before
// changing them.
//
// Policies are told apart with ==, so a policy of a type that cannot be
// compared (a struct holding a slice) finds no kept identity of its own,
// only through a nil p when it is the nearest policy (in a stack, never):
// give such a policy as a pointer.
func IdentityOf(r *http.Request, p AuthenticationPolicy) Identity {
	if s := stateOf(r.Context(), p); s != nil {
		return s.get(r)
	}
	if p == nil {
		return Identity{Principals: []string{Everyone}, Err: ErrNoCredentials}
	}
	return Identify(p, r)
}

// IdentityFrom returns the identity of the request whose context ctx is
// (or descends from), with the policy of the nearest Authenticate above
// it, for code below the HTTP layer; ok is false when no Authenticate ran.
func IdentityFrom(ctx context.Context) (id Identity, ok bool) {
	id, ok = sharedIdentityFrom(ctx)
	id.Principals = slices.Clone(id.Principals)
	return id, ok
}

// sharedIdentityFrom is IdentityFrom with the principals shared, for the
// accessors that hand out no slice of them.
func sharedIdentityFrom(ctx context.Context) (Identity, bool) {
	s, ok := ctx.Value(stateKey{}).(*requestState)
	if !ok {
		return Identity{Principals: []string{Everyone}, Err: ErrNoCredentials}, false
	}
	return s.get(nil), true
}

// PolicyFrom returns the policy of the nearest Authenticate above the
// request of ctx; ok is false when none ran.
func PolicyFrom(ctx context.Context) (p AuthenticationPolicy, ok bool) {
	s, ok := ctx.Value(stateKey{}).(*requestState)
	if !ok {
		return nil, false
	}
	return s.p, true
}

// UserIDFrom returns the authenticated userid of the request of ctx (see
// IdentityFrom); ok is false when there is none.
func UserIDFrom(ctx context.Context) (userid string, ok bool) {
	id, _ := sharedIdentityFrom(ctx)
	return id.UserID, id.Err == nil
}

// PrincipalsFrom returns the effective principals of the request of ctx
// (see IdentityFrom): [Everyone] when no Authenticate ran.
func PrincipalsFrom(ctx context.Context) []string {
	id, _ := IdentityFrom(ctx)
	return id.Principals
}

// ClaimsFrom returns a copy of the verified claims of the request of ctx
// (see IdentityFrom), or nil.
func ClaimsFrom(ctx context.Context) Claims {
	id, _ := sharedIdentityFrom(ctx)
	return id.Claims()
}

// requestState is one request's identity with one policy, worked out once.
type requestState struct {
	p     AuthenticationPolicy
	r     *http.Request // the request Authenticate passed on
	outer *requestState // the state of another policy, further up

	once sync.Once
	// observed: the identity is reported to p's observer once worked out
	// (see admit). (Beside once, in its padding: the state and its
	// context stay in one size class.)
	observed bool
	id       Identity
	// Copies of the credential headers and the method the identity was
	// worked out from, to tell a request whose headers a handler changed
	// in place, or whose method a method override changed (the CSRF rule
	// reads it).
	authorization, cookie headerValues
	method                string

	// admitted is set once the policy's Admit ran for the request.
	admitted atomic.Bool
	// signedInOrOut is set by a cookie policy's Remember and Forget, so
	// that its sliding session leaves their response alone.
	signedInOrOut atomic.Bool
	// forgetErr is why the policy's Forget could not revoke the request's
	// token, for SignOut.
	forgetErr atomic.Pointer[error]
}

// get returns the identity, worked out on first use (or, when r is nil,
// for the request Authenticate saw). The kept identity answers for the
// requests that share the headers of that request (its copies made with
// WithContext) while their Authorization and Cookie headers and their
// method are unchanged; any other request (a request made on this
// context, a Clone, headers changed in place, a method overridden) is
// worked out afresh, and nothing is kept of it. The context accessors
// (r nil) answer for the request Authenticate saw, its method included:
// a method override belongs above Authenticate.
func (s *requestState) get(r *http.Request) Identity {
	if r == nil {
		r = s.r
	}
	if !sameMap(r.Header, s.r.Header) {
		return Identify(s.p, r)
	}
	s.once.Do(func() {
		s.authorization, s.cookie = valuesOf(r.Header["Authorization"]), valuesOf(r.Header["Cookie"])
		s.method = r.Method
		s.id = Identify(s.p, r)
		if s.observed {
			observerOf(s.p).identified(s.id)
		}
	})
	if !s.authorization.equal(r.Header["Authorization"]) || !s.cookie.equal(r.Header["Cookie"]) || r.Method != s.method {
		return Identify(s.p, r)
	}
	return s.id
}

// sameMap tells whether a and b are one map (not two equal ones).
func sameMap(a, b http.Header) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// headerValues is a copy of one header's values, without an allocation
// for the usual one value or none.
type headerValues struct {
	n    int
	one  string
	more []string
}

func valuesOf(v []string) headerValues {
	switch len(v) {
	case 0:
		return headerValues{}
	case 1:
		return headerValues{n: 1, one: v[0]}
	}
	return headerValues{n: len(v), more: slices.Clone(v)}
}

// equal tells whether v holds the values copied.
func (h headerValues) equal(v []string) bool {
	switch {
	case len(v) != h.n:
		return false
	case h.n == 1:
		return v[0] == h.one
	}
	return slices.Equal(h.more, v)
}

// isNil tells a nil policy: a nil interface, or one holding a nil pointer,
// map, slice or func.
func isNil(p AuthenticationPolicy) bool {
	if p == nil {
		return true
	}
	switch v := reflect.ValueOf(p); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// stateKey is the context key of the nearest requestState.
type stateKey struct{}

// stateOf returns the state of p in ctx (the nearest one for a nil p), or
// nil.
func stateOf(ctx context.Context, p AuthenticationPolicy) *requestState {
	s, _ := ctx.Value(stateKey{}).(*requestState)
	if p == nil {
		return s
	}
	for ; s != nil; s = s.outer {
		if samePolicy(s.p, p) {
			return s
		}
	}
	return nil
}

// samePolicy tells whether a and b are one policy, without the panic of
// == on policies of a type that cannot be compared (a struct holding a
// slice is no policy that == finds again).
func samePolicy(a, b AuthenticationPolicy) (same bool) {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// stateContext is the context WithIdentity makes: its parent and the
// state, in a single allocation.
type stateContext struct {
	context.Context
	s requestState
}

// Value returns the state for stateKey, and asks the parent about any
// other key.
func (c *stateContext) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return &c.s
	}
	return c.Context.Value(key)
}

// String names the context by types only, as context.WithValue's would:
// fmt and slog must never print the state, which holds the identity and
// the request.
func (c *stateContext) String() string {
	return contextName(c.Context) + ".WithValue(policy.stateKey, *policy.requestState)"
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
