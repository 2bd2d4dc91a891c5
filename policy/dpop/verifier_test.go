package dpop

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// jwkMap is the JSON object of key's JWK, to edit.
func jwkMap(t testing.TB, key any) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestVerifyAcceptsEachAlgorithm(t *testing.T) {
	keys(t)
	all := []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	v := newTestVerifier(t, Config{Algorithms: all})
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
	}{
		{jose.ES256, ecKey}, {jose.ES384, ec384Key}, {jose.ES512, ec521Key}, {jose.EdDSA, edKey},
		{jose.RS256, rsaKey}, {jose.RS384, rsaKey}, {jose.RS512, rsaKey},
		{jose.PS256, rsaKey}, {jose.PS384, rsaKey}, {jose.PS512, rsaKey},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			claims := defaultClaims()
			p, err := verifyOne(t, v, mint(t, spec{alg: tc.alg, key: tc.key, claims: claims}))
			if err != nil {
				t.Fatal(err)
			}
			pub := publicJWK(tc.key)
			want, err := Thumbprint(&pub)
			if err != nil {
				t.Fatal(err)
			}
			if p.Thumbprint != want || p.Algorithm != string(tc.alg) || p.JTI != claims["jti"] ||
				p.Method != testMethod || p.URI != testURI || !p.IssuedAt.Equal(t0) || !p.Key.IsPublic() {
				t.Fatalf("proof %+v", p)
			}
			if err := p.CheckBinding(want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDefaultAlgorithms(t *testing.T) {
	v := newTestVerifier(t, Config{})
	if got := v.Algorithms(); got != "ES256 EdDSA RS256 PS256" {
		t.Fatalf("algs %q", got)
	}
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
	}{{jose.ES384, ec384Key}, {jose.RS512, rsaKey}, {jose.PS384, rsaKey}} {
		_, err := verifyOne(t, v, mint(t, spec{alg: tc.alg, key: tc.key}))
		wantReason(t, err, ErrAlgorithmNotAllowed)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Algorithms: []string{"none"}},
		{Algorithms: []string{"ES256", "HS256"}},
		{Algorithms: []string{"HS384"}},
		{Algorithms: []string{"HS512"}},
		{Algorithms: []string{"es256"}},
		{Algorithms: []string{"RSA-OAEP"}},
		{MaxAge: -time.Second},
		{Leeway: -time.Second},
		{MaxProofBytes: -1},
	} {
		if _, err := NewVerifier(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v; want ErrConfig", cfg, err)
		}
	}
}

func TestHeaderChecks(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	ec := jwkMap(t, &ecKey.PublicKey)
	rsaPub := jwkMap(t, &rsaKey.PublicKey)
	ed := jwkMap(t, edKey.Public())
	for _, tc := range []struct {
		name   string
		s      spec
		reason error
	}{
		{"typ missing", spec{header: map[string]any{"typ": nil}}, ErrWrongType},
		{"typ JWT", spec{header: map[string]any{"typ": "JWT"}}, ErrWrongType},
		{"typ at+jwt", spec{header: map[string]any{"typ": "at+jwt"}}, ErrWrongType},
		{"typ dpop", spec{header: map[string]any{"typ": "dpop"}}, ErrWrongType},
		{"typ not a string", spec{header: map[string]any{"typ": 1}}, ErrWrongType},
		{"no jwk", spec{jwk: noJWK}, ErrInvalidKey},
		{"jwk a string", spec{jwk: "key"}, ErrInvalidKey},
		{"EC jwk with d", spec{jwk: jose.JSONWebKey{Key: ecKey}}, ErrInvalidKey},
		{"EC jwk with a d member", spec{jwk: with(ec, "d", "AAAA")}, ErrInvalidKey},
		{"RSA jwk private", spec{alg: jose.RS256, key: rsaKey, jwk: jose.JSONWebKey{Key: rsaKey}}, ErrInvalidKey},
		{"RSA jwk with p", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "p", "AQAB")}, ErrInvalidKey},
		{"RSA jwk with q", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "q", "AQAB")}, ErrInvalidKey},
		{"RSA jwk with dp", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "dp", "AQAB")}, ErrInvalidKey},
		{"RSA jwk with dq", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "dq", "AQAB")}, ErrInvalidKey},
		{"RSA jwk with qi", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "qi", "AQAB")}, ErrInvalidKey},
		{"RSA jwk with oth", spec{alg: jose.RS256, key: rsaKey, jwk: with(rsaPub, "oth", []any{})}, ErrInvalidKey},
		{"OKP jwk private", spec{alg: jose.EdDSA, key: edKey, jwk: jose.JSONWebKey{Key: edKey}}, ErrInvalidKey},
		{"OKP jwk with d", spec{alg: jose.EdDSA, key: edKey, jwk: with(ed, "d", "AAAA")}, ErrInvalidKey},
		{"symmetric jwk", spec{jwk: map[string]any{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}}, ErrInvalidKey},
		{"jwk of another key", spec{jwk: publicJWK(ecOther)}, ErrInvalidSignature},
		{"RSA jwk under ES256", spec{jwk: publicJWK(rsaKey)}, ErrInvalidKey},
		{"Ed25519 jwk under ES256", spec{jwk: publicJWK(edKey)}, ErrInvalidKey},
		{"P-384 jwk under ES256", spec{jwk: publicJWK(ec384Key)}, ErrInvalidKey},
		{"EC jwk under RS256", spec{alg: jose.RS256, key: rsaKey, jwk: publicJWK(ecKey)}, ErrInvalidKey},
		{"RSA 1024", spec{alg: jose.RS256, key: rsaWeak}, ErrInvalidKey},
		{"RSA 1024 PS256", spec{alg: jose.PS256, key: rsaWeak}, ErrInvalidKey},
		{"jwk alg for another algorithm", spec{jwk: with(ec, "alg", "ES384")}, ErrInvalidKey},
		{"jwk use enc", spec{jwk: with(ec, "use", "enc")}, ErrInvalidKey},
		{"jwk key_ops without verify", spec{jwk: with(ec, "key_ops", []any{"encrypt"})}, ErrInvalidKey},
		{"jwk kty unknown", spec{jwk: map[string]any{"kty": "XYZ", "x": "AAAA"}}, ErrInvalidKey},
		{"jwk EC point off the curve", spec{jwk: with(ec, "x", ec["y"])}, ErrInvalidKey},
		// The identity point: a key of small order verifies forged
		// signatures (R = identity, S = 0), as policy's keys are checked.
		{"Ed25519 jwk of small order", spec{alg: jose.EdDSA, key: edKey, jwk: with(ed, "x", base64.RawURLEncoding.EncodeToString(append([]byte{1}, make([]byte, 31)...)))}, ErrInvalidKey},
		{"crit", spec{header: map[string]any{"crit": []string{"exp"}, "exp": 1}}, ErrMalformedProof},
		{"b64", spec{header: map[string]any{"b64": true}}, ErrMalformedProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyOne(t, v, mint(t, tc.s))
			wantReason(t, err, tc.reason)
		})
	}
}

func TestTypeAsMediaType(t *testing.T) {
	v := newTestVerifier(t, Config{})
	for _, typ := range []string{"dpop+jwt", "DPoP+JWT", "application/dpop+jwt", "Application/DPOP+jwt"} {
		if _, err := verifyOne(t, v, mint(t, spec{header: map[string]any{"typ": typ}})); err != nil {
			t.Errorf("typ %q: %v", typ, err)
		}
	}
}

func TestForbiddenAlgorithms(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	claims, _ := json.Marshal(defaultClaims())
	jwk, _ := json.Marshal(publicJWK(ecKey))
	for _, alg := range []string{"none", "None", "NONE", "", "HS256"} {
		header := `{"alg":"` + alg + `","typ":"dpop+jwt","jwk":` + string(jwk) + `}`
		_, err := verifyOne(t, v, unsigned(header, string(claims), ""))
		wantReason(t, err, ErrAlgorithmNotAllowed)
	}
	// HS256 signed by go-jose, with the secret as a symmetric jwk.
	secret := []byte("0123456789abcdef0123456789abcdef")
	hs := mint(t, spec{alg: jose.HS256, key: secret, jwk: map[string]any{"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}})
	_, err := verifyOne(t, v, hs)
	wantReason(t, err, ErrAlgorithmNotAllowed)
	hs = mint(t, spec{alg: jose.HS256, key: secret, jwk: publicJWK(ecKey)})
	_, err = verifyOne(t, v, hs)
	wantReason(t, err, ErrAlgorithmNotAllowed)
}

func TestStructure(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	good := mint(t, spec{})
	parts := strings.Split(good, ".")
	claims, _ := json.Marshal(defaultClaims())
	jwk, _ := json.Marshal(publicJWK(ecKey))
	header := `{"alg":"ES256","typ":"dpop+jwt","jwk":` + string(jwk) + `}`
	// A header and a payload whose encodings have trailing bits.
	oddHeader := strings.Split(unsigned(header, "", ""), ".")[0]
	if len(oddHeader)%4 == 0 {
		oddHeader = strings.Split(unsigned(`{"kid":"k",`+header[1:], "", ""), ".")[0]
	}
	oddPayload := strings.Split(unsigned("", string(claims), ""), ".")[1]
	if len(oddPayload)%4 == 0 {
		oddPayload = strings.Split(unsigned("", `{"x":1,`+string(claims)[1:], ""), ".")[1]
	}

	// The JSON serializations of a valid proof.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKey},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	full := jws.FullSerialize()

	for _, tc := range []struct {
		name   string
		proof  string
		reason error
	}{
		{"JSON serialization", full, ErrMalformedProof},
		{"empty", "", ErrMalformedProof},
		{"two segments", parts[0] + "." + parts[1], ErrMalformedProof},
		{"four segments", good + ".AAAA", ErrMalformedProof},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformedProof},
		{"line break", parts[0] + "\n." + parts[1] + "." + parts[2], ErrMalformedProof},
		{"space", " " + good, ErrMalformedProof},
		{"standard base64", strings.ReplaceAll(strings.ReplaceAll(good, "-", "+"), "_", "/") + "+/", ErrMalformedProof},
		{"non-canonical trailing bits", nonCanonical(oddHeader) + "." + parts[1] + "." + parts[2], ErrMalformedProof},
		{"non-canonical payload", parts[0] + "." + nonCanonical(oddPayload) + "." + parts[2], ErrMalformedProof},
		{"signature non-canonical", parts[0] + "." + parts[1] + "." + nonCanonical(parts[2]), ErrMalformedProof},
		{"empty header", "." + parts[1] + "." + parts[2], ErrMalformedProof},
		{"empty payload", parts[0] + ".." + parts[2], ErrMalformedProof},
		{"header not JSON", unsigned("not json", string(claims), parts[2]), ErrMalformedProof},
		{"header an array", unsigned("[1]", string(claims), parts[2]), ErrMalformedProof},
		{"duplicate header member", unsigned(`{"alg":"ES256","alg":"ES256","typ":"dpop+jwt","jwk":`+string(jwk)+`}`, string(claims), parts[2]), ErrMalformedProof},
		{"duplicate typ", unsigned(`{"alg":"ES256","typ":"JWT","typ":"dpop+jwt","jwk":`+string(jwk)+`}`, string(claims), parts[2]), ErrMalformedProof},
		{"null header member", unsigned(`{"alg":"ES256","typ":"dpop+jwt","crit":null,"jwk":`+string(jwk)+`}`, string(claims), parts[2]), ErrMalformedProof},
		{"invalid UTF-8 in header", unsigned(`{"alg":"ES256","typ":"dpop+jwt","kid":"`+"\xff"+`","jwk":`+string(jwk)+`}`, string(claims), parts[2]), ErrMalformedProof},
		{"private member, bad signature", unsigned(`{"alg":"ES256","typ":"dpop+jwt","jwk":`+strings.TrimSuffix(string(jwk), "}")+`,"d":"AAAA"}}`, string(claims), parts[2]), ErrInvalidKey},
		{"signature cut", parts[0] + "." + parts[1] + "." + parts[2][:40], ErrInvalidSignature},
		{"no signature", parts[0] + "." + parts[1] + ".", ErrInvalidSignature},
		{"payload swapped", unsigned(header, string(claims), parts[2]), ErrInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyOne(t, v, tc.proof)
			wantReason(t, err, tc.reason)
		})
	}
}

// nonCanonical sets a trailing bit of the unpadded base64url s, when it
// has any; it fails the test otherwise.
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		panic("no trailing bits in " + s)
	}
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func TestClaimsChecks(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	for _, tc := range []struct {
		name   string
		s      spec
		reason error
	}{
		{"no jti", spec{claims: map[string]any{"jti": nil}}, ErrMissingClaim},
		{"no htm", spec{claims: map[string]any{"htm": nil}}, ErrMissingClaim},
		{"no htu", spec{claims: map[string]any{"htu": nil}}, ErrMissingClaim},
		{"no iat", spec{claims: map[string]any{"iat": nil}}, ErrMissingClaim},
		{"no ath with a token", spec{claims: map[string]any{"ath": nil}}, ErrMissingClaim},
		{"jti a number", spec{claims: map[string]any{"jti": 12345}}, ErrMalformedClaim},
		{"jti empty", spec{claims: map[string]any{"jti": ""}}, ErrMalformedClaim},
		{"jti 257 bytes", spec{claims: map[string]any{"jti": strings.Repeat("j", 257)}}, ErrMalformedClaim},
		{"htm a number", spec{claims: map[string]any{"htm": 1}}, ErrMalformedClaim},
		{"htu a number", spec{claims: map[string]any{"htu": 1}}, ErrMalformedClaim},
		{"htu an array", spec{claims: map[string]any{"htu": []string{testURI}}}, ErrMalformedClaim},
		{"htu relative", spec{claims: map[string]any{"htu": "/resource"}}, ErrMalformedClaim},
		{"htu ftp", spec{claims: map[string]any{"htu": "ftp://api.example.com/resource"}}, ErrMalformedClaim},
		{"htu with userinfo", spec{claims: map[string]any{"htu": "https://u@api.example.com/resource"}}, ErrMalformedClaim},
		{"iat a string", spec{claims: map[string]any{"iat": "1700000000"}}, ErrMalformedClaim},
		{"iat huge", spec{raw: []byte(`{"jti":"a","htm":"GET","htu":"` + testURI + `","iat":1e400,"ath":"` + AccessTokenHash(testToken) + `"}`)}, ErrMalformedClaim},
		{"iat null", spec{claims: map[string]any{"iat": json.RawMessage("null")}}, ErrMalformedClaim},
		{"ath a number", spec{claims: map[string]any{"ath": 1}}, ErrMalformedClaim},
		{"nonce a number", spec{claims: map[string]any{"nonce": 1}}, ErrMalformedClaim},
		{"ath of another token", spec{claims: map[string]any{"ath": AccessTokenHash("another")}}, ErrAccessTokenHash},
		{"ath the token itself", spec{claims: map[string]any{"ath": testToken}}, ErrAccessTokenHash},
		{"htm lower case", spec{claims: map[string]any{"htm": "get"}}, ErrMethodMismatch},
		{"htm POST", spec{claims: map[string]any{"htm": "POST"}}, ErrMethodMismatch},
		{"iat 301 s old", spec{claims: map[string]any{"iat": t0.Unix() - 301}}, ErrProofExpired},
		{"iat a day old", spec{claims: map[string]any{"iat": t0.Unix() - 86400}}, ErrProofExpired},
		{"iat negative", spec{claims: map[string]any{"iat": -1}}, ErrProofExpired},
		{"iat 1 s ahead", spec{claims: map[string]any{"iat": t0.Unix() + 1}}, ErrProofInFuture},
		{"iat an hour ahead", spec{claims: map[string]any{"iat": t0.Unix() + 3600}}, ErrProofInFuture},
		{"duplicate claim", spec{raw: []byte(`{"jti":"a","htm":"POST","htm":"GET","htu":"` + testURI + `","iat":1700000000,"ath":"` + AccessTokenHash(testToken) + `"}`)}, ErrMalformedProof},
		{"claims an array", spec{raw: []byte(`["jti"]`)}, ErrMalformedProof},
		{"claims trailing data", spec{raw: []byte(`{"jti":"a","htm":"GET","htu":"` + testURI + `","iat":1700000000} {}`)}, ErrMalformedProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyOne(t, v, mint(t, tc.s))
			wantReason(t, err, tc.reason)
		})
	}
}

func TestClaimsAtTheirBounds(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	for name, claims := range map[string]map[string]any{
		"jti 256 bytes":     {"jti": strings.Repeat("j", 256)},
		"iat 300 s old":     {"iat": t0.Unix() - 300},
		"iat fractional":    {"iat": float64(t0.Unix()) - 0.5},
		"extra claims":      {"foo": map[string]any{"bar": []any{1, "x"}}},
		"nonce unasked for": {"nonce": "whatever"},
	} {
		if _, err := verifyOne(t, v, mint(t, spec{claims: claims})); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Without an access token, ath is not required, and not checked.
	for _, claims := range []map[string]any{{"ath": nil}, {"ath": AccessTokenHash("other")}} {
		if _, err := v.Verify(context.Background(), request(mint(t, spec{claims: claims})), ""); err != nil {
			t.Errorf("no access token: %v", err)
		}
	}
}

func TestLeeway(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{Leeway: 10 * time.Second, MaxAge: time.Minute})
	for iat, reason := range map[int64]error{
		t0.Unix() + 10: nil,
		t0.Unix() + 11: ErrProofInFuture,
		t0.Unix() - 70: nil,
		t0.Unix() - 71: ErrProofExpired,
	} {
		_, err := verifyOne(t, v, mint(t, spec{claims: map[string]any{"iat": iat}}))
		if reason == nil {
			if err != nil {
				t.Errorf("iat %+d: %v", iat-t0.Unix(), err)
			}
			continue
		}
		wantReason(t, err, reason)
	}
}

func TestMethods(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"} {
		r := request(mint(t, spec{claims: map[string]any{"htm": m}}))
		r.Method = m
		if _, err := v.Verify(context.Background(), r, testToken); err != nil {
			t.Errorf("%s: %v", m, err)
		}
		r = request(mint(t, spec{claims: map[string]any{"htm": strings.ToLower(m)}}))
		r.Method = m
		_, err := v.Verify(context.Background(), r, testToken)
		wantReason(t, err, ErrMethodMismatch)
	}
}

func TestHeaderFields(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	_, err := v.Verify(context.Background(), request(), testToken)
	wantReason(t, err, ErrMissingProof)
	_, err = v.Verify(context.Background(), request(mint(t, spec{}), mint(t, spec{})), testToken)
	wantReason(t, err, ErrMultipleProofs)
	// Two fields of the same proof are two too.
	p := mint(t, spec{})
	_, err = v.Verify(context.Background(), request(p, p), testToken)
	wantReason(t, err, ErrMultipleProofs)
	// The lower-case spelling of the header is the same field.
	r := request(p)
	r.Header["dpop"] = []string{p}
	_, err = v.Verify(context.Background(), r, testToken)
	if err != nil && !errors.Is(err, ErrMultipleProofs) {
		t.Fatalf("two spellings: %v", err)
	}
	// Oversized: refused before any parsing (not even base64url).
	_, err = verifyOne(t, v, strings.Repeat("*", DefaultMaxProofBytes+1))
	wantReason(t, err, ErrProofTooLarge)
	big := mint(t, spec{claims: map[string]any{"pad": strings.Repeat("x", DefaultMaxProofBytes)}})
	_, err = verifyOne(t, v, big)
	wantReason(t, err, ErrProofTooLarge)
	// Before the request's URI is worked out, too.
	star := request(strings.Repeat("A", DefaultMaxProofBytes+1))
	star.RequestURI = "*"
	_, err = v.Verify(context.Background(), star, testToken)
	wantReason(t, err, ErrProofTooLarge)
	small := newTestVerifier(t, Config{MaxProofBytes: 100})
	_, err = verifyOne(t, small, mint(t, spec{}))
	wantReason(t, err, ErrProofTooLarge)
	_, err = small.VerifyProof(context.Background(), mint(t, spec{}), testMethod, testURI, testToken)
	wantReason(t, err, ErrProofTooLarge)
}

func TestCheckBinding(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	p, err := verifyOne(t, v, mint(t, spec{}))
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := Thumbprint(&ecKey.PublicKey)
	other, _ := Thumbprint(&ecOther.PublicKey)
	if err := p.CheckBinding(mine); err != nil {
		t.Fatal(err)
	}
	for _, jkt := range []string{other, "", mine[:len(mine)-1], mine + "A", strings.ToLower(mine)} {
		if jkt == mine {
			continue
		}
		wantReason(t, p.CheckBinding(jkt), ErrThumbprintMismatch)
	}
	if ErrorCode(p.CheckBinding(other)) != ErrorInvalidToken {
		t.Fatal("a binding mismatch is not invalid_token")
	}
}

// TestThumbprintRFC7638 checks Thumbprint against RFC 7638 section 3.1's
// example.
func TestThumbprintRFC7638(t *testing.T) {
	const jwk = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(&k)
	if err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint %q, %v", got, err)
	}
}

func TestErrorsHoldNothingOfTheProof(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	secretJTI := "jti-SECRET-VALUE-0123456789"
	for _, s := range []spec{
		{claims: map[string]any{"jti": secretJTI, "htm": "SECRETMETHOD"}},
		{claims: map[string]any{"jti": secretJTI, "htu": "https://secret.example/SECRETPATH"}},
		{claims: map[string]any{"jti": secretJTI, "ath": "SECRETATH"}},
		{claims: map[string]any{"jti": secretJTI, "iat": "SECRETIAT"}},
		{header: map[string]any{"typ": "SECRETTYP"}, claims: map[string]any{"jti": secretJTI}},
		{jwk: map[string]any{"kty": "SECRETKTY"}, claims: map[string]any{"jti": secretJTI}},
	} {
		proof := mint(t, s)
		_, err := verifyOne(t, v, proof)
		if err == nil {
			t.Fatal("accepted")
		}
		msg := err.Error()
		for _, part := range append(strings.Split(proof, "."), "SECRET", testToken, AccessTokenHash(testToken)) {
			if part != "" && strings.Contains(msg, part) {
				t.Errorf("error %q holds %q", msg, part)
			}
		}
	}
}

// TestOrderSignatureFirst: a proof both forged and stale is reported as
// forged: nothing its payload says is believed before the signature.
func TestOrderSignatureFirst(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	proof := mint(t, spec{jwk: publicJWK(ecOther), claims: map[string]any{"iat": 1, "htm": "POST"}})
	_, err := verifyOne(t, v, proof)
	wantReason(t, err, ErrInvalidSignature)
}

func TestVerifyProofDirect(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	p := mint(t, spec{claims: map[string]any{"htm": http.MethodPost}})
	if _, err := v.VerifyProof(context.Background(), p, http.MethodPost, "HTTPS://API.example.com:443/resource?x=1#f", testToken); err != nil {
		t.Fatal(err)
	}
	_, err := v.VerifyProof(context.Background(), mint(t, spec{}), http.MethodGet, "not a uri", testToken)
	wantReason(t, err, ErrURIMismatch)
}

// TestPSSSaltLength: an RSA-PSS proof whose salt is not as long as the
// hash (RFC 7518 section 3.5) is refused, though go-jose verifies it. The
// signature is made with the standard library over go-jose's signing
// input.
func TestPSSSaltLength(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	good := mint(t, spec{alg: jose.PS256, key: rsaKey})
	if _, err := verifyOne(t, v, good); err != nil {
		t.Fatal(err)
	}
	for _, salt := range []int{0, 20, 64} {
		p := mint(t, spec{alg: jose.PS256, key: rsaKey})
		input := p[:strings.LastIndexByte(p, '.')]
		digest := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: salt})
		if err != nil {
			t.Fatal(err)
		}
		_, err = verifyOne(t, v, input+"."+base64.RawURLEncoding.EncodeToString(sig))
		wantReason(t, err, ErrInvalidSignature)
	}
}

// TestRSAExponent: an RSA jwk with an even or tiny public exponent is
// refused before its signature is looked at.
func TestRSAExponent(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	pub := jwkMap(t, &rsaKey.PublicKey)
	for _, e := range []string{"AQ", "Ag", "BA", "AQAA"} {
		_, err := verifyOne(t, v, mint(t, spec{alg: jose.RS256, key: rsaKey, jwk: with(pub, "e", e)}))
		wantReason(t, err, ErrInvalidKey)
	}
}
