package jws

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, header map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: header}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Sign([]byte(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := o.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestSteps holds each step to its kind of error, with the keys and
// tokens made by go-jose.
func TestSteps(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	algs := []jose.SignatureAlgorithm{jose.ES256, jose.PS256}

	good := sign(t, jose.ES256, ec, nil)
	parsed, sigOK, err := Parse(good, algs, nil)
	if err != nil || !sigOK {
		t.Fatalf("Parse: %v, %v", sigOK, err)
	}
	if p, err := Verify(parsed, good, &ec.PublicKey, "ES256"); err != nil || string(p) != `{"sub":"alice"}` {
		t.Fatalf("Verify: %q, %v", p, err)
	}
	if _, err := Verify(parsed, good, &other.PublicKey, "ES256"); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key: %v", err)
	}
	ps := sign(t, jose.PS256, rsaKey, nil)
	if parsed, _, err := Parse(ps, algs, nil); err != nil {
		t.Fatal(err)
	} else if _, err := Verify(parsed, ps, &rsaKey.PublicKey, "PS256"); err != nil {
		t.Fatalf("PS256: %v", err)
	}

	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name string
		raw  string
		kind error
	}{
		{"two segments", parts[0] + "." + parts[1], ErrMalformed},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		{"HS256", sign(t, jose.HS256, make([]byte, 32), nil), ErrAlgorithm},
		{"crit", sign(t, jose.ES256, ec, map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}), ErrHeader},
		{"cty JWT", sign(t, jose.ES256, ec, map[jose.HeaderKey]any{"cty": "jwt"}), ErrHeader},
		{"null member", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":null}`)) + "." + parts[1] + "." + parts[2], ErrHeader},
		{"invalid UTF-8", base64.RawURLEncoding.EncodeToString([]byte("{\"alg\":\"ES256\",\"kid\":\"\xff\"}")) + "." + parts[1] + "." + parts[2], ErrMalformed},
	} {
		if _, _, err := Parse(tc.raw, algs, nil); !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.kind)
		}
	}
	if _, sigOK, err := Parse(parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-1]+"B", algs, nil); err != nil || sigOK {
		t.Errorf("non-canonical signature: sigOK %v, %v", sigOK, err)
	}
}

func TestCheckKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	small := ed25519.PublicKey(append([]byte{1}, make([]byte, 31)...)) // the identity
	for _, tc := range []struct {
		key any
		alg string
		ok  bool
	}{
		{&ec.PublicKey, "ES256", true},
		{&ec.PublicKey, "ES384", false},
		{&ec.PublicKey, "RS256", false},
		{ed, "EdDSA", true},
		{small, "EdDSA", false},
		{&weak.PublicKey, "RS256", false},
		{make([]byte, 32), "RS256", false},
	} {
		err := CheckKey(tc.key, tc.alg)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrUnusableKey) {
			t.Errorf("%s key for %s: %v", KeyKind(tc.key), tc.alg, err)
		}
	}
}

// TestHeaderMemo interleaves a header that passes with headers that must
// not (a lone surrogate, a null crit, a duplicate alg, and invalid UTF-8
// in a header of the good one's length), round after round, through one
// memo: it answers only for the exact bytes it last passed, and never
// keeps one that failed.
func TestHeaderMemo(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	good := seg(`{"alg":"HS256","typ":"JWT"}`)
	bad := []string{
		seg(`{"alg":"HS256","kid":"\ud800"}`),
		seg(`{"alg":"HS256","crit":null}`),
		seg(`{"alg":"HS256","alg":"none"}`),
		seg("{\"alg\":\"HS256\",\"typ\":\"JW\xff\"}"),
	}
	if len(bad[3]) != len(good) {
		t.Fatalf("the last bad header has %d characters, the good one %d", len(bad[3]), len(good))
	}
	var m HeaderMemo
	for round := range 3 {
		for _, b := range bad {
			if err := m.Check(good); err != nil {
				t.Fatalf("round %d: the good header: %v", round, err)
			}
			if err := m.Check(b); err == nil {
				t.Fatalf("round %d: %q passed after the good header", round, b)
			}
			if err := m.Check(b); err == nil {
				t.Fatalf("round %d: %q passed the second time", round, b)
			}
		}
	}
}
