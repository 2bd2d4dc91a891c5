package dpop

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzVerifyProof feeds the proof parser and every check hostile input:
// it must never panic, and answer each input with a proof or an error
// matching ErrInvalidProof whose text holds nothing of the input. The seed
// corpus (valid proofs and their breakages) runs in go test.
func FuzzVerifyProof(f *testing.F) {
	keys(f)
	good := mint(f, spec{})
	f.Add(good, testURI)
	f.Add(mint(f, spec{alg: "EdDSA", key: edKey}), testURI)
	f.Add(mint(f, spec{alg: "RS256", key: rsaKey}), "HTTPS://api.example.com:443/resource?x")
	f.Add(mint(f, spec{jwk: jwkMap(f, ecKey)}), testURI)
	f.Add(mint(f, spec{header: map[string]any{"crit": []string{"x"}}}), testURI)
	f.Add(mint(f, spec{raw: []byte(`{"jti":"a","jti":"b"}`)}), testURI)
	f.Add(strings.Replace(good, ".", "..", 1), testURI)
	f.Add(good[:len(good)/2], "https://[::1]/a/../b")
	f.Add(`{"payload":"e30","signatures":[]}`, testURI)
	f.Add("", "")
	v := newTestVerifier(f, Config{})
	f.Fuzz(func(t *testing.T, proof, uri string) {
		p, err := v.VerifyProof(context.Background(), proof, http.MethodGet, uri, testToken)
		if err == nil {
			if p.Thumbprint == "" || !p.Key.IsPublic() {
				t.Fatalf("accepted without a public key: %+v", p)
			}
			return
		}
		if !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("error %v does not match ErrInvalidProof", err)
		}
		if len(proof) >= 16 && strings.Contains(err.Error(), proof) {
			t.Fatalf("error %q holds the proof", err)
		}
	})
}

// FuzzNormalizeURI: NormalizeURI never panics, and is idempotent on what
// it accepts.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{testURI, "HTTPS://A:443", "http://a/%7e/./../b?c#d", "https://[::1]:08/%zz", "http://a b/", "https://a/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeURI(s)
		if err != nil {
			return
		}
		again, err := NormalizeURI(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeURI(%q) = %q, then %q, %v", s, n, again, err)
		}
	})
}

// FuzzForwarded: the Forwarded parser never panics on any header.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=a;proto=https, for="[::1]:80";host="x\"y"`, `for="`, "a=b,,", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseForwarded([]string{s})
	})
}
