package bench

import (
	"context"
	"crypto"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v3"
	"github.com/auth0/go-jwt-middleware/v3/validator"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-chi/chi/v5"
	chijwtauth "github.com/go-chi/jwtauth/v5"
	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	golangjwt "github.com/golang-jwt/jwt/v5"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// path is the one route every contender's router serves: GET it with an
// Authorization: Bearer header, get 200 and the userid as the body.
const path = "/me"

// contender builds a chi router whose GET /me authenticates the request and
// answers the userid, the way the contender's documentation wires it. An
// algorithm a contender does not support makes it return nil.
type contender struct {
	name   string
	router func(k *keyset) (http.Handler, error)
}

var contenders = []contender{
	{"jwtauth", ours},
	{"jwtauth-go-chi", goChiJWTAuth},
	{"auth0", auth0},
	{"golang-jwt", golangJWT},
	{"go-jose", goJOSE},
	{"go-oidc", goOIDC},
	{"none", noAuth},
}

// ours is this project as its README tells users to use it: the policy,
// chiadapter.Authenticate on the router, a Guard on the route, and
// policy.UserIDFrom in the handler. The scheme is Bearer, as the peers'.
func ours(k *keyset) (http.Handler, error) { return oursWith(k, nil) }

// oursWith is ours with the policy's configuration changed by mod (nil:
// unchanged).
func oursWith(k *keyset, mod func(*policy.Config)) (http.Handler, error) {
	_, h, err := oursPolicy(k, mod)
	return h, err
}

// oursPolicy is oursWith that returns the policy too.
func oursPolicy(k *keyset, mod func(*policy.Config)) (*policy.JWT, http.Handler, error) {
	cfg := policy.Config{
		Algorithm: k.alg,
		Schemes:   []string{"Bearer"},
		Audience:  []string{audience},
		Issuer:    issuer,
		Logger:    slog.New(slog.DiscardHandler),
	}
	if secret, ok := k.verify.([]byte); ok {
		cfg.MasterSecret = secret
	} else {
		cfg.PublicKey = k.verify
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := policy.NewJWT(cfg)
	if err != nil {
		return nil, nil, err
	}
	guard := &chiadapter.Guard{Policy: p}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	r.With(guard.Authenticated).Get(path, func(w http.ResponseWriter, r *http.Request) {
		userid, _ := policy.UserIDFrom(r.Context())
		io.WriteString(w, userid)
	})
	return p, r, nil
}

// goChiJWTAuth is github.com/go-chi/jwtauth/v5 as its README wires it:
// Verifier and Authenticator, and FromContext in the handler.
func goChiJWTAuth(k *keyset) (http.Handler, error) {
	var ja *chijwtauth.JWTAuth
	opts := []jwxjwt.ValidateOption{jwxjwt.WithIssuer(issuer), jwxjwt.WithAudience(audience)}
	if secret, ok := k.verify.([]byte); ok {
		ja = chijwtauth.New(k.alg, secret, nil, opts...)
	} else {
		ja = chijwtauth.New(k.alg, nil, k.verify, opts...)
	}
	r := chi.NewRouter()
	r.Use(chijwtauth.Verifier(ja), chijwtauth.Authenticator(ja))
	r.Get(path, func(w http.ResponseWriter, r *http.Request) {
		_, claims, _ := chijwtauth.FromContext(r.Context())
		sub, _ := claims["sub"].(string)
		io.WriteString(w, sub)
	})
	return r, nil
}

// auth0 is github.com/auth0/go-jwt-middleware/v3 as its README wires it:
// a validator with a key func, CheckJWT, and GetClaims in the handler.
func auth0(k *keyset) (http.Handler, error) {
	key := k.verify
	v, err := validator.New(
		validator.WithKeyFunc(func(context.Context) (any, error) { return key, nil }),
		validator.WithAlgorithm(validator.SignatureAlgorithm(k.alg)),
		validator.WithIssuer(issuer),
		validator.WithAudience(audience),
	)
	if err != nil {
		return nil, err
	}
	m, err := jwtmiddleware.New(jwtmiddleware.WithValidator(v))
	if err != nil {
		return nil, err
	}
	r := chi.NewRouter()
	r.Use(m.CheckJWT)
	r.Get(path, func(w http.ResponseWriter, r *http.Request) {
		claims, err := jwtmiddleware.GetClaims[*validator.ValidatedClaims](r.Context())
		if err != nil {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, claims.RegisteredClaims.Subject)
	})
	return r, nil
}

type subKey struct{}

// golangJWT is the bare-parser reference: github.com/golang-jwt/jwt/v5
// parsing into MapClaims behind the thinnest middleware that can use it.
func golangJWT(k *keyset) (http.Handler, error) {
	parser, keyFunc := golangJWTParser(k)
	return thinRouter(func(raw string) (string, error) {
		claims := golangjwt.MapClaims{}
		if _, err := parser.ParseWithClaims(raw, claims, keyFunc); err != nil {
			return "", err
		}
		return claims.GetSubject()
	}), nil
}

// goJOSE is the reference for what this project's mandated JOSE library
// costs alone: github.com/go-jose/go-jose/v4's jwt package parsing,
// verifying, and decoding the registered claims only (no map of all the
// claims, as golangJWT and this project build) behind the same thin
// middleware as golangJWT: the least any verifier built on go-jose does.
// It is not a peer (no ratio is taken to it).
func goJOSE(k *keyset) (http.Handler, error) {
	key := k.verify
	algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.alg)}
	expected := josejwt.Expected{Issuer: issuer, AnyAudience: josejwt.Audience{audience}}
	return thinRouter(func(raw string) (string, error) {
		tok, err := josejwt.ParseSigned(raw, algs)
		if err != nil {
			return "", err
		}
		var registered josejwt.Claims
		if err := tok.Claims(key, &registered); err != nil {
			return "", err
		}
		if registered.Expiry == nil {
			return "", errors.New("no exp")
		}
		return registered.Subject, registered.ValidateWithLeeway(expected.WithTime(time.Now()), 0)
	}), nil
}

// goOIDC is github.com/coreos/go-oidc/v3's IDTokenVerifier, the most used
// verifier built on go-jose (under Kubernetes and Dex), with a static key
// set of the one public key, the audience as its ClientID and the one
// algorithm, behind the same thin middleware as golangJWT. It has no HMAC:
// for HS256 it returns nil (skipped).
func goOIDC(k *keyset) (http.Handler, error) {
	if _, ok := k.verify.([]byte); ok {
		return nil, nil
	}
	v := oidc.NewVerifier(issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{k.verify}}, &oidc.Config{
		ClientID:             audience,
		SupportedSigningAlgs: []string{k.alg},
	})
	return thinRouter(func(raw string) (string, error) {
		tok, err := v.Verify(context.Background(), raw)
		if err != nil {
			return "", err
		}
		return tok.Subject, nil
	}), nil
}

// thinRouter is the thinnest middleware around a bare parser, on a chi
// router: verify is given the Bearer token and returns its subject, which
// the handler answers; any failure is 401.
func thinRouter(verify func(raw string) (sub string, err error)) http.Handler {
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			sub, err := verify(raw)
			if err != nil {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subKey{}, sub)))
		})
	}
	r := chi.NewRouter()
	r.Use(mw)
	r.Get(path, func(w http.ResponseWriter, r *http.Request) {
		sub, _ := r.Context().Value(subKey{}).(string)
		io.WriteString(w, sub)
	})
	return r
}

// golangJWTParser is golang-jwt configured as every contender is: one
// algorithm, the issuer and audience, exp required, iat checked.
func golangJWTParser(k *keyset) (*golangjwt.Parser, golangjwt.Keyfunc) {
	parser := golangjwt.NewParser(
		golangjwt.WithValidMethods([]string{k.alg}),
		golangjwt.WithIssuer(issuer),
		golangjwt.WithAudience(audience),
		golangjwt.WithExpirationRequired(),
		golangjwt.WithIssuedAt(),
	)
	key := k.verify
	return parser, func(*golangjwt.Token) (any, error) { return key, nil }
}

// noAuth is the harness alone: the router, the recorder and a handler that
// writes a constant, with no authentication.
func noAuth(k *keyset) (http.Handler, error) {
	r := chi.NewRouter()
	r.Get(path, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "user-0000000")
	})
	return r, nil
}
