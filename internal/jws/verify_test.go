package jws

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestVerifyBackstops calls Verify with what its callers refuse first (a
// key checked by CheckKey or policy's checkKey, an alg the key set picked):
// each must be refused for its own reason, as an ErrSignature, and never
// panic. The tokens are go-jose's (one signed again with crypto/hmac, as
// go-jose refuses the short secret); without the check at stake each would
// verify (the short secret, the lying alg), panic (the Ed25519 key) or fail
// for another reason (the curve).
func TestVerifyBackstops(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	secret32 := []byte("0123456789abcdef0123456789abcdef")
	secret16 := secret32[:16]
	payload := `{"sub":"alice"}`

	for _, tc := range []struct {
		name string
		raw  string // a compact JWS, minted by go-jose
		algs []jose.SignatureAlgorithm
		key  any
		alg  string // the key's
		want error
	}{
		{
			name: "ES256 with a P-384 key",
			raw:  sign(t, jose.ES256, p256, nil),
			algs: []jose.SignatureAlgorithm{jose.ES256},
			key:  &p384.PublicKey, alg: "ES256", want: errWrongCurve,
		},
		{
			// go-jose refuses to sign with a 16-byte secret: its token is
			// signed again with crypto/hmac, which a Verify without the
			// length check would accept.
			name: "HS256 with a 16-byte secret",
			raw:  resignHMAC(sign(t, jose.HS256, secret32, nil), sha256.New, secret16),
			algs: []jose.SignatureAlgorithm{jose.HS256},
			key:  secret16, alg: "HS256", want: errShortSecret,
		},
		{
			// ed25519.Verify panics on a key of another length.
			name: "EdDSA with a 31-byte key",
			raw:  sign(t, jose.EdDSA, edPriv, nil),
			algs: []jose.SignatureAlgorithm{jose.EdDSA},
			key:  edPub[:31], alg: "EdDSA", want: errEd25519KeySize,
		},
		{
			// An HS256 signature under a header that says HS512: a Verify
			// that did not hold the header to the key's alg would check it
			// as HS256, and accept it.
			name: "a header alg that is not the key's",
			raw:  signWithAlgHeader(t, jose.HS256, secret32, "HS512"),
			algs: []jose.SignatureAlgorithm{jose.HS256, jose.HS512},
			key:  secret32, alg: "HS256", want: errAlgMismatch,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, _, err := Parse(tc.raw, tc.algs, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p, err := verifyNoPanic(parsed, tc.raw, tc.key, tc.alg)
			if err == nil {
				t.Fatalf("Verify accepted it: payload %q", p)
			}
			if !errors.Is(err, ErrSignature) || !errors.Is(err, tc.want) {
				t.Errorf("Verify: %v; want an ErrSignature for %q", err, tc.want)
			}
		})
	}
	// The same keys and tokens verify once the key fits.
	for _, c := range []struct {
		raw  string
		algs []jose.SignatureAlgorithm
		key  any
		alg  string
	}{
		{sign(t, jose.ES256, p256, nil), []jose.SignatureAlgorithm{jose.ES256}, &p256.PublicKey, "ES256"},
		{sign(t, jose.HS256, secret32, nil), []jose.SignatureAlgorithm{jose.HS256}, secret32, "HS256"},
		{sign(t, jose.EdDSA, edPriv, nil), []jose.SignatureAlgorithm{jose.EdDSA}, edPub, "EdDSA"},
	} {
		parsed, _, err := Parse(c.raw, c.algs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := verifyNoPanic(parsed, c.raw, c.key, c.alg); err != nil || string(p) != payload {
			t.Errorf("%s: %q, %v", c.alg, p, err)
		}
	}
}

// verifyNoPanic is Verify, with a panic as an error.
func verifyNoPanic(jws *jose.JSONWebSignature, raw string, key any, alg string) (p []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("Verify panicked: %v", r)
		}
	}()
	return Verify(jws, raw, key, alg)
}

// resignHMAC replaces the signature of raw, a compact JWS, by the HMAC of
// its signing input with secret.
func resignHMAC(raw string, h func() hash.Hash, secret []byte) string {
	input := raw[:strings.LastIndexByte(raw, '.')]
	mac := hmac.New(h, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// signWithAlgHeader signs {"sub":"alice"} with alg and key, under a
// protected header whose alg says header instead.
func signWithAlgHeader(t *testing.T, alg jose.SignatureAlgorithm, key any, header string) string {
	t.Helper()
	return sign(t, alg, key, map[jose.HeaderKey]any{"alg": header})
}

// TestMAC verifies go-jose's HS256 and HS512 tokens with one MAC each,
// from several goroutines at once, among tokens of another secret and
// tokens whose header names the other algorithm: every token gets the
// verdict a fresh hmac.New would give, so a keyed hash reused without its
// reset, or handed to two verifications at once, or kept across
// algorithms, shows.
func TestMAC(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210")
	type tok struct {
		raw  string
		alg  string // the MAC's
		good bool
	}
	var toks []tok
	for i := range 16 {
		kid := map[jose.HeaderKey]any{"kid": fmt.Sprint(i)}
		toks = append(toks,
			tok{sign(t, jose.HS256, secret[:32], kid), "HS256", true},
			tok{sign(t, jose.HS256, other[:32], kid), "HS256", false},
			tok{sign(t, jose.HS512, secret, kid), "HS512", true},
			tok{sign(t, jose.HS512, other, kid), "HS512", false},
		)
	}
	macs := map[string]*MAC{"HS256": NewMAC("HS256", secret[:32]), "HS512": NewMAC("HS512", secret)}
	algs := []jose.SignatureAlgorithm{jose.HS256, jose.HS512}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for round := range 50 {
				for _, tk := range toks {
					parsed, _, err := Parse(tk.raw, algs, nil)
					if err != nil {
						errs <- err
						return
					}
					_, err = Verify(parsed, tk.raw, macs[tk.alg], tk.alg)
					if (err == nil) != tk.good {
						errs <- fmt.Errorf("round %d, %s token (good %v): %v", round, tk.alg, tk.good, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// A MAC holds to its algorithm and to the length of its secret.
	raw := sign(t, jose.HS512, secret, nil)
	parsed, _, err := Parse(raw, algs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(parsed, raw, macs["HS256"], "HS512"); !errors.Is(err, errAlgMismatch) {
		t.Errorf("an HS256 MAC for an HS512 token: %v, want %v", err, errAlgMismatch)
	}
	if _, err := Verify(parsed, raw, NewMAC("HS512", secret[:32]), "HS512"); !errors.Is(err, errShortSecret) {
		t.Errorf("an HS512 MAC of 32 bytes: %v, want %v", err, errShortSecret)
	}
}
