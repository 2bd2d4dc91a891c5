package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// opaqueSigner hides the concrete key type, as an HSM's signer does.
type opaqueSigner struct{ k *ecdsa.PrivateKey }

func (o opaqueSigner) Public() crypto.PublicKey { return o.k.Public() }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

func TestProverProofsVerify(t *testing.T) {
	keys(t)
	all := []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256", "PS512"}
	for _, tc := range []struct {
		key     crypto.Signer
		alg     string
		wantAlg string
	}{
		{ecKey, "", "ES256"}, {ec384Key, "", "ES384"}, {ec521Key, "", "ES512"}, {edKey, "", "EdDSA"},
		{rsaKey, "", "PS256"}, {rsaKey, "RS256", "RS256"}, {rsaKey, "PS512", "PS512"},
		{opaqueSigner{ecKey}, "", "ES256"},
	} {
		t.Run(tc.wantAlg, func(t *testing.T) {
			c := newClock(t0)
			v := newTestVerifier(t, Config{Algorithms: all, Now: c.Now})
			p, err := NewProver(tc.key, tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			p.Now = c.Now
			if p.Algorithm() != tc.wantAlg {
				t.Fatalf("alg %s", p.Algorithm())
			}
			want, _ := Thumbprint(tc.key.Public())
			if p.Thumbprint() != want {
				t.Fatal("thumbprint")
			}
			r := httptest.NewRequest(http.MethodPost, "https://API.example.com:443/items/%7e1?page=2#top", nil)
			if err := p.Attach(r, testToken, ""); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Authorization"); got != "DPoP "+testToken {
				t.Fatalf("Authorization %q", got)
			}
			proof, err := v.Verify(context.Background(), r, testToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.CheckBinding(p.Thumbprint()); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(proof.URI, "?#") || proof.Method != http.MethodPost || len(proof.JTI) != 22 {
				t.Fatalf("proof %+v", proof)
			}
			// Each Attach is a fresh proof: another jti.
			if err := p.Attach(r, testToken, ""); err != nil {
				t.Fatal(err)
			}
			if again, err := v.Verify(context.Background(), r, testToken); err != nil || again.JTI == proof.JTI {
				t.Fatalf("second proof: %v", err)
			}
		})
	}
}

func TestProverNonceAndNoToken(t *testing.T) {
	keys(t)
	c := newClock(t0)
	s, _ := NewNonceSource(nonceSecret, 0, c.Now)
	v := newTestVerifier(t, Config{Now: c.Now, Nonces: s})
	p, err := NewProver(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	p.Now = c.Now
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/token", nil)
	if err := p.Attach(r, "", ""); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), r, "")
	wantReason(t, err, ErrUseNonce)
	if err := p.Attach(r, "", s.Current()); err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Authorization") != "" {
		t.Fatal("Authorization set without a token")
	}
	if _, err := v.Verify(context.Background(), r, ""); err != nil {
		t.Fatal(err)
	}
	// The proof says ath only with a token: presented later with one, it
	// fails.
	if err := p.Attach(r, "", s.Current()); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), r, testToken)
	wantReason(t, err, ErrMissingClaim)
}

func TestProverHostOverride(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	p, _ := NewProver(ecKey, "")
	p.Now = func() time.Time { return t0 }
	r, _ := http.NewRequest("", "https://10.0.0.1/resource", nil)
	r.Host = "api.example.com"
	if err := p.Attach(r, testToken, ""); err != nil {
		t.Fatal(err)
	}
	// As the server sees it: Host api.example.com.
	in := httptest.NewRequest(http.MethodGet, testURI, nil)
	in.Header = r.Header
	if _, err := v.Verify(context.Background(), in, testToken); err != nil {
		t.Fatal(err)
	}
}

func TestProverErrors(t *testing.T) {
	keys(t)
	for _, tc := range []struct {
		key crypto.Signer
		alg string
	}{
		{nil, ""}, {ecKey, "none"}, {ecKey, "HS256"}, {ecKey, "RS256"}, {ecKey, "ES384"},
		{rsaWeak, ""}, {rsaKey, "ES256"}, {edKey, "PS256"},
	} {
		if _, err := NewProver(tc.key, tc.alg); !errors.Is(err, ErrConfig) {
			t.Errorf("%T %q: error %v", tc.key, tc.alg, err)
		}
	}
	p, _ := NewProver(ecKey, "")
	if _, err := p.Proof("GET", "/relative", "", ""); err == nil {
		t.Error("a relative URI: no error")
	}
	if err := p.Attach(&http.Request{Method: "GET"}, "", ""); err == nil {
		t.Error("no URL: no error")
	}
}

// TestProverProofShape reads a Prover's proof with go-jose: the header
// and claims RFC 9449 section 4.2 asks for.
func TestProverProofShape(t *testing.T) {
	keys(t)
	p, _ := NewProver(ecKey, "")
	p.Now = func() time.Time { return t0 }
	raw, err := p.Proof("GET", "https://api.example.com/a?b#c", testToken, "n1")
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header %+v", h)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"htm":"GET"`, `"htu":"https://api.example.com/a"`, `"iat":1700000000`, `"nonce":"n1"`, `"ath":"` + AccessTokenHash(testToken) + `"`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("payload %s lacks %s", payload, want)
		}
	}
}
