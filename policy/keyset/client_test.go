package keyset_test

import (
	"crypto/x509"
	"errors"
	"testing"

	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// A key set built in code with the application's own client: the test
// provider's certificate is signed by a CA that only its client trusts, so
// the default client fails against it, and the set built with that client
// fetches and verifies.
func TestCustomClient(t *testing.T) {
	a := ecSigner(0, "key-a")
	idp := newProvider(t, true, a)
	var log logBuffer

	o := options(idp, &log, newClock())
	o.Client = nil // the default client
	o.RequiredAtStart = true
	for name, build := range map[string]func() (*keyset.Set, error){
		"url":  func() (*keyset.Set, error) { return keyset.NewURL(idp.srv.URL+"/jwks", "", o) },
		"oidc": func() (*keyset.Set, error) { return keyset.NewOIDC(idp.issuer, o) },
	} {
		s, err := build()
		if err == nil {
			s.Close()
			t.Fatalf("%s: the default client fetched from a server whose CA it does not trust", name)
		}
		if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
			t.Errorf("%s: %v, want the unknown authority", name, err)
		}
	}
	if n := idp.jwksHits.Load(); n != 0 {
		t.Fatalf("%d key set requests got through without TLS", n)
	}

	o.Client = idp.srv.Client()
	url := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
	oidc := must(t)(keyset.NewOIDC(idp.issuer, o))
	mustAccept(t, newPolicy(t, url), a.token(t, claimsFor(""), nil), "through the URL")
	mustAccept(t, newPolicy(t, oidc), a.token(t, claimsFor(idp.issuer), nil), "through discovery")
}
