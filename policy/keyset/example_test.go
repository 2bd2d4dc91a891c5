package keyset_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// exampleProvider is an OpenID Connect provider over TLS with one signing
// key, under each of tenants' issuers (<url>/<tenant>), or at its root
// when tenants is empty; sign makes its tokens.
func exampleProvider(tenants ...string) (srv *httptest.Server, sign func(iss string) string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	mux := http.NewServeMux()
	if len(tenants) == 0 {
		tenants = []string{""}
	}
	for _, t := range tenants {
		prefix := ""
		if t != "" {
			prefix = "/" + t
		}
		mux.HandleFunc(prefix+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			iss := "https://" + r.Host + prefix
			json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": iss + "/keys"})
		})
		mux.HandleFunc(prefix+"/keys", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(jwks) })
	}
	srv = httptest.NewTLSServer(mux)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		panic(err)
	}
	return srv, func(iss string) string {
		tok, err := jwt.Signed(signer).Claims(map[string]any{"sub": "alice", "iss": iss, "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
		if err != nil {
			panic(err)
		}
		return tok
	}
}

func ExampleNewOIDC() {
	srv, sign := exampleProvider()
	defer srv.Close()
	issuer := srv.URL

	// The provider's certificate is signed by a CA that only srv.Client()
	// trusts: a private CA, as an application's own client would trust
	// (or a proxy, or a client certificate for mTLS).
	set, err := keyset.NewOIDC(issuer, keyset.Options{
		Client:          srv.Client(),
		Refresh:         time.Hour,
		MinRefresh:      time.Minute,
		RequiredAtStart: true,
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, Schemes: []string{"Bearer"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close() // closes the set too

	r := httptest.NewRequest("GET", "/", nil)
	policy.SetAuthorization(r, "Bearer", sign(issuer))
	fmt.Println(p.AuthenticatedUserID(r))
	policy.SetAuthorization(r, "Bearer", sign("https://elsewhere.example"))
	_, err = p.AuthenticatedUserID(r)
	fmt.Println(err)
	// Output:
	// alice <nil>
	// jwtauth: invalid credentials: issuer not accepted
}

func ExampleNewTenantResolver() {
	srv, sign := exampleProvider("contoso", "fabrikam")
	defer srv.Close()

	r, err := keyset.NewTenantResolver(srv.URL+"/{tenant}", []string{"contoso", "fabrikam"}, keyset.ResolverOptions{
		Options:    keyset.Options{Client: srv.Client(), Logger: slog.New(slog.DiscardHandler)},
		MaxIssuers: 1000,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := policy.NewJWT(policy.Config{IssuerResolver: r, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	// woodgrove is a tenant of the provider, but not one of the
	// application's: its token is refused without a fetch.
	for _, tenant := range []string{"contoso", "fabrikam", "woodgrove"} {
		t := p.Verifier().Verify(context.Background(), sign(srv.URL+"/"+tenant))
		fmt.Println(tenant, t.UserID, t.Err)
	}
	// Output:
	// contoso alice <nil>
	// fabrikam alice <nil>
	// woodgrove alice jwtauth: invalid credentials: issuer not accepted: keyset: issuer refused: not an issuer the resolver accepts
}

func ExampleNewResolver() {
	srv, sign := exampleProvider("contoso", "fabrikam", "woodgrove")
	defer srv.Close()

	// The application's tenants, held in memory; they sign up while it
	// runs.
	var tenants sync.Map
	tenants.Store("contoso", true)

	opts := keyset.Options{Client: srv.Client(), RequiredAtStart: true, Logger: slog.New(slog.DiscardHandler)}
	prefix := srv.URL + "/"
	r, err := keyset.NewResolver(
		// A token's iss is not verified yet: anyone can write any URL
		// there. Accept only the exact issuer of a tenant of ours, without
		// I/O, before anything is fetched.
		func(iss string) bool {
			tenant, ok := strings.CutPrefix(iss, prefix)
			if !ok {
				return false
			}
			_, ours := tenants.Load(tenant)
			return ours
		},
		// A new set on each call: the resolver owns it, and closes it.
		// NewOIDC's fetch ends within opts.Timeout, as ctx does.
		func(ctx context.Context, iss string) (policy.KeySet, error) {
			return keyset.NewOIDC(iss, opts)
		},
		keyset.ResolverOptions{Options: opts},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := policy.NewJWT(policy.Config{IssuerResolver: r, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close() // closes the resolver, and the sets it holds

	tenants.Store("fabrikam", true) // signs up
	// woodgrove is a tenant of the provider, but not one of the
	// application's, and ../contoso is no tenant: both are refused
	// without a fetch.
	for _, tenant := range []string{"contoso", "fabrikam", "woodgrove", "../contoso"} {
		t := p.Verifier().Verify(context.Background(), sign(prefix+tenant))
		fmt.Println(tenant, t.Err)
	}
	// Output:
	// contoso <nil>
	// fabrikam <nil>
	// woodgrove jwtauth: invalid credentials: issuer not accepted: keyset: issuer refused: not an issuer the resolver accepts
	// ../contoso jwtauth: invalid credentials: issuer not accepted: keyset: issuer refused: not an issuer the resolver accepts
}
