package chiadapter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/policy"
)

// Guard lets requests through by their authentication and permissions.
// Its zero Authorizer, Unauthorized, Forbidden and Logger are defaults.
type Guard struct {
	// Policy authenticates and challenges the requests the guard sees
	// (with the identity an Authenticate of this policy above keeps, or
	// one the guard keeps for the handlers below); nil means the policy of
	// the nearest Authenticate above.
	Policy policy.AuthenticationPolicy
	// Authorizer decides permissions; nil means authorizer.ACLAuthorizer.
	Authorizer authorizer.Authorizer
	// Unauthorized answers a request without valid credentials; nil means
	// the policy's Challenge.
	Unauthorized http.Handler
	// Forbidden answers a request whose valid credentials are not enough
	// (Pyramid's forbidden view); nil means 403 with a JSON error and
	// RFC 6750's `WWW-Authenticate: <scheme> error="insufficient_scope"` for
	// the scheme of each policy (of a stack, each policy it holds) with a
	// method Scheme() string, as policy.JWT has, but Basic; and, for a user
	// the CSRF rule rejected (policy.ErrCrossOrigin),
	// policy.WriteCrossOriginRefusal's answer. Both handlers can read the
	// decision with DecisionOf.
	//
	// When that policy's scopes are principals (a method
	// ScopePrincipals() bool that answers true, as policy.JWT's does with
	// policy.Config.ScopePrincipals), a permission refused by Require to
	// an authenticated user adds `scope="a b"`. RFC 6750 section 3 defines
	// it as the scope "necessary to access the requested resource"; the
	// guard lists the alternatives, each of which alone would grant this
	// permission to this user, short of any all-powerful scope: the
	// principals that start with policy.ScopePrefix among those the
	// Authorizer's PrincipalsAllowedByPermission finds on the resource
	// (authorizer.ACLAuthorizer's, when it has such a method), without the
	// prefix, sorted, keeping only a scope the user does not hold and with
	// which the Authorizer's Permits, given the user's principals and that
	// scope, allows the permission (so that a Deny of one of the user's
	// other principals, anywhere in the lineage, is honoured), and never a
	// scope that an Allow of the resource's lineage grants
	// authorizer.AllPermissions (a hint must not send a client to ask for
	// everything). A name that is no scope token by policy.IsScopeToken is
	// left out. The attribute is left out when no scope would grant the
	// permission, for a user the group finder rejected
	// (policy.ErrUserRejected), and for Authenticated's refusals.
	Forbidden http.Handler
	// Debug logs every decision with its sentence, as Pyramid's
	// debug_authorization setting does (jwtauth.debug_authorization).
	Debug bool
	// Logger receives the debug log; nil means slog.Default().
	Logger *slog.Logger
}

type decisionKey struct{}

// DecisionOf returns the decision a guard made for r, for the handler that
// answers it; ok is false when no permission was checked.
func DecisionOf(r *http.Request) (d authorizer.Decision, ok bool) {
	d, ok = r.Context().Value(decisionKey{}).(authorizer.Decision)
	return d, ok
}

// Authenticated lets through only requests of an authenticated user: no
// or failed credentials are answered by Unauthorized, a user rejected by
// the group finder by Forbidden.
func (g *Guard) Authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, id, p, ok := g.identity(w, r)
		switch {
		case !ok:
		case id.Err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(id.Err, policy.ErrUserRejected):
			g.forbidden(w, r, p, id, "")
		default:
			g.unauthorized(w, r, p)
		}
	})
}

// Require returns middleware that lets through only requests holding
// permission on their context resource (set by Context or StaticACL above;
// with none, every request is denied by default). A request whose
// credentials failed is refused whatever the ACL says; its decision, made
// for [Everyone], is still logged and given to the Unauthorized handler.
func (g *Guard) Require(permission string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w, r, id, p, ok := g.identity(w, r)
			if !ok {
				return
			}
			d := g.authorizer().Permits(Resource(r), id.Principals, permission)
			if g.Debug {
				g.logger().InfoContext(r.Context(), "jwtauth: authorization", "decision", d.String(), "method", r.Method, "path", r.URL.Path)
			}
			r = r.WithContext(context.WithValue(r.Context(), decisionKey{}, d))
			switch {
			case errors.Is(id.Err, policy.ErrInvalidCredentials):
				g.unauthorized(w, r, p)
			case d.Allowed:
				next.ServeHTTP(w, r)
			case id.Err == nil || errors.Is(id.Err, policy.ErrUserRejected):
				// Valid credentials, not enough.
				g.forbidden(w, r, p, id, permission)
			default:
				g.unauthorized(w, r, p)
			}
		})
	}
}

// identity returns r's identity with the guard's policy, the response and
// r carrying it for the handlers below, and the policy (nil when there is
// none). A guard given its own policy admits the request with it, as
// Authenticate would (policy.Admit): ok is false when an Admitter answered
// it (the CSRF refusal of a cookie or Basic policy).
func (g *Guard) identity(w http.ResponseWriter, r *http.Request) (_ http.ResponseWriter, _ *http.Request, _ policy.Identity, _ policy.AuthenticationPolicy, ok bool) {
	if g.Policy == nil {
		p, ok := policy.PolicyFrom(r.Context())
		if !ok {
			// Misconfigured: nothing can authenticate this request.
			// Treat it as anonymous, and say so in the log.
			g.logger().ErrorContext(r.Context(), "chiadapter: a Guard without a Policy, and no Authenticate middleware above it")
		}
		return w, r, policy.IdentityOf(r, nil), p, true
	}
	w, r, ok = policy.Admit(w, r, g.Policy)
	if !ok {
		return w, r, policy.Identity{}, g.Policy, false
	}
	return w, r, policy.IdentityOf(r, g.Policy), g.Policy, true
}

func (g *Guard) authorizer() authorizer.Authorizer {
	if g.Authorizer == nil {
		return authorizer.ACLAuthorizer{}
	}
	return g.Authorizer
}

func (g *Guard) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}

func (g *Guard) unauthorized(w http.ResponseWriter, r *http.Request, p policy.AuthenticationPolicy) {
	switch {
	case g.Unauthorized != nil:
		g.Unauthorized.ServeHTTP(w, r)
	case p == nil:
		writeError(w, http.StatusUnauthorized, "unauthorized")
	default:
		p.Challenge(w, r)
	}
}

// forbidden answers valid credentials that are not enough: for want of
// permission on r's resource (Require), or of an accepted user
// (Authenticated, permission "").
func (g *Guard) forbidden(w http.ResponseWriter, r *http.Request, p policy.AuthenticationPolicy, id policy.Identity, permission string) {
	switch {
	case g.Forbidden != nil:
		g.Forbidden.ServeHTTP(w, r)
		return
	case errors.Is(id.Err, policy.ErrCrossOrigin):
		policy.WriteCrossOriginRefusal(w)
		return
	}
	// RFC 6750's answer to valid credentials that are not enough, in the
	// scheme of each of the policy's token challenges (Basic has none),
	// with the scopes that would do for a policy whose scopes are
	// principals.
	var scope string // the scope attribute, worked out once
	var scoped bool
	for _, c := range tokenSchemes(p, nil) {
		challenge := c.scheme + ` error="insufficient_scope"`
		if c.algs != "" {
			challenge = c.scheme + ` algs="` + c.algs + `", error="insufficient_scope"`
		}
		if c.scopes && permission != "" {
			if !scoped {
				scope, scoped = g.scopeAttribute(r, id, permission), true
			}
			challenge += scope
		}
		w.Header().Add("WWW-Authenticate", challenge)
	}
	writeError(w, http.StatusForbidden, "forbidden")
}

// scopeAttribute is the auth-param `, scope="a b"` of the scopes that
// would each grant permission on r's resource to id (see Guard.Forbidden),
// or "" when none would, id is no authenticated user, or the authorizer
// cannot tell.
func (g *Guard) scopeAttribute(r *http.Request, id policy.Identity, permission string) string {
	if id.Err != nil {
		return "" // a user rejected: no scope makes them welcome
	}
	az := g.authorizer()
	pa, ok := az.(interface {
		PrincipalsAllowedByPermission(context authorizer.Resource, permission string) []string
	})
	if !ok {
		return ""
	}
	resource := Resource(r)
	allPowerful := allPowerfulScopes(resource)
	var scopes []string
	for _, principal := range pa.PrincipalsAllowedByPermission(resource, permission) {
		// A scope token holds no space, '"' or '\': each is safe inside
		// the quoted string, and the list is unambiguous.
		name, ok := strings.CutPrefix(principal, policy.ScopePrefix)
		if !ok || !policy.IsScopeToken(name) || allPowerful[principal] || slices.Contains(id.Principals, principal) {
			continue
		}
		with := append(slices.Clip(id.Principals), principal)
		if az.Permits(resource, with, permission).Allowed {
			scopes = append(scopes, name)
		}
	}
	if len(scopes) == 0 {
		return ""
	}
	slices.Sort(scopes)
	return `, scope="` + strings.Join(slices.Compact(scopes), " ") + `"`
}

// allPowerfulScopes are the scope principals that an Allow in an ACL of
// resource's lineage grants authorizer.AllPermissions, wherever it stands
// in its ACL.
func allPowerfulScopes(resource authorizer.Resource) map[string]bool {
	out := map[string]bool{}
	for _, location := range authorizer.Lineage(resource) {
		acl, ok := location.ACL()
		if !ok {
			continue
		}
		for _, ace := range acl {
			if ace.Action == authorizer.Allow && ace.Permissions.IsAll() && strings.HasPrefix(ace.Principal, policy.ScopePrefix) {
				out[ace.Principal] = true
			}
		}
	}
	return out
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// tokenScheme is one scheme a policy challenges with for tokens, and
// whether the scopes of its tokens are principals; algs are the DPoP
// scheme's algorithms.
type tokenScheme struct {
	scheme string
	scopes bool
	algs   string
}

// tokenSchemes appends to out the Authorization schemes that p and the
// policies it stacks challenge with for tokens: the Scheme() of each that
// has one (policy.JWT), but Basic, which RFC 6750's attributes are not
// for, and DPoP for a policy that reads DPoP-bound tokens (with its algs,
// from DPoPAlgorithms()); each once, its scopes principals when they are for any policy of
// that scheme (ScopePrincipals() true). It asks nothing of the request, so
// that no policy's Forget (which may sign a user out) is called to answer
// a 403.
func tokenSchemes(p policy.AuthenticationPolicy, out []tokenScheme) []tokenScheme {
	if s, ok := p.(policy.Stack); ok {
		for _, inner := range s.Stacked() {
			out = tokenSchemes(inner, out)
		}
		return out
	}
	s, ok := p.(interface{ Scheme() string })
	if !ok || s.Scheme() == "" || strings.EqualFold(s.Scheme(), "Basic") {
		return out
	}
	sp, _ := p.(interface{ ScopePrincipals() bool })
	scopes := sp != nil && sp.ScopePrincipals()
	out = addTokenScheme(out, tokenScheme{scheme: s.Scheme(), scopes: scopes})
	if d, ok := p.(interface{ DPoPAlgorithms() string }); ok && d.DPoPAlgorithms() != "" {
		out = addTokenScheme(out, tokenScheme{scheme: policy.DPoPScheme, scopes: scopes, algs: d.DPoPAlgorithms()})
	}
	return out
}

// addTokenScheme appends c to out, or, when out has its scheme already,
// merges their scopes.
func addTokenScheme(out []tokenScheme, c tokenScheme) []tokenScheme {
	if i := slices.IndexFunc(out, func(t tokenScheme) bool { return strings.EqualFold(t.scheme, c.scheme) }); i >= 0 {
		out[i].scopes = out[i].scopes || c.scopes
		return out
	}
	return append(out, c)
}
