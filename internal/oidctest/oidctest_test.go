package oidctest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/oidctest"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/internal/testproc"
)

// dpopKey is a client's DPoP key, whose proofs (testkit's, made with
// go-jose directly) it records the nonces of.
type dpopKey struct {
	t *testing.T
	testkit.DPoPKey

	mu     sync.Mutex
	nonces []string // the nonce of each proof made, in order
}

func newDPoPKey(t *testing.T) *dpopKey {
	t.Helper()
	return &dpopKey{t: t, DPoPKey: testkit.NewDPoPKey(t)}
}

// proof is an oidctest.ProofFunc.
func (k *dpopKey) proof(method, url, nonce string) string {
	return k.proofWith(method, url, nonce, time.Now())
}

func (k *dpopKey) proofWith(method, url, nonce string, iat time.Time) string {
	k.mu.Lock()
	k.nonces = append(k.nonces, nonce)
	k.mu.Unlock()
	return k.ProofWith(k.t, method, url, "", nonce, iat, "", nil)
}

// accessClaims are the claims of the provider's access tokens.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Jti      string `json:"jti"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	Cnf      *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// verify checks the token's signature with go-jose against the provider's
// JWKS, fetched with net/http, and its typ, and returns its claims.
func verify(t *testing.T, p *oidctest.Provider, token string) accessClaims {
	t.Helper()
	resp, err := http.Get(p.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", p.JWKSURL(), resp.Status, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("the JWKS: %v in %s", err, body)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("the JWKS has a private key: %s", body)
		}
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(p.Alg())})
	if err != nil {
		t.Fatalf("parsing the access token: %v", err)
	}
	h := jws.Signatures[0].Protected
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		t.Errorf("typ = %v; want at+jwt", typ)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys of kid %q: %s", len(keys), h.KeyID, body)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verifying the access token with the JWKS: %v", err)
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("the claims: %v in %s", err, payload)
	}
	return c
}

// checkClaims checks what every token of p has.
func checkClaims(t *testing.T, p *oidctest.Provider, c accessClaims, scope string) {
	t.Helper()
	if c.Iss != p.Issuer() || c.Aud != p.Audience() || c.ClientID != p.ClientID() || c.Sub != p.ClientID() {
		t.Errorf("iss, aud, client_id, sub = %q, %q, %q, %q; want %q, %q, %q, %[7]q", c.Iss, c.Aud, c.ClientID, c.Sub, p.Issuer(), p.Audience(), p.ClientID())
	}
	if c.Scope != scope {
		t.Errorf("scope = %q; want %q", c.Scope, scope)
	}
	if len(c.Jti) < 16 {
		t.Errorf("jti = %q; want a random one", c.Jti)
	}
	if now := time.Now().Unix(); c.Iat < now-60 || c.Iat > now+5 {
		t.Errorf("iat = %d; now is %d", c.Iat, now)
	}
	if c.Exp-c.Iat != int64(oidctest.DefaultTokenTTL/time.Second) {
		t.Errorf("exp - iat = %d; want %v", c.Exp-c.Iat, oidctest.DefaultTokenTTL)
	}
}

// TestTokens: a token requested with a DPoP proof is a DPoP token whose
// cnf.jkt is the thumbprint of the proof's key; one requested without is a
// Bearer token without cnf. Both are RFC 9068 JWTs signed with the key of
// the provider's JWKS.
func TestTokens(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.Options{})
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") || p.Audience() != oidctest.DefaultResource || p.ClientID() != oidctest.DefaultClientID {
		t.Fatalf("Issuer, Audience, ClientID = %q, %q, %q", p.Issuer(), p.Audience(), p.ClientID())
	}

	k := newDPoPKey(t)
	tok, typ := p.Token(t, "articles:read articles:write", k.proof)
	if typ != "DPoP" {
		t.Errorf("token_type with a proof = %q; want DPoP", typ)
	}
	c := verify(t, p, tok)
	checkClaims(t, p, c, "articles:read articles:write")
	if c.Cnf == nil || c.Cnf.JKT != k.JKT {
		t.Errorf("cnf = %+v; want jkt %s", c.Cnf, k.JKT)
	}

	bearer := p.BearerToken(t, "articles:read")
	c = verify(t, p, bearer)
	checkClaims(t, p, c, "articles:read")
	if c.Cnf != nil {
		t.Errorf("a Bearer token has cnf %+v", c.Cnf)
	}

	// A scope the resource server does not have is left out; no scope at
	// all is a token without one.
	c = verify(t, p, p.BearerToken(t, "articles:read articles:delete"))
	checkClaims(t, p, c, "articles:read")
	c = verify(t, p, p.BearerToken(t, ""))
	checkClaims(t, p, c, "")
}

// TestRefusedProof: the provider checks the proofs the harness passes on.
func TestRefusedProof(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.Options{})
	k := newDPoPKey(t)
	for _, c := range []struct {
		what  string
		proof oidctest.ProofFunc
	}{
		{"another htu", func(method, _, nonce string) string {
			return k.proof(method, p.Issuer()+"/elsewhere", nonce)
		}},
		{"another htm", func(_, url, nonce string) string { return k.proof(http.MethodGet, url, nonce) }},
		{"an iat an hour ago", func(method, url, nonce string) string {
			return k.proofWith(method, url, nonce, time.Now().Add(-time.Hour))
		}},
		{"no JWS", func(string, string, string) string { return "not.a.jws" }},
	} {
		_, err := p.Request("articles:read", c.proof)
		var te *oidctest.TokenError
		if !errors.As(err, &te) || te.Status != http.StatusBadRequest || te.Code != "invalid_dpop_proof" {
			t.Errorf("%s: err = %v; want 400 invalid_dpop_proof", c.what, err)
		}
	}
}

// TestDPoPNonce: when the provider requires nonces, Token retries with the
// one it is given, and the token is bound all the same.
func TestDPoPNonce(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.Options{RequireDPoPNonce: true})
	k := newDPoPKey(t)
	r, err := p.Request("articles:write", k.proof)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.nonces) != 2 || k.nonces[0] != "" || k.nonces[1] == "" || r.Nonce != k.nonces[1] {
		t.Errorf("proofs' nonces %q, response's %q; want none, then the provider's", k.nonces, r.Nonce)
	}
	if r.TokenType != "DPoP" || r.Scope != "articles:write" || r.ExpiresIn != int(oidctest.DefaultTokenTTL/time.Second) {
		t.Errorf("response %+v", r)
	}
	c := verify(t, p, r.AccessToken)
	checkClaims(t, p, c, "articles:write")
	if c.Cnf == nil || c.Cnf.JKT != k.JKT {
		t.Errorf("cnf = %+v; want jkt %s", c.Cnf, k.JKT)
	}
}

// TestOptions: the other signing algorithms, and a client and resource of
// the test's own.
func TestOptions(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			p := oidctest.Start(t, oidctest.Options{
				Alg: alg, ClientID: "client " + alg, ClientSecret: "s3cret:+&/" + alg,
				Resource: "https://" + strings.ToLower(alg) + ".example.test/api", Scopes: "read write",
			})
			k := newDPoPKey(t)
			tok, typ := p.Token(t, "write", k.proof)
			c := verify(t, p, tok)
			checkClaims(t, p, c, "write")
			if typ != "DPoP" || c.Cnf == nil || c.Cnf.JKT != k.JKT {
				t.Errorf("token_type %q, cnf %+v; want DPoP, jkt %s", typ, c.Cnf, k.JKT)
			}
		})
	}
}

// TestStop: Stop ends the process (and its group); the provider no longer
// answers.
func TestStop(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.Options{})
	pid := p.PID()
	if !p.Running() || pid == 0 {
		t.Fatalf("Running, PID = %v, %d after Start", p.Running(), pid)
	}
	p.Stop()
	if p.Running() || p.PID() != 0 {
		t.Errorf("Running, PID = %v, %d after Stop", p.Running(), p.PID())
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop: %v; want ESRCH", pid, err)
	}
	if _, err := p.Request("", nil); err == nil {
		t.Error("a token request after Stop succeeded")
	}
	p.Stop() // again: nothing
}

// TestMissingNode runs this test binary again with NODE naming no file:
// Start fails the test and names the script, or skips it with
// JWTAUTHTEST_SKIP_OIDC=1.
func TestMissingNode(t *testing.T) {
	if os.Getenv("OIDCTEST_CHILD") == "1" {
		oidctest.Start(t, oidctest.Options{})
		t.Fatal("Start returned without node")
	}
	t.Parallel()
	run := func(skip string) (string, error) {
		return testproc.RerunTest("TestMissingNode", "OIDCTEST_CHILD=1", oidctest.NodeEnv+"=/nonexistent/node", oidctest.SkipEnv+"="+skip)
	}
	out, err := run("")
	if err == nil || !strings.Contains(out, "scripts/ensure-oidc-provider.sh") || !strings.Contains(out, "--- FAIL: TestMissingNode") {
		t.Errorf("without node: err = %v, output:\n%s", err, out)
	}
	out, err = run("1")
	if err != nil || !strings.Contains(out, "--- SKIP: TestMissingNode") {
		t.Errorf("with %s=1: err = %v, output:\n%s", oidctest.SkipEnv, err, out)
	}
}
