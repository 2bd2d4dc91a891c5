package keyset_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// okpJWK is a public Ed25519 JWK of x, written by hand: go-jose would not
// marshal some of the keys tested. Without alg when alg is "".
func okpJWK(kid, alg string, x []byte) json.RawMessage {
	m := map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "x": base64.RawURLEncoding.EncodeToString(x)}
	if alg != "" {
		m["alg"] = alg
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Ed25519 keys that verify forged signatures (small order, in every
// encoding) or nothing (no point of the curve) are skipped from a key set,
// from a file as from a URL, and logged by kid without their material; the
// sound keys of the set still verify. (go-jose's JWK reader refuses the
// small-order encodings itself; the keys off the curve reach the policy's
// own check.)
func TestUnsafeEd25519KeysSkipped(t *testing.T) {
	good := edSigner(0, "good")
	goodJWK, err := good.jwk().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	set := []json.RawMessage{goodJWK}
	var bad []string
	var material []string
	for i, e := range testkit.SmallOrderEd25519(t) {
		kid := fmt.Sprintf("small-%d", i)
		set = append(set, okpJWK(kid, "EdDSA", e.Bytes))
		bad = append(bad, kid)
		material = append(material, base64.RawURLEncoding.EncodeToString(e.Bytes))
	}
	off := testkit.NotOnCurveEd25519(t)
	set = append(set, okpJWK("off-curve", "EdDSA", off), okpJWK("off-curve-noalg", "", off))
	bad = append(bad, "off-curve", "off-curve-noalg")
	material = append(material, base64.RawURLEncoding.EncodeToString(off))
	body, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		t.Fatal(err)
	}
	algs := []string{"EdDSA", "ES256"}

	keys, _, err := keyset.ParseJWKS(body, algs, false)
	if kept := keyIDs(keys); err != nil || !slices.Equal(kept, []string{"good"}) {
		t.Fatalf("kept %q (%v), want only the sound key", kept, err)
	}

	// The forged token names the identity's kid (small-0) and is signed
	// R = identity, S = 0.
	claims, err := json.Marshal(claimsFor(""))
	if err != nil {
		t.Fatal(err)
	}
	forged := testkit.ForgedEdDSA(`{"alg":"EdDSA","typ":"JWT","kid":"small-0"}`, string(claims))

	check := func(t *testing.T, s *keyset.Set, log *logBuffer) {
		t.Helper()
		if got := kids(t, s); !slices.Equal(got, []string{"good/EdDSA"}) {
			t.Errorf("keys %q, want only good/EdDSA", got)
		}
		skipped := log.records("key skipped")
		for _, kid := range bad {
			if !slices.ContainsFunc(skipped, func(r map[string]any) bool { return r["kid"] == kid }) {
				t.Errorf("no log of the skipped key %q:\n%s", kid, log.String())
			}
		}
		text := log.String()
		for _, m := range material {
			if strings.Contains(text, m) {
				t.Errorf("the log holds a key's x %q", m)
			}
		}
		p := newPolicy(t, s)
		mustAccept(t, p, good.token(t, claimsFor(""), nil), "the sound key")
		mustRefuse(t, p, forged, policy.ErrNoKey, "the forged token under the identity's kid")
	}

	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		var log logBuffer
		o := options(nil, &log, nil)
		o.Algorithms = algs
		s := must(t)(keyset.NewFile(path, "", o))
		t.Cleanup(func() { s.Close() })
		check(t, s, &log)
	})
	t.Run("url", func(t *testing.T) {
		idp := newProvider(t, true)
		idp.set("raw", body)
		var log logBuffer
		o := options(idp, &log, newClock())
		o.Algorithms = algs
		s := must(t)(keyset.NewURL(idp.srv.URL+"/jwks", "", o))
		t.Cleanup(func() { s.Close() })
		check(t, s, &log)
	})
}
