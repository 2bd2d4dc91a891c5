package chiadapter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
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
	// RFC 6750's `WWW-Authenticate: <scheme> error="insufficient_scope"`. Both
	// handlers can read the decision with DecisionOf.
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
		r, id, p := g.identity(r)
		switch {
		case id.Err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(id.Err, policy.ErrUserRejected):
			g.forbidden(w, r, p)
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
			r, id, p := g.identity(r)
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
				g.forbidden(w, r, p)
			default:
				g.unauthorized(w, r, p)
			}
		})
	}
}

// identity returns r's identity with the guard's policy, r carrying it
// for the handlers below, and the policy (nil when there is none).
func (g *Guard) identity(r *http.Request) (*http.Request, policy.Identity, policy.AuthenticationPolicy) {
	if g.Policy == nil {
		p, ok := policy.PolicyFrom(r.Context())
		if !ok {
			// Misconfigured: nothing can authenticate this request.
			// Treat it as anonymous, and say so in the log.
			g.logger().ErrorContext(r.Context(), "chiadapter: a Guard without a Policy, and no Authenticate middleware above it")
		}
		return r, policy.IdentityOf(r, nil), p
	}
	r = policy.WithIdentity(r, g.Policy)
	return r, policy.IdentityOf(r, g.Policy), g.Policy
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

func (g *Guard) forbidden(w http.ResponseWriter, r *http.Request, p policy.AuthenticationPolicy) {
	if g.Forbidden != nil {
		g.Forbidden.ServeHTTP(w, r)
		return
	}
	// RFC 6750's answer to valid credentials that are not enough, in the
	// scheme of each of the policy's token challenges (Basic has none).
	if p != nil {
		for _, challenge := range p.Forget(r).Values("WWW-Authenticate") {
			if scheme, _, _ := strings.Cut(challenge, " "); scheme != "" && !strings.EqualFold(scheme, "Basic") {
				w.Header().Add("WWW-Authenticate", scheme+` error="insufficient_scope"`)
			}
		}
	}
	writeError(w, http.StatusForbidden, "forbidden")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
