package policy_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestChecklist maps every row of the verifier checklist
// (shared/reference/jwt-security.md, rows 1–17) to the attacks that row
// names. Each row builds its own attacking tokens by hand (JSON header and
// payload, base64url, signed with crypto/hmac or go-jose), presents them
// as "Authorization: JWT token=…" (or the row's scheme) to a policy
// configured for the row, and asserts the failure and its reason. For every
// request-level row the challenge is checked too: 401 with
// error="invalid_token" (400 invalid_request for an unreadable header),
// and nothing of the token's signature in the response.
//
// Other tests cover some rows in more depth (algorithms_test.go,
// limits_test.go, claims_check_test.go); this is the one place that maps
// rows to tests.
func TestChecklist(t *testing.T) {
	rows := []checklistRow{
		{
			// parseJWS hands the allow-list to jose.ParseSignedCompact, which
			// refuses an alg outside it before anything else is read, and
			// "none" (in any case) can never be on it: NewJWT refuses it as
			// unsupported. The structural check does not fire first, since
			// an empty signature segment is canonical base64url. So the
			// reason is ErrAlgorithmNotAllowed, not ErrMalformedToken.
			name:   "row01-alg-none",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				payload := clClaims("admin")
				var out []clAttack
				for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
					h := `{"alg":"` + alg + `","typ":"JWT"}`
					out = append(out,
						clAttack{name: alg + "/empty signature", tok: b64(h) + "." + b64(payload) + ".", want: policy.ErrAlgorithmNotAllowed},
						clAttack{name: alg + "/HMAC signature", tok: clHMAC(testSecret, h, payload), want: policy.ErrAlgorithmNotAllowed},
					)
				}
				rsaPolicy := clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
				out = append(out, clAttack{name: "none against RS256", p: rsaPolicy,
					tok: b64(`{"alg":"none"}`) + "." + b64(payload) + ".", want: policy.ErrAlgorithmNotAllowed})
				return out
			},
			config: func(t *testing.T) {
				_, err := policy.NewJWT(policy.Config{Algorithm: "none", Logger: discard})
				clWantConfigError(t, err, "algorithm", "")
				_, err = policy.NewJWT(policy.Config{MasterSecret: testSecret, Algorithms: []string{"HS256", "none"}, Logger: discard})
				clWantConfigError(t, err, "algorithms", "")
			},
		},
		{
			// The token's alg is checked against the configured allow-list
			// (RS256 / ES256 here), so an HS256 token never reaches a key;
			// and a policy cannot be configured to verify HS256 with a
			// public key at all.
			name: "row02-hmac-with-public-key",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				h, payload := `{"alg":"HS256","typ":"JWT"}`, clClaims("admin")
				var out []clAttack
				for name, secret := range clPublicKeyTexts(t, rsaKeyOnce().Public()) {
					out = append(out, clAttack{name: "RSA " + name, tok: clHMAC(secret, h, payload), want: policy.ErrAlgorithmNotAllowed})
				}
				ecPolicy := clPolicy(t, policy.Config{Algorithm: "ES256", PublicKey: p256Once().Public()})
				for name, secret := range clPublicKeyTexts(t, p256Once().Public()) {
					out = append(out, clAttack{name: "EC " + name, p: ecPolicy, tok: clHMAC(secret, h, payload), want: policy.ErrAlgorithmNotAllowed})
				}
				return out
			},
			config: func(t *testing.T) {
				pub := rsaKeyOnce().Public()
				_, err := policy.NewJWT(policy.Config{Algorithm: "HS256", PublicKey: pub, Logger: discard})
				clWantConfigError(t, err, "algorithm", "")
				_, err = policy.NewJWT(policy.Config{Algorithm: "RS256", Algorithms: []string{"RS256", "HS256"}, PublicKey: pub, Logger: discard})
				clWantConfigError(t, err, "algorithms", "")
			},
		},
		{
			// The alg must be on the policy's allow-list; a key of the
			// right type signing with another algorithm is refused by
			// go-jose's allow-list check in parseJWS.
			name: "row03-algorithm-per-key",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "PS256", PublicKey: rsaKeyOnce().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				es512 := clPolicy(t, policy.Config{Algorithm: "ES512", PublicKey: p521Once().Public()})
				payload := clClaims("admin")
				return []clAttack{
					{name: "control PS256", tok: clSign(t, jose.PS256, rsaKeyOnce(), nil, payload), wantUID: "admin"},
					{name: "RS256 token for a PS256 key", tok: clSign(t, jose.RS256, rsaKeyOnce(), nil, payload), want: policy.ErrAlgorithmNotAllowed},
					{name: "control ES512", p: es512, tok: clSign(t, jose.ES512, p521Once(), nil, payload), wantUID: "admin"},
					{name: "ES256 token for an ES512 key", p: es512, tok: clSign(t, jose.ES256, p256Once(), nil, payload), want: policy.ErrAlgorithmNotAllowed},
					// The same P-521 key cannot sign ES256 in go-jose; an
					// ES256 header over an ES512 signature is still refused
					// on its alg.
					{name: "ES256 header, ES512 signature", p: es512, tok: clRelabel(t, clSign(t, jose.ES512, p521Once(), nil, payload), `{"alg":"ES256"}`), want: policy.ErrAlgorithmNotAllowed},
				}
			},
		},
		{
			// canonicalSegments refuses anything but three base64url
			// segments before go-jose sees it (ErrMalformedToken). An empty
			// or truncated signature segment is structurally fine and fails
			// as a signature; an empty payload verifies and fails as claims.
			name:   "row04-compact-jws-only",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				h, payload := `{"alg":"HS256","typ":"JWT"}`, clClaims("admin")
				good := clHMAC(testSecret, h, payload)
				p := strings.Split(good, ".")
				flat := clFlattened(p)
				general := `{"payload":"` + p[1] + `","signatures":[{"protected":"` + p[0] + `","signature":"` + p[2] + `"}]}`
				return []clAttack{
					{name: "control", tok: good, wantUID: "admin"},
					{name: "missing token", authz: "JWT token=", want: policy.ErrMalformedHeader},
					{name: "missing token, quoted", authz: `JWT token=""`, want: policy.ErrMalformedHeader},
					{name: "one segment", tok: p[0], want: policy.ErrMalformedToken},
					{name: "two segments", tok: p[0] + "." + p[1], want: policy.ErrMalformedToken},
					// An empty header segment is canonical and go-jose reads it as
					// no header at all, so it fails on its missing alg.
					{name: "all segments empty", tok: "..", want: policy.ErrMalformedToken, alt: policy.ErrAlgorithmNotAllowed},
					{name: "empty header", tok: "." + p[1] + "." + p[2], want: policy.ErrMalformedToken, alt: policy.ErrAlgorithmNotAllowed},
					{name: "empty payload", tok: clHMACSegments(testSecret, p[0], ""), want: policy.ErrMalformedClaims},
					{name: "empty signature", tok: p[0] + "." + p[1] + ".", want: policy.ErrInvalidSignature},
					{name: "truncated header", tok: p[0][:len(p[0])/4*4-4] + "." + p[1] + "." + p[2], want: policy.ErrMalformedToken},
					{name: "truncated payload", tok: p[0] + "." + p[1][:len(p[1])/4*4-4] + "." + p[2], want: policy.ErrInvalidSignature},
					{name: "truncated signature", tok: p[0] + "." + p[1] + "." + p[2][:40], want: policy.ErrInvalidSignature},
					{name: "trailing dot", tok: good + ".", want: policy.ErrMalformedToken},
					{name: "four segments", tok: good + ".AAAA", want: policy.ErrMalformedToken},
					{name: "five segments", tok: good + ".AAAA.AAAA", want: policy.ErrMalformedToken},
					{name: "flattened JSON serialization", tok: flat, authz: clQuoted("JWT", flat), want: policy.ErrMalformedToken},
					{name: "general JSON serialization", tok: general, authz: clQuoted("JWT", general), want: policy.ErrMalformedToken},
				}
			},
		},
		{
			// The policy's one key has no kid, so a token naming any kid
			// falls back to it (verifySignature): the kid is never a path,
			// a query or anything but a string compared for equality, and
			// the attacker's signature fails against the configured key.
			// MaxTokenBytes is raised so that the 10 kB kids (60 kB as
			// JSON-escaped NULs) are looked up,
			// not refused for its size.
			name: "row05-kid-injection",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{MasterSecret: testSecret, MaxTokenBytes: 256 << 10})
			},
			attacks: func(t *testing.T) []clAttack {
				payload := clClaims("admin")
				attackerSecret := []byte("attacker-secret-attacker-secret-")
				kid := func(k string, secret []byte) string {
					h, err := json.Marshal(map[string]string{"alg": "HS256", "kid": k})
					if err != nil {
						t.Fatal(err)
					}
					return clHMAC(secret, string(h), payload)
				}
				var out []clAttack
				for _, k := range []struct {
					name, kid string
					secret    []byte
				}{
					{"path traversal to /dev/null, empty key", "../../../../../../../dev/null", []byte{}},
					{"absolute /dev/null, empty key", "/dev/null", []byte{}},
					{"path traversal to a public file", "../../../../etc/hostname", []byte("localhost\n")},
					{"SQL injection", "x' UNION SELECT 'attacker-secret-attacker-secret-' -- ", attackerSecret},
					{"SQL tautology", "' OR '1'='1", attackerSecret},
					{"NUL bytes", "key\x00../../dev/null\x00", []byte{}},
					{"10 kB", strings.Repeat("A", 10<<10), attackerSecret},
					{"10 kB of NULs", strings.Repeat("\x00", 10<<10), attackerSecret},
				} {
					out = append(out, clAttack{name: k.name, tok: kid(k.kid, k.secret), want: policy.ErrInvalidSignature, alt: policy.ErrNoKey})
				}
				return out
			},
		},
		{
			// Nothing in the policy fetches anything: jku and x5u are
			// extra headers it ignores, so the attacker's signature is
			// checked against the configured key and fails. The URLs point
			// at a local server that serves the attacker's keys and counts
			// hits; it must see none (no outside network is needed either).
			name: "row06-jku-x5u",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				attacker := rsaKey2Once()
				var hits atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					switch r.URL.Path {
					case "/jwks.json":
						_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: attacker.Public(), KeyID: "attacker", Algorithm: "RS256", Use: "sig"}}})
					case "/cert.pem":
						_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: clSelfSigned(t, attacker)})
					}
				}))
				t.Cleanup(func() {
					srv.Close()
					if n := hits.Load(); n != 0 {
						t.Errorf("the policy fetched a URL taken from a token %d times", n)
					}
				})
				payload := clClaims("admin")
				sign := func(hdr map[string]any) string {
					return clSign(t, jose.RS256, attacker, hdr, payload)
				}
				return []clAttack{
					{name: "jku", tok: sign(map[string]any{"jku": srv.URL + "/jwks.json", "kid": "attacker"}), want: policy.ErrInvalidSignature},
					{name: "x5u", tok: sign(map[string]any{"x5u": srv.URL + "/cert.pem"}), want: policy.ErrInvalidSignature},
					{name: "jku and x5u", tok: sign(map[string]any{"jku": srv.URL + "/jwks.json", "x5u": srv.URL + "/cert.pem"}), want: policy.ErrInvalidSignature},
					{name: "jku off-host", tok: sign(map[string]any{"jku": "https://attacker.invalid/jwks.json"}), want: policy.ErrInvalidSignature},
				}
			},
		},
		{
			// go-jose parses an embedded jwk and x5c into the header, but
			// verifySignature only ever verifies with the configured keys,
			// so the attacker's self-consistent signature fails.
			name: "row07-embedded-jwk-x5c",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				attacker := rsaKey2Once()
				payload := clClaims("admin")
				embedded := func() string {
					s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: attacker}, &jose.SignerOptions{EmbedJWK: true})
					if err != nil {
						t.Fatal(err)
					}
					j, err := s.Sign([]byte(payload))
					if err != nil {
						t.Fatal(err)
					}
					c, err := j.CompactSerialize()
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(clHeaderOf(t, c), `"jwk"`) {
						t.Fatal("test setup: no jwk in the header")
					}
					return c
				}()
				x5c := []string{base64.StdEncoding.EncodeToString(clSelfSigned(t, attacker))}
				jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: attacker.Public(), Algorithm: "RS256"})
				if err != nil {
					t.Fatal(err)
				}
				return []clAttack{
					{name: "embedded jwk", tok: embedded, want: policy.ErrInvalidSignature},
					{name: "self-signed x5c", tok: clSign(t, jose.RS256, attacker, map[string]any{"x5c": x5c}, payload), want: policy.ErrInvalidSignature},
					{name: "jwk and x5c", tok: clSign(t, jose.RS256, attacker, map[string]any{"x5c": x5c, "jwk": json.RawMessage(jwkJSON)}, payload), want: policy.ErrInvalidSignature},
				}
			},
		},
		{
			// checkHeader refuses crit and b64 whatever their values, as
			// ErrUnsupportedTokenType, before the signature is looked at.
			// The tokens are signed correctly with the policy's secret, so
			// only the header is at fault.
			name:   "row08-crit-b64",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				payload := clClaims("admin")
				// With b64 false the signing input is the payload as is;
				// a payload that is itself base64url text keeps the token
				// compact, and signs the same either way.
				return []clAttack{
					{name: "crit exp", tok: clHMAC(testSecret, `{"alg":"HS256","crit":["exp"],"exp":1}`, payload), want: policy.ErrUnsupportedTokenType},
					{name: "crit empty list", tok: clHMAC(testSecret, `{"alg":"HS256","crit":[]}`, payload), want: policy.ErrUnsupportedTokenType},
					{name: "crit string", tok: clHMAC(testSecret, `{"alg":"HS256","crit":"x"}`, payload), want: policy.ErrUnsupportedTokenType},
					// go-jose drops null-valued header members, so checkHeader
					// never sees these (a bug: "any value" includes null).
					{name: "crit null", tok: clHMAC(testSecret, `{"alg":"HS256","crit":null}`, payload), want: policy.ErrUnsupportedTokenType, alt: policy.ErrMalformedToken},
					{name: "b64 null", tok: clHMAC(testSecret, `{"alg":"HS256","b64":null}`, payload), want: policy.ErrUnsupportedTokenType, alt: policy.ErrMalformedToken},
					{name: "crit b64, b64 false", tok: clHMACSegments(testSecret, b64(`{"alg":"HS256","b64":false,"crit":["b64"]}`), b64(payload)), want: policy.ErrUnsupportedTokenType},
					{name: "b64 false without crit", tok: clHMACSegments(testSecret, b64(`{"alg":"HS256","b64":false}`), b64(payload)), want: policy.ErrUnsupportedTokenType},
					{name: "b64 true with crit", tok: clHMAC(testSecret, `{"alg":"HS256","b64":true,"crit":["b64"]}`, payload), want: policy.ErrUnsupportedTokenType},
				}
			},
		},
		{
			// go-jose's JSON decoder refuses a duplicate member name in the
			// protected header, so parseJWS reports ErrMalformedToken
			// whichever alg comes last. The HMACs are correct.
			name:   "row09-duplicate-header-keys",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				payload := clClaims("admin")
				var out []clAttack
				for name, h := range map[string]string{
					"alg RS256 then none":  `{"alg":"RS256","alg":"none"}`,
					"alg HS256 then none":  `{"alg":"HS256","alg":"none"}`,
					"alg none then HS256":  `{"alg":"none","alg":"HS256"}`,
					"alg twice the same":   `{"alg":"HS256","alg":"HS256"}`,
					"escaped duplicate":    `{"alg":"HS256","\u0061lg":"none"}`,
					"kid twice":            `{"alg":"HS256","kid":"a","kid":"b"}`,
					"typ twice":            `{"alg":"HS256","typ":"JWT","typ":"JWT"}`,
					"unknown member twice": `{"alg":"HS256","x":1,"x":2}`,
				} {
					out = append(out, clAttack{name: name, tok: clHMAC(testSecret, h, payload), want: policy.ErrMalformedToken})
				}
				return out
			},
		},
		{
			// canonicalSegments allows only the base64url alphabet, no
			// padding, and zero trailing bits in the header and payload
			// (ErrMalformedToken); a non-canonical signature is another
			// spelling of the signature and fails as ErrInvalidSignature.
			// The variants are made from a correctly signed canonical token
			// whose segments decode to the same bytes, which plain go-jose
			// would accept. Whitespace and mid-token '=' need the quoted
			// header form: as a bare token68 the header itself is unreadable.
			name:   "row10-non-canonical-base64url",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				// 26-byte header and a payload whose length is not a
				// multiple of 3: both have unused trailing bits.
				h := `{"alg":"HS256","kid":"k1"}`
				payload := clClaims("admin")
				for len(payload)%3 == 0 {
					payload = payload[:len(payload)-1] + ` }`
				}
				good := clHMAC(testSecret, h, payload)
				p := strings.Split(good, ".")
				with := func(i int, seg string) string {
					q := append([]string(nil), p...)
					q[i] = seg
					return strings.Join(q, ".")
				}
				pad := func(s string) string { return s + strings.Repeat("=", (4-len(s)%4)%4) }
				std := strings.NewReplacer("-", "+", "_", "/")
				var stdTok string
				for i := 0; stdTok == ""; i++ {
					g := clHMAC(testSecret, h, clClaims("admin"+strings.Repeat(" ", i)))
					if s := std.Replace(g); s != g {
						stdTok = s
					}
				}
				out := []clAttack{
					{name: "control", tok: good, wantUID: "admin"},
					{name: "padded header", tok: with(0, pad(p[0])), authz: clQuoted("JWT", with(0, pad(p[0]))), want: policy.ErrMalformedToken},
					{name: "padded payload", tok: with(1, pad(p[1])), authz: clQuoted("JWT", with(1, pad(p[1]))), want: policy.ErrMalformedToken},
					{name: "padded signature", tok: with(2, pad(p[2])), want: policy.ErrMalformedToken},
					{name: "space in payload", tok: with(1, p[1][:8]+" "+p[1][8:]), authz: clQuoted("JWT", with(1, p[1][:8]+" "+p[1][8:])), want: policy.ErrMalformedToken},
					{name: "tab in header", tok: with(0, p[0][:8]+"\t"+p[0][8:]), authz: clQuoted("JWT", with(0, p[0][:8]+"\t"+p[0][8:])), want: policy.ErrMalformedToken},
					{name: "line break in payload", tok: with(1, p[1][:8]+"\r\n"+p[1][8:]), authz: clQuoted("JWT", with(1, p[1][:8]+"\r\n"+p[1][8:])), want: policy.ErrMalformedToken},
					{name: "space in signature", tok: with(2, p[2][:8]+" "+p[2][8:]), authz: clQuoted("JWT", with(2, p[2][:8]+" "+p[2][8:])), want: policy.ErrMalformedToken},
					{name: "standard alphabet", tok: stdTok, want: policy.ErrMalformedToken},
				}
				for i, name := range []string{"header", "payload", "signature"} {
					bad, ok := clTrailingBits(p[i])
					if !ok {
						t.Fatalf("test setup: the %s segment %q has no unused bits", name, p[i])
					}
					want := policy.ErrMalformedToken
					if i == 2 {
						want = policy.ErrInvalidSignature
					}
					out = append(out, clAttack{name: "trailing bits in " + name, tok: with(i, bad), want: want})
				}
				return out
			},
		},
		{
			// Go's crypto/ecdsa refuses r or s outside [1, n-1], so every
			// such signature fails as ErrInvalidSignature (CVE-2022-21449's
			// r = s = 0 included). (r, n-s) is different: it is a valid
			// ECDSA signature of the same message (RFC 7518 has no low-s
			// rule, and honest signers produce high s half the time), so
			// refusing it would refuse honest tokens. The checklist's
			// requirement for it is that nothing keys a deny-list on the raw
			// token bytes, and the policy keeps none: its memo is per
			// *http.Request, and the verified-token cache is an allow-list
			// keyed by the whole token (TestVerifiedTokenCache shows the
			// twin verified on its own). So it is asserted to verify, to the
			// same user.
			name: "row11-ecdsa-bounds",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "ES256", PublicKey: p256Once().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				good := clSign(t, jose.ES256, p256Once(), nil, clClaims("admin"))
				p := strings.Split(good, ".")
				sig, err := base64.RawURLEncoding.DecodeString(p[2])
				if err != nil || len(sig) != 64 {
					t.Fatalf("test setup: ES256 signature of %d bytes: %v", len(sig), err)
				}
				n := p256Once().Curve.Params().N
				r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				zero := new(big.Int)
				forge := func(r, s *big.Int) string {
					out := make([]byte, 64)
					r.FillBytes(out[:32])
					s.FillBytes(out[32:])
					return p[0] + "." + p[1] + "." + base64.RawURLEncoding.EncodeToString(out)
				}
				return []clAttack{
					{name: "control", tok: good, wantUID: "admin"},
					{name: "r=0 s=0", tok: forge(zero, zero), want: policy.ErrInvalidSignature},
					{name: "r=0", tok: forge(zero, s), want: policy.ErrInvalidSignature},
					{name: "s=0", tok: forge(r, zero), want: policy.ErrInvalidSignature},
					{name: "r=n", tok: forge(n, s), want: policy.ErrInvalidSignature},
					{name: "s=n", tok: forge(r, n), want: policy.ErrInvalidSignature},
					{name: "r=n s=n", tok: forge(n, n), want: policy.ErrInvalidSignature},
					{name: "r=0 s=n", tok: forge(zero, n), want: policy.ErrInvalidSignature},
					{name: "r+n", tok: clSigBytes(p, append(new(big.Int).Add(r, n).Bytes(), sig[32:]...)), want: policy.ErrInvalidSignature},
					{name: "(r, n-s) is the same signature", tok: forge(r, new(big.Int).Sub(n, s)), wantUID: "admin"},
				}
			},
		},
		{
			// A short HMAC secret is refused by NewJWT, naming the setting
			// at fault and the rule (there is no switch that accepts it).
			name: "row12-short-hmac-secret",
			config: func(t *testing.T) {
				for _, c := range []struct {
					alg   string
					algs  []string
					bytes int
				}{
					{"HS256", nil, 31}, {"HS256", nil, 1}, {"HS384", nil, 47}, {"HS512", nil, 63}, {"HS512", nil, 32},
					{"HS256", []string{"HS256", "HS512"}, 32},
				} {
					secret := []byte(strings.Repeat("Kq7!", 16)[:c.bytes])
					_, err := policy.NewJWT(policy.Config{Algorithm: c.alg, Algorithms: c.algs, MasterSecret: secret, Logger: discard})
					clWantConfigError(t, err, "master_secret", "RFC 7518 section 3.2 requires a secret at least as long as the hash's output")
					if err != nil && strings.Contains(err.Error(), "allow_weak_secret") {
						t.Errorf("%s/%d: the error names a removed setting: %v", c.alg, c.bytes, err)
					}
					if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), string(secret)) {
						t.Errorf("%s/%d: the error holds the secret: %v", c.alg, c.bytes, err)
					}
				}
				// The hash length itself is enough.
				if _, err := policy.NewJWT(policy.Config{MasterSecret: []byte(strings.Repeat("s", 32)), Logger: discard}); err != nil {
					t.Errorf("HS256 with a 32-byte secret: %v", err)
				}
			},
		},
		{
			// validateClaims checks aud against Config.Audience and iss
			// against Config.Issuer. The policy has no typ setting yet, so
			// an ID token is refused here only for its audience (aud is
			// the OIDC client, not this API); an ID token whose aud named
			// this API would pass until typ (e.g. RFC 9068's "at+jwt") can
			// be configured. Only aud/iss are asserted.
			name: "row13-audience-issuer",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{MasterSecret: testSecret, Audience: []string{"https://api.example"}, Issuer: "https://issuer.example"})
			},
			attacks: func(t *testing.T) []clAttack {
				claims := func(extra map[string]any, drop ...string) string {
					c := map[string]any{"sub": "admin", "iat": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
						"aud": "https://api.example", "iss": "https://issuer.example"}
					for k, v := range extra {
						c[k] = v
					}
					for _, k := range drop {
						delete(c, k)
					}
					b, err := json.Marshal(c)
					if err != nil {
						t.Fatal(err)
					}
					return string(b)
				}
				h := `{"alg":"HS256","typ":"JWT"}`
				noAud := clPolicy(t, policy.Config{MasterSecret: testSecret})
				return []clAttack{
					{name: "control", tok: clHMAC(testSecret, h, claims(nil)), wantUID: "admin"},
					{name: "another audience", tok: clHMAC(testSecret, h, claims(map[string]any{"aud": "https://other.example"})), want: policy.ErrInvalidAudience},
					{name: "other audiences", tok: clHMAC(testSecret, h, claims(map[string]any{"aud": []string{"https://other.example", "https://api.example.evil"}})), want: policy.ErrInvalidAudience},
					{name: "no audience", tok: clHMAC(testSecret, h, claims(nil, "aud")), want: policy.ErrInvalidAudience},
					{name: "another issuer", tok: clHMAC(testSecret, h, claims(map[string]any{"iss": "https://attacker.example"})), want: policy.ErrInvalidIssuer},
					{name: "no issuer", tok: clHMAC(testSecret, h, claims(nil, "iss")), want: policy.ErrInvalidIssuer},
					{name: "ID token", tok: clHMAC(testSecret, h, claims(map[string]any{"aud": "client-1234", "azp": "client-1234", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"})), want: policy.ErrInvalidAudience},
					{name: "audience to a policy without one", p: noAud, tok: clHMAC(testSecret, h, claims(nil, "iss")), want: policy.ErrInvalidAudience},
				}
			},
		},
		{
			// verify checks the signature before decoding the claims for
			// validation, so a badly signed token never reaches the
			// expiry check.
			name: "row14-expired-and-badly-signed",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{MasterSecret: testSecret, Audience: []string{"https://api.example"}, Issuer: "https://issuer.example"})
			},
			attacks: func(t *testing.T) []clAttack {
				expired := clPayload(t, map[string]any{"sub": "admin", "exp": testNow.Add(-time.Hour).Unix(), "iat": testNow.Add(-2 * time.Hour).Unix(),
					"aud": "https://api.example", "iss": "https://issuer.example"})
				everything := clPayload(t, map[string]any{"sub": "admin", "exp": testNow.Add(-time.Hour).Unix(), "nbf": testNow.Add(time.Hour).Unix(),
					"iat": testNow.Add(time.Hour).Unix(), "aud": "x", "iss": "y"})
				h := `{"alg":"HS256","typ":"JWT"}`
				wrong := []byte("another-secret-another-secret-32")
				good := clHMAC(testSecret, h, expired)
				p := strings.Split(good, ".")
				flipped := []byte(p[2]) // one character changed, still canonical
				flipped[10] = 'A'
				if p[2][10] == 'A' {
					flipped[10] = 'B'
				}
				rsaPolicy := clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
				return []clAttack{
					{name: "control: expired, well signed", tok: good, want: policy.ErrTokenExpired},
					{name: "expired, wrong secret", tok: clHMAC(wrong, h, expired), want: policy.ErrInvalidSignature, not: policy.ErrTokenExpired},
					{name: "expired, altered signature", tok: p[0] + "." + p[1] + "." + string(flipped), want: policy.ErrInvalidSignature, not: policy.ErrTokenExpired},
					{name: "expired, empty signature", tok: p[0] + "." + p[1] + ".", want: policy.ErrInvalidSignature, not: policy.ErrTokenExpired},
					{name: "every claim wrong, wrong secret", tok: clHMAC(wrong, h, everything), want: policy.ErrInvalidSignature, not: policy.ErrTokenExpired},
					{name: "expired, attacker's RSA key", p: rsaPolicy, tok: clSign(t, jose.RS256, rsaKey2Once(), nil, expired), want: policy.ErrInvalidSignature, not: policy.ErrTokenExpired},
				}
			},
		},
		{
			// The header is bounded (2×MaxTokenBytes+256) before it is
			// read, and the token (MaxTokenBytes, default 8192) before it is
			// parsed. See also bounds_test.go for allocations.
			name: "row15-huge-token",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{MasterSecret: testSecret, Schemes: []string{"Bearer"}})
			},
			attacks: func(t *testing.T) []clAttack {
				mb := 1 << 20
				bigHeader := clHMAC(testSecret, `{"alg":"HS256","kid":"`+strings.Repeat("k", mb)+`"}`, clClaims("admin"))
				jwtPolicy := clPolicy(t, policy.Config{MasterSecret: testSecret})
				return []clAttack{
					{name: "Bearer and a megabyte of dots", authz: "Bearer " + strings.Repeat(".", mb), want: policy.ErrTokenTooLarge},
					{name: "Bearer and a megabyte of letters", authz: "Bearer " + strings.Repeat("a", mb), want: policy.ErrTokenTooLarge},
					{name: "a megabyte JWS header", tok: bigHeader, authz: "Bearer " + bigHeader, want: policy.ErrTokenTooLarge},
					{name: "one byte over the cap", authz: "Bearer " + strings.Repeat(".", policy.DefaultMaxTokenBytes+1), want: policy.ErrTokenTooLarge},
					{name: "JWT token= and a megabyte of dots", p: jwtPolicy, authz: "JWT token=" + strings.Repeat(".", mb), want: policy.ErrTokenTooLarge},
					{name: "quoted megabyte", p: jwtPolicy, authz: `JWT token="` + strings.Repeat(".", mb) + `"`, want: policy.ErrTokenTooLarge},
				}
			},
		},
		{
			// numericDate accepts only JSON numbers (anything else is
			// ErrMalformedClaims) and compares them as float64 seconds:
			// 1e300 and 2^64 are far future, not overflowed; negative
			// values are long past. A number beyond float64 (1e400) is
			// refused as malformed, the same for exp, nbf and iat.
			name:   "row16-numeric-dates",
			policy: func(t *testing.T) *policy.JWT { return clPolicy(t, policy.Config{MasterSecret: testSecret}) },
			attacks: func(t *testing.T) []clAttack {
				h := `{"alg":"HS256","typ":"JWT"}`
				tok := func(members string) string { return clHMAC(testSecret, h, `{"sub":"admin",`+members+`}`) }
				var out []clAttack
				for _, c := range []struct {
					members string
					want    error
				}{
					{`"exp":"1700003600"`, policy.ErrMalformedClaims},
					{`"nbf":"1699996400"`, policy.ErrMalformedClaims},
					{`"iat":"1699996400"`, policy.ErrMalformedClaims},
					{`"exp":true`, policy.ErrMalformedClaims},
					{`"exp":null`, policy.ErrMalformedClaims},
					{`"exp":{}`, policy.ErrMalformedClaims},
					{`"exp":[1700003600]`, policy.ErrMalformedClaims},
					{`"exp":1e400`, policy.ErrMalformedClaims},
					{`"nbf":-1e400`, policy.ErrMalformedClaims},
					{`"iat":1e400`, policy.ErrMalformedClaims},
					{`"exp":1700003600.5`, nil},
					{`"exp":1700000000.5`, nil},
					{`"exp":1.7000036e9`, nil},
					{`"exp":1e300`, nil},
					{`"exp":9223372036854775808`, nil},
					{`"exp":18446744073709551616`, nil},
					{`"exp":1699999999.5`, policy.ErrTokenExpired},
					{`"exp":-1`, policy.ErrTokenExpired},
					{`"exp":0`, policy.ErrTokenExpired},
					{`"exp":-0.0`, policy.ErrTokenExpired},
					{`"exp":-1e300`, policy.ErrTokenExpired},
					{`"exp":-9223372036854775809`, policy.ErrTokenExpired},
					{`"nbf":1e300`, policy.ErrTokenNotYetValid},
					{`"nbf":9223372036854775808`, policy.ErrTokenNotYetValid},
					{`"nbf":-1`, nil},
					{`"iat":1e300`, policy.ErrTokenIssuedInFuture},
					{`"iat":-1`, nil},
					{`"iat":-9223372036854775809`, nil},
				} {
					a := clAttack{name: c.members, tok: tok(c.members), want: c.want}
					if c.want == nil {
						a.wantUID = "admin"
					}
					out = append(out, a)
				}
				return out
			},
		},
		{
			// A JWE has five segments and fails canonicalSegments
			// (ErrMalformedToken) before any key is used, even one
			// encrypted to the server's own public key. A nested JWT (cty
			// JWT, RFC 7519 §5.2) signed with the right key is refused by
			// checkHeader as ErrUnsupportedTokenType. RFC 7515 §4.1.10 makes
			// "application/jwt" the same cty, and media types compare
			// case-insensitively, so those spellings must be refused the
			// same way.
			name: "row17-jwe-nested",
			policy: func(t *testing.T) *policy.JWT {
				return clPolicy(t, policy.Config{Algorithm: "RS256", PublicKey: rsaKeyOnce().Public()})
			},
			attacks: func(t *testing.T) []clAttack {
				payload := clClaims("admin")
				jwe := func(alg jose.KeyAlgorithm, enc jose.ContentEncryption) string {
					e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: rsaKeyOnce().Public()}, (&jose.EncrypterOptions{}).WithType("JWT"))
					if err != nil {
						t.Fatal(err)
					}
					o, err := e.Encrypt([]byte(payload))
					if err != nil {
						t.Fatal(err)
					}
					c, err := o.CompactSerialize()
					if err != nil {
						t.Fatal(err)
					}
					if strings.Count(c, ".") != 4 {
						t.Fatalf("test setup: JWE of %d segments", strings.Count(c, ".")+1)
					}
					return c
				}
				inner := clSign(t, jose.RS256, rsaKey2Once(), nil, payload)
				nested := func(cty string) string {
					return clSignBytes(t, jose.RS256, rsaKeyOnce(), map[string]any{"cty": cty}, inner)
				}
				return []clAttack{
					{name: "JWE RSA-OAEP-256 A256GCM to the server key", tok: jwe(jose.RSA_OAEP_256, jose.A256GCM), want: policy.ErrMalformedToken},
					{name: "JWE RSA-OAEP A128CBC-HS256 to the server key", tok: jwe(jose.RSA_OAEP, jose.A128CBC_HS256), want: policy.ErrMalformedToken},
					{name: "nested cty JWT", tok: nested("JWT"), want: policy.ErrUnsupportedTokenType},
					{name: "nested cty jwt", tok: nested("jwt"), want: policy.ErrUnsupportedTokenType},
					{name: "nested cty Jwt", tok: nested("Jwt"), want: policy.ErrUnsupportedTokenType},
					{name: "nested cty application/jwt", tok: nested("application/jwt"), want: policy.ErrUnsupportedTokenType},
					{name: "nested cty application/JWT", tok: nested("application/JWT"), want: policy.ErrUnsupportedTokenType},
				}
			},
		},
	}
	if len(rows) != 17 {
		t.Fatalf("the checklist has 17 rows; the table has %d", len(rows))
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if row.config != nil {
				t.Run("config", row.config)
			}
			if row.attacks == nil {
				return
			}
			def := row.policy(t)
			for _, a := range row.attacks(t) {
				t.Run(a.name, func(t *testing.T) {
					p := def
					if a.p != nil {
						p = a.p
					}
					clRun(t, p, a)
				})
			}
		})
	}
}

// checklistRow is one row of the verifier checklist.
type checklistRow struct {
	name    string
	policy  func(t *testing.T) *policy.JWT // the row's policy
	attacks func(t *testing.T) []clAttack  // the row's tokens
	config  func(t *testing.T)             // configuration-time checks
}

// clAttack is one request presented to a row's policy.
type clAttack struct {
	name  string
	p     *policy.JWT // nil: the row's policy
	tok   string      // the token (for the leak check)
	authz string      // the Authorization header; "": "JWT token=" + tok
	// want is the reason the token must fail with (alt, when set, is
	// accepted too); nil means it must verify, to wantUID.
	want, alt error
	not       error // a reason the error must not match
	wantUID   string
}

// clRun presents a to p and checks the outcome and the challenge.
func clRun(t *testing.T, p *policy.JWT, a clAttack) {
	t.Helper()
	authz := a.authz
	if authz == "" {
		authz = "JWT token=" + a.tok
	}
	r := newRequest(authz)
	uid, err := p.AuthenticatedUserID(r)
	if a.want == nil {
		if err != nil || uid != a.wantUID {
			t.Fatalf("AuthenticatedUserID = %q, %v; want %q, nil", uid, err, a.wantUID)
		}
		return
	}
	if !errors.Is(err, policy.ErrInvalidCredentials) {
		t.Fatalf("AuthenticatedUserID = %q, %v; want ErrInvalidCredentials", uid, clShort(err))
	}
	if !errors.Is(err, a.want) && (a.alt == nil || !errors.Is(err, a.alt)) {
		if a.alt != nil {
			t.Errorf("err = %v; want reason %q or %q", clShort(err), a.want, a.alt)
		} else {
			t.Errorf("err = %v; want reason %q", clShort(err), a.want)
		}
	}
	if a.not != nil && errors.Is(err, a.not) {
		t.Errorf("err = %v matches %q", clShort(err), a.not)
	}

	rec := httptest.NewRecorder()
	p.Challenge(rec, r)
	status, code := http.StatusUnauthorized, `error="invalid_token"`
	if errors.Is(err, policy.ErrMalformedHeader) {
		status, code = http.StatusBadRequest, `error="invalid_request"`
	}
	if rec.Code != status {
		t.Errorf("Challenge status = %d, want %d", rec.Code, status)
	}
	www := rec.Header().Values("WWW-Authenticate")
	if len(www) != 1 || !strings.Contains(www[0], code) || !strings.HasPrefix(www[0], p.Scheme()+" ") {
		t.Errorf("WWW-Authenticate = %q, want one %s challenge with %s", www, p.Scheme(), code)
	}
	tok := a.tok
	if tok == "" {
		tok = authz[strings.IndexByte(authz, ' ')+1:]
	}
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		if sig := tok[i+1:]; len(sig) >= 8 {
			all := strings.Join(www, "\n") + "\n" + rec.Body.String()
			for _, vs := range rec.Header() {
				all += "\n" + strings.Join(vs, "\n")
			}
			if strings.Contains(all, sig) {
				t.Errorf("the challenge holds the token's signature segment")
			}
		}
	}
}

// clShort keeps error messages of huge tokens readable.
func clShort(err error) string {
	if err == nil {
		return "<nil>"
	}
	if s := err.Error(); len(s) > 300 {
		return s[:300] + "…"
	}
	return err.Error()
}

// clPolicy builds a policy from cfg with the fixed clock and a discard
// logger.
func clPolicy(t *testing.T, cfg policy.Config) *policy.JWT {
	t.Helper()
	cfg.Now, cfg.Logger = clock, discard
	p, err := policy.NewJWT(cfg)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return p
}

// clWantConfigError checks err is a ConfigError for key whose message
// names mention (when set).
func clWantConfigError(t *testing.T, err error, key, mention string) {
	t.Helper()
	var ce *policy.ConfigError
	switch {
	case err == nil:
		t.Errorf("NewJWT succeeded; want a ConfigError for %s", key)
	case !errors.Is(err, policy.ErrConfig) || !errors.As(err, &ce):
		t.Errorf("NewJWT: %v; want a ConfigError", err)
	case ce.Key != key:
		t.Errorf("NewJWT: ConfigError for %q (%v); want %q", ce.Key, err, key)
	case mention != "" && !strings.Contains(err.Error(), mention):
		t.Errorf("NewJWT: %v; want a message naming %s", err, mention)
	}
}

// clClaims is a valid payload for sub at testNow.
func clClaims(sub string) string {
	return `{"sub":"` + sub + `","iat":` + clItoa(testNow.Unix()) + `,"exp":` + clItoa(testNow.Add(time.Hour).Unix()) + `}`
}

func clItoa(n int64) string { return strconv.FormatInt(n, 10) }

func clPayload(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clHMAC signs the JSON header and payload, as given, with HMAC-SHA256.
func clHMAC(key []byte, header, payload string) string {
	return clHMACSegments(key, b64(header), b64(payload))
}

// clHMACSegments signs two already encoded segments with HMAC-SHA256.
func clHMACSegments(key []byte, header, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// clSign signs payload with go-jose, with extra protected header members.
func clSign(t *testing.T, alg jose.SignatureAlgorithm, key any, hdr map[string]any, payload string) string {
	t.Helper()
	return clSignBytes(t, alg, key, hdr, payload)
}

func clSignBytes(t *testing.T, alg jose.SignatureAlgorithm, key any, hdr map[string]any, payload string) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range hdr {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", alg, err)
	}
	j, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	c, err := j.CompactSerialize()
	if err != nil {
		t.Fatalf("CompactSerialize: %v", err)
	}
	return c
}

// clRelabel replaces tok's header, keeping its payload and signature.
func clRelabel(t *testing.T, tok, header string) string {
	t.Helper()
	p := strings.Split(tok, ".")
	return b64(header) + "." + p[1] + "." + p[2]
}

// clSigBytes replaces the signature of the split token p.
func clSigBytes(p []string, sig []byte) string {
	return p[0] + "." + p[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// clHeaderOf decodes tok's header.
func clHeaderOf(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clFlattened is the flattened JSON serialization of the split token p.
func clFlattened(p []string) string {
	return `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`
}

// clQuoted is "<scheme> token=<quoted-string>" with backslash escapes.
func clQuoted(scheme, s string) string {
	return scheme + ` token="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

const base64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// clTrailingBits respells seg with a non-zero unused bit: the same bytes,
// a non-canonical spelling. ok is false when seg has no unused bits.
func clTrailingBits(seg string) (string, bool) {
	if len(seg)%4 == 0 {
		return "", false
	}
	last := strings.IndexByte(base64URLChars, seg[len(seg)-1])
	bad := seg[:len(seg)-1] + string(base64URLChars[last|1])
	b1, err1 := base64.RawURLEncoding.DecodeString(seg)
	b2, err2 := base64.RawURLEncoding.DecodeString(bad)
	if err1 != nil || err2 != nil || string(b1) != string(b2) || bad == seg {
		return "", false
	}
	return bad, true
}

// clPublicKeyTexts are the spellings of pub an attacker would try as an
// HMAC secret: PEM (PKIX, and PKCS #1 for RSA), with and without the final
// newline, DER, and JWK JSON.
func clPublicKeyTexts(t *testing.T, pub crypto.PublicKey) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"DER": der}
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	out["PEM"] = pemText
	out["PEM without newline"] = []byte(strings.TrimSuffix(string(pemText), "\n"))
	if k, ok := pub.(*rsa.PublicKey); ok {
		out["PKCS1 PEM"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k)})
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	out["JWK"] = jwk
	return out
}

// clSelfSigned is a self-signed certificate (DER) for key.
func clSelfSigned(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	return testkit.SelfSigned(t, key, "issuer.example", testNow.Add(-time.Hour), testNow.Add(time.Hour))
}

// TestTokenType covers row 13's "where configured, typ": with token_type
// set, an ID token or any other JWT signed by the same key is refused.
func TestTokenType(t *testing.T) {
	p := newPolicy(t, func(c *policy.Config) { c.TokenType = "at+jwt" })
	mintTyped := func(typ string) string {
		opts := &jose.SignerOptions{}
		if typ != "" {
			opts = opts.WithType(jose.ContentType(typ))
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return testkit.MintSigned(t, signer, validClaims("alice"))
	}
	for _, tt := range []struct {
		typ  string
		want error
	}{
		{"at+jwt", nil},
		{"AT+JWT", nil},
		{"application/at+jwt", nil},
		{"JWT", policy.ErrWrongTokenType},
		{"", policy.ErrWrongTokenType},
		{"id+jwt", policy.ErrWrongTokenType},
	} {
		t.Run("typ="+tt.typ, func(t *testing.T) {
			r := newRequest(jwtAuth(mintTyped(tt.typ)))
			_, err := p.AuthenticatedUserID(r)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			if tt.want != nil {
				rec := httptest.NewRecorder()
				p.Challenge(rec, r)
				if !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("challenge %q lacks invalid_token", rec.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Without the setting, typ is not looked at.
	if _, err := newPolicy(t, nil).AuthenticatedUserID(newRequest(jwtAuth(mintTyped("id+jwt")))); err != nil {
		t.Fatalf("without token_type: %v", err)
	}
}
