package policy_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// algKey is one algorithm with the key that signs for it.
type algKey struct {
	alg  jose.SignatureAlgorithm
	sign any // the go-jose signing key
}

func allAlgorithms() []algKey {
	return []algKey{
		{jose.HS256, testSecret}, {jose.HS384, testSecret}, {jose.HS512, testSecret},
		{jose.RS256, rsaKeyOnce()}, {jose.RS384, rsaKeyOnce()}, {jose.RS512, rsaKeyOnce()},
		{jose.PS256, rsaKeyOnce()}, {jose.PS384, rsaKeyOnce()}, {jose.PS512, rsaKeyOnce()},
		{jose.ES256, p256Once()}, {jose.ES384, p384Once()}, {jose.ES512, p521Once()},
		{jose.EdDSA, ed25519Once()},
	}
}

// verifierPolicy builds a policy for a with the public key only (or the
// secret for HMAC).
func verifierPolicy(t *testing.T, a algKey, mod func(*policy.Config)) *policy.JWT {
	t.Helper()
	cfg := policy.Config{Algorithm: string(a.alg), Now: clock, Logger: discard}
	if s, ok := a.sign.(crypto.Signer); ok {
		cfg.PublicKey = s.Public()
	} else {
		cfg.MasterSecret = a.sign.([]byte)
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := policy.NewJWT(cfg)
	if err != nil {
		t.Fatalf("NewJWT(%s): %v", a.alg, err)
	}
	return p
}

func TestEveryAlgorithmVerifies(t *testing.T) {
	for _, a := range allAlgorithms() {
		t.Run(string(a.alg), func(t *testing.T) {
			p := verifierPolicy(t, a, nil)
			tok := mint(t, a.alg, a.sign, validClaims("user-"+string(a.alg)))
			uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
			if err != nil || uid != "user-"+string(a.alg) {
				t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
			}
		})
	}
}

func TestEveryAlgorithmSigns(t *testing.T) {
	for _, a := range allAlgorithms() {
		t.Run(string(a.alg), func(t *testing.T) {
			cfg := policy.Config{Algorithm: string(a.alg), Now: clock, Logger: discard}
			var verify any = a.sign
			if s, ok := a.sign.(crypto.Signer); ok {
				cfg.PrivateKey = s
				verify = s.Public()
			} else {
				cfg.MasterSecret = a.sign.([]byte)
			}
			p, err := policy.NewJWT(cfg)
			if err != nil {
				t.Fatalf("NewJWT: %v", err)
			}
			tok, err := p.NewToken("signer", nil)
			if err != nil {
				t.Fatalf("NewToken: %v", err)
			}
			if got := verifyWithJose(t, tok, a.alg, verify); got["sub"] != "signer" {
				t.Errorf("sub = %v", got["sub"])
			}
		})
	}
}

// TestOtherAlgorithmsAreNotAllowed: a token of any algorithm other than the
// policy's, even one of the same family on the same key, is refused before
// its signature is checked.
func TestOtherAlgorithmsAreNotAllowed(t *testing.T) {
	all := allAlgorithms()
	for _, pa := range all {
		p := verifierPolicy(t, pa, nil)
		for _, ta := range all {
			if ta.alg == pa.alg {
				continue
			}
			t.Run(string(pa.alg)+"/"+string(ta.alg)+" token", func(t *testing.T) {
				tok := mint(t, ta.alg, ta.sign, validClaims("u"))
				_, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
				if !errors.Is(err, policy.ErrAlgorithmNotAllowed) || !errors.Is(err, policy.ErrInvalidCredentials) {
					t.Errorf("err = %v, want ErrAlgorithmNotAllowed", err)
				}
			})
		}
	}
}

func TestAlgNoneIsRejected(t *testing.T) {
	payload := `{"sub":"admin","iat":1700000000}`
	headers := []string{
		`{"alg":"none"}`, `{"alg":"None"}`, `{"alg":"NONE"}`, `{"alg":"nOnE"}`,
		`{"alg":"none","typ":"JWT"}`, `{"typ":"JWT"}`, `{"alg":""}`,
	}
	for _, a := range []algKey{{jose.HS256, testSecret}, {jose.RS256, rsaKeyOnce()}, {jose.EdDSA, ed25519Once()}} {
		for _, h := range headers {
			t.Run(string(a.alg)+" policy/"+h, func(t *testing.T) {
				called := false
				p := verifierPolicy(t, a, func(c *policy.Config) {
					c.GroupFinder = func(string, *http.Request, policy.Claims) ([]string, bool) { called = true; return nil, true }
				})
				for _, tok := range []string{noneToken(h, payload), noneToken(h, payload) + "c2ln"} {
					uid, err := p.AuthenticatedUserID(newRequest("JWT " + tok))
					if err == nil || !errors.Is(err, policy.ErrInvalidCredentials) {
						t.Errorf("%s: AuthenticatedUserID = %q, %v; want invalid credentials", tok, uid, err)
					}
				}
				if called {
					t.Error("group finder called for an unsigned token")
				}
			})
		}
	}
}

// TestPublicKeyAsHMACSecret is the key-confusion attack: an HS256 token
// whose HMAC key is the server's public key, in the forms a server might
// publish it.
func TestPublicKeyAsHMACSecret(t *testing.T) {
	priv := rsaKeyOnce()
	spki, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	secrets := map[string][]byte{
		"SPKI PEM":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}),
		"PKCS1 PEM": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"SPKI DER":  spki,
	}
	configs := map[string]func(*policy.Config){
		"RS256 public key": nil,
		"RS256 + PS256":    func(c *policy.Config) { c.Algorithms = []string{"RS256", "PS256"} },
	}
	for cname, mod := range configs {
		p := verifierPolicy(t, algKey{jose.RS256, priv}, mod)
		for sname, secret := range secrets {
			t.Run(cname+"/"+sname, func(t *testing.T) {
				tok := mint(t, jose.HS256, secret, validClaims("admin"))
				uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
				if !errors.Is(err, policy.ErrAlgorithmNotAllowed) {
					t.Errorf("AuthenticatedUserID = %q, %v; want ErrAlgorithmNotAllowed", uid, err)
				}
			})
		}
	}
}

func TestAlgorithmAllowList(t *testing.T) {
	priv := rsaKeyOnce()
	p, err := policy.NewJWT(policy.Config{
		Algorithm:  "RS256",
		Algorithms: []string{"RS256", "PS256"},
		PrivateKey: priv,
		Now:        clock,
		Logger:     discard,
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	tests := []struct {
		alg     jose.SignatureAlgorithm
		key     any
		wantErr error
	}{
		{jose.RS256, priv, nil},
		{jose.PS256, priv, nil},
		{jose.RS384, priv, policy.ErrAlgorithmNotAllowed},
		{jose.PS512, priv, policy.ErrAlgorithmNotAllowed},
		{jose.ES256, p256Once(), policy.ErrAlgorithmNotAllowed},
		{jose.HS256, testSecret, policy.ErrAlgorithmNotAllowed},
		{jose.PS256, rsaKey2Once(), policy.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			tok := mint(t, tt.alg, tt.key, validClaims("u"))
			uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
			if tt.wantErr == nil {
				if err != nil || uid != "u" {
					t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("Encode signs with Algorithm", func(t *testing.T) {
		tok, err := p.Encode(validClaims("e"))
		if err != nil {
			t.Fatal(err)
		}
		verifyWithJose(t, tok, jose.RS256, &priv.PublicKey)
		parsed, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil || parsed.Signatures[0].Header.Algorithm != "RS256" {
			t.Errorf("header alg: %v, %v", parsed, err)
		}
	})
}

// hs256 signs header.payload by hand, for headers go-jose will not write.
func hs256(header, payload string) string {
	in := b64(header) + "." + b64(payload)
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestTokenStructureAndHeaders covers the structural rows of the verifier
// checklist (reference/jwt-security.md).
func TestTokenStructureAndHeaders(t *testing.T) {
	good := mintHS(t, validClaims("u"))
	parts := strings.Split(good, ".")
	withOpts := func(o *jose.SignerOptions) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, o)
		if err != nil {
			t.Fatal(err)
		}
		j, err := s.Sign([]byte(`{"sub":"u"}`))
		if err != nil {
			t.Fatal(err)
		}
		c, err := j.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	jsonSer := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, nil)
		j, _ := s.Sign([]byte(`{"sub":"u"}`))
		return j.FullSerialize()
	}()
	attacker := testkit.MustEd25519()
	embedded := func() string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: attacker}, (&jose.SignerOptions{EmbedJWK: true}))
		if err != nil {
			t.Fatal(err)
		}
		j, _ := s.Sign([]byte(`{"sub":"admin"}`))
		c, _ := j.CompactSerialize()
		return c
	}()
	tests := []struct {
		name    string
		policy  algKey
		tok     string
		wantErr error
	}{
		{"two segments", algKey{jose.HS256, testSecret}, parts[0] + "." + parts[1], policy.ErrMalformedToken},
		{"four segments", algKey{jose.HS256, testSecret}, good + ".AAAA", policy.ErrMalformedToken},
		{"empty signature", algKey{jose.HS256, testSecret}, parts[0] + "." + parts[1] + ".", policy.ErrInvalidSignature},
		{"truncated signature", algKey{jose.HS256, testSecret}, good[:len(good)-4], policy.ErrInvalidSignature},
		{"empty payload segment", algKey{jose.HS256, testSecret}, parts[0] + ".." + parts[2], nil},
		{"padded signature", algKey{jose.HS256, testSecret}, good + "=", policy.ErrMalformedToken},
		{"JSON serialization", algKey{jose.HS256, testSecret}, jsonSer, nil},
		{"duplicate alg header", algKey{jose.HS256, testSecret}, hs256(`{"alg":"none","alg":"HS256"}`, `{"sub":"u"}`), nil},
		// go-jose's JSON reader would read these kids as "a\ufffdb" and
		// "\ufffd": two headers, one kid.
		{"invalid UTF-8 in the header", algKey{jose.HS256, testSecret}, hs256("{\"alg\":\"HS256\",\"kid\":\"a\xffb\"}", `{"sub":"u"}`), policy.ErrMalformedToken},
		{"lone surrogate in the header", algKey{jose.HS256, testSecret}, hs256(`{"alg":"HS256","kid":"\ud800"}`, `{"sub":"u"}`), policy.ErrMalformedToken},
		{"lone surrogate in typ", algKey{jose.HS256, testSecret}, hs256(`{"alg":"HS256","typ":"J\udc00WT"}`, `{"sub":"u"}`), policy.ErrMalformedToken},
		{"invalid UTF-8 beside a null member", algKey{jose.HS256, testSecret}, hs256("{\"alg\":\"HS256\",\"x\":null,\"kid\":\"\xff\"}", `{"sub":"u"}`), policy.ErrMalformedToken},
		{"crit header", algKey{jose.HS256, testSecret}, withOpts((&jose.SignerOptions{}).WithHeader("crit", []string{"exp"})), nil},
		{"b64 false", algKey{jose.HS256, testSecret}, withOpts((&jose.SignerOptions{}).WithBase64(false)), nil},
		{"nested JWT", algKey{jose.HS256, testSecret}, withOpts((&jose.SignerOptions{}).WithContentType("JWT")), policy.ErrUnsupportedTokenType},
		{"embedded attacker jwk", algKey{jose.EdDSA, ed25519Once()}, embedded, policy.ErrInvalidSignature},
		{"payload not an object", algKey{jose.HS256, testSecret}, mintRaw(t, jose.HS256, testSecret, `["sub","u"]`), policy.ErrMalformedClaims},
		{"payload with trailing data", algKey{jose.HS256, testSecret}, mintRaw(t, jose.HS256, testSecret, `{"sub":"u"} {}`), policy.ErrMalformedClaims},
		{"payload not JSON", algKey{jose.HS256, testSecret}, mintRaw(t, jose.HS256, testSecret, `sub=u`), policy.ErrMalformedClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := verifierPolicy(t, tt.policy, nil)
			uid, err := p.AuthenticatedUserID(newRequest("JWT " + tt.tok))
			if err == nil || !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Fatalf("AuthenticatedUserID = %q, %v; want invalid credentials", uid, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestNonCanonicalBase64IsRejected: row 10 of the verifier checklist. A
// segment whose last character carries non-zero unused bits decodes to the
// same bytes as the canonical one (and go-jose signs the re-encoded bytes),
// so without a check one token has many spellings; a strict verifier
// refuses all but the canonical one.
func TestNonCanonicalBase64IsRejected(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	p := newPolicy(t, nil)
	for _, tt := range []struct {
		name    string
		segment int
	}{{"payload", 1}, {"signature", 2}} {
		t.Run(tt.name, func(t *testing.T) {
			// Find a token whose segment has unused bits (length not a
			// multiple of 4).
			var good string
			for _, sub := range []string{"u", "uu", "uuu"} {
				good = mintHS(t, validClaims(sub))
				if len(strings.Split(good, ".")[tt.segment])%4 != 0 {
					break
				}
			}
			parts := strings.Split(good, ".")
			seg := parts[tt.segment]
			last := strings.IndexByte(alphabet, seg[len(seg)-1])
			if len(seg)%4 == 0 || last&3 != 0 {
				t.Fatalf("test setup: segment %q has no unused bits or is not canonical", seg)
			}
			parts[tt.segment] = seg[:len(seg)-1] + string(alphabet[last|1])
			b1, err1 := base64.RawURLEncoding.DecodeString(seg)
			b2, err2 := base64.RawURLEncoding.DecodeString(parts[tt.segment])
			if err1 != nil || err2 != nil || string(b1) != string(b2) {
				t.Fatalf("test setup: the two spellings must decode to the same bytes (%v, %v)", err1, err2)
			}
			bad := strings.Join(parts, ".")
			if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(good))); err != nil {
				t.Fatalf("canonical token: %v", err)
			}
			if uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(bad))); !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Errorf("non-canonical %s accepted: AuthenticatedUserID = %q, %v; want invalid credentials", tt.name, uid, err)
			}
		})
	}
}
