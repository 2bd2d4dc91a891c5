package keyset_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// TestDuplicateKidAsGoJoseReadsIt: a JWK spelling "KID" beside "kid" must
// not hide that two keys share a kid; the kid that counts is go-jose's.
func TestDuplicateKidAsGoJoseReadsIt(t *testing.T) {
	jwk := func(kid string) string {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a := jwk("a")
	b := strings.Replace(jwk("a"), `"kid":"a"`, `"kid":"a","KID":"b"`, 1)
	c := jwk("c")
	kids, err := keyset.KidsOf([]byte(`{"keys":[`+a+`,`+b+`,`+c+`]}`), []string{"ES256"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kids, []string{"c"}) {
		t.Fatalf("kept kids %q; want only c (both keys of kid a skipped)", kids)
	}
}
