package keyset_test

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// keyIDs are the kids of keys, in order.
func keyIDs(keys []policy.Key) []string {
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.ID)
	}
	return kids
}

// jwkText is the public JWK of s, as JSON text.
func jwkText(t *testing.T, s signer) string {
	t.Helper()
	b, err := json.Marshal(s.jwk())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Two keys with one kid are both skipped, each listed with the reason, and
// the rest of the set is kept. A JWK spelling "KID" beside "kid" must not
// hide that two keys share a kid: the kid that counts is go-jose's.
func TestDuplicateKid(t *testing.T) {
	a := jwkText(t, ecSigner(0, "a"))
	alsoA := strings.Replace(jwkText(t, ecSigner(1, "a")), `"kid":"a"`, `"kid":"a","KID":"b"`, 1)
	c := jwkText(t, rsaSigner(0, "c"))
	keys, skipped, err := keyset.ParseJWKS([]byte(`{"keys":[`+a+`,`+alsoA+`,`+c+`]}`), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if kids := keyIDs(keys); !slices.Equal(kids, []string{"c"}) {
		t.Fatalf("kept kids %q; want only c (both keys of kid a skipped)", kids)
	}
	if len(skipped) != 2 || skipped[0].KeyID != "a" || skipped[1].KeyID != "a" || !strings.Contains(skipped[0].Reason, "same kid") {
		t.Errorf("skipped %+v; want both keys of kid a, for their kid", skipped)
	}

	// A set of nothing but one kid twice has no usable key.
	if _, _, err := keyset.ParseJWKS([]byte(`{"keys":[`+a+`,`+alsoA+`]}`), nil, false); err == nil || !strings.Contains(err.Error(), "no usable key") {
		t.Errorf("a set of one kid twice: %v, want no usable key", err)
	}
}

// Every JWK's kid counts towards a duplicate, that of a JWK skipped for
// another reason too: a usable key beside an unusable one of its kid (an
// encryption key, a symmetric key, one past MaxKeys) is skipped, since a
// token of that kid may mean either.
func TestDuplicateKidOfUnusableKey(t *testing.T) {
	good := jwkText(t, ecSigner(0, "a"))
	other := jwkText(t, rsaSigner(0, "c"))
	enc := strings.Replace(jwkText(t, ecSigner(1, "a")), `"use":"sig"`, `"use":"enc"`, 1)
	oct := `{"kty":"oct","kid":"a","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`
	var filler []string
	for i := range keyset.MaxKeys - 2 {
		filler = append(filler, strings.Replace(jwkText(t, ecSigner(2, "x")), `"kid":"x"`, fmt.Sprintf(`"kid":"x%d"`, i), 1))
	}
	for name, set := range map[string]string{
		"an encryption key":  good + "," + enc + "," + other,
		"a symmetric key":    oct + "," + good + "," + other,
		"a key past MaxKeys": good + "," + other + "," + strings.Join(filler, ",") + "," + jwkText(t, ecSigner(1, "a")),
	} {
		keys, skipped, err := keyset.ParseJWKS([]byte(`{"keys":[`+set+`]}`), nil, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if slices.Contains(keyIDs(keys), "a") || !slices.Contains(keyIDs(keys), "c") {
			t.Errorf("%s: kept kids %q; want c and not a", name, keyIDs(keys))
		}
		if !slices.ContainsFunc(skipped, func(s keyset.SkippedKey) bool { return s.KeyID == "a" && strings.Contains(s.Reason, "same kid") }) {
			t.Errorf("%s: skipped %+v; want the usable key of kid a, for its kid", name, skipped)
		}
	}
}

// A provider that rotates to a set holding one kid twice: the ambiguous kid
// verifies nothing, the retired key is retired (refusing the whole new set
// would have kept it serving), and the rest of the new set serves.
func TestDuplicateKidOnRotation(t *testing.T) {
	old, dupA, dupB, next := ecSigner(0, "old"), ecSigner(1, "dup"), rsaSigner(0, "dup"), edSigner(0, "next")
	idp := newProvider(t, true, old)
	var log logBuffer
	clock := newClock()
	set := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", options(idp, &log, clock)))
	p := newPolicy(t, set)
	mustAccept(t, p, old.token(t, claimsFor(""), nil), "the old key")

	idp.serve(t, dupA, dupB, next)
	clock.advance(time.Minute)
	mustAccept(t, p, next.token(t, claimsFor(""), nil), "the new set's sound key")
	mustRefuse(t, p, old.token(t, claimsFor(""), nil), policy.ErrNoKey, "the retired key")
	mustRefuse(t, p, dupA.token(t, claimsFor(""), nil), policy.ErrNoKey, "the first key of the kid named twice")
	mustRefuse(t, p, dupB.token(t, claimsFor(""), nil), policy.ErrNoKey, "the second key of the kid named twice")
	if n := len(log.records("key skipped")); n != 2 {
		t.Errorf("%d skipped keys logged, want 2:\n%s", n, log.String())
	}
}

// What the parser never keeps: symmetric keys, private keys (unless
// allowed: then their public half), keys of other algorithms, and keys
// past MaxKeys.
func TestParseRules(t *testing.T) {
	ec := jwkText(t, ecSigner(0, "ec"))
	ps := ecSigner(1, "priv")
	priv, err := json.Marshal(jose.JSONWebKey{Key: ps.priv, KeyID: ps.kid, Algorithm: ps.alg, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	oct := `{"kty":"oct","kid":"oct","alg":"HS256","k":"-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE"}`
	body := []byte(`{"keys":[` + ec + `,` + string(priv) + `,` + oct + `]}`)

	keys, skipped, err := keyset.ParseJWKS(body, nil, false)
	if err != nil || !slices.Equal(keyIDs(keys), []string{"ec"}) || len(skipped) != 2 {
		t.Errorf("kept %q, skipped %+v (%v); want ec alone", keyIDs(keys), skipped, err)
	}
	keys, _, err = keyset.ParseJWKS(body, nil, true)
	if err != nil || !slices.Equal(keyIDs(keys), []string{"ec", "priv"}) {
		t.Fatalf("with private keys allowed: kept %q (%v)", keyIDs(keys), err)
	}
	if pub, ok := keys[1].Material.(*ecdsa.PublicKey); !ok || !pub.Equal(ps.priv.Public()) {
		t.Errorf("the private key's material is a %T, want its public half", keys[1].Material)
	}
	if _, _, err := keyset.ParseJWKS(body, []string{"RS256"}, false); err == nil {
		t.Error("a set of no RS256 key, with RS256 alone allowed: no error")
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"keys":{}}`, `null`} {
		if _, _, err := keyset.ParseJWKS([]byte(bad), nil, false); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}

	many := make([]string, keyset.MaxKeys+1)
	for i := range many {
		many[i] = oct
	}
	many[keyset.MaxKeys] = ec // past the bound
	if _, skipped, err := keyset.ParseJWKS([]byte(`{"keys":[`+strings.Join(many, ",")+`]}`), nil, false); err == nil || !strings.Contains(skipped[0].Reason, "skipped") {
		t.Errorf("the key past MaxKeys was read: %v, %+v", err, skipped[:1])
	}
}
