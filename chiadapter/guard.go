package chiadapter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/policy"
)

// Guard lets requests through by their authentication and permissions.
// Its zero Authorizer, Unauthorized, Forbidden and Logger are defaults.
type Guard struct {
	// Policy authenticates requests that no Authenticate middleware above
	// the guard has seen, and challenges them; nil means the policy given
	// to that Authenticate.
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
		r, s := g.state(r)
		switch {
		case s.Err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(s.Err, policy.ErrUserRejected):
			g.forbidden(w, r)
		default:
			g.unauthorized(w, r)
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
			r, s := g.state(r)
			d := g.authorizer().Permits(Resource(r), s.Principals, permission)
			if g.Debug {
				g.logger().InfoContext(r.Context(), "jwtauth: authorization", "decision", d.String(), "method", r.Method, "path", r.URL.Path)
			}
			r = r.WithContext(context.WithValue(r.Context(), decisionKey{}, d))
			switch {
			case errors.Is(s.Err, policy.ErrInvalidCredentials):
				g.unauthorized(w, r)
			case d.Allowed:
				next.ServeHTTP(w, r)
			case s.hasValidCredentials():
				g.forbidden(w, r)
			default:
				g.unauthorized(w, r)
			}
		})
	}
}

// state returns r's state, and r carrying it for the handlers below when
// no Authenticate middleware ran above the guard.
func (g *Guard) state(r *http.Request) (*http.Request, *State) {
	if s, ok := sharedState(r); ok {
		return r, s
	}
	if g.Policy == nil {
		// Misconfigured: nothing can authenticate this request. Treat it
		// as anonymous, and say so in the log.
		g.logger().ErrorContext(r.Context(), "chiadapter: a Guard without a Policy, and no Authenticate middleware above it")
		return r, &State{Principals: []string{policy.Everyone}, Err: policy.ErrNoCredentials}
	}
	r = withState(r, g.Policy)
	s, _ := sharedState(r)
	return r, s
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

func (g *Guard) unauthorized(w http.ResponseWriter, r *http.Request) {
	if g.Unauthorized != nil {
		g.Unauthorized.ServeHTTP(w, r)
		return
	}
	p := g.policy(r)
	if p == nil {
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	p.Challenge(w, r)
}

// policy is the Guard's policy, or the one Authenticate stored for r.
func (g *Guard) policy(r *http.Request) policy.AuthenticationPolicy {
	if g.Policy != nil {
		return g.Policy
	}
	return policyOf(r)
}

func (g *Guard) forbidden(w http.ResponseWriter, r *http.Request) {
	if g.Forbidden != nil {
		g.Forbidden.ServeHTTP(w, r)
		return
	}
	// RFC 6750's answer to valid credentials that are not enough.
	if p := g.policy(r); p != nil {
		if scheme := p.Forget(r).Get("WWW-Authenticate"); scheme != "" {
			w.Header().Set("WWW-Authenticate", scheme+` error="insufficient_scope"`)
		}
	}
	writeError(w, http.StatusForbidden, "forbidden")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
