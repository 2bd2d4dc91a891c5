package main

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/oidctest"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// TestRunProviderTokens: the example server, configured by a -config file
// as an OAuth 2 resource server of a real identity provider (Node's
// oidc-provider: its discovery document and key set, RFC 9068 access
// tokens, scopes as principals, DPoP required), serves the provider's
// DPoP-bound tokens and refuses what RFC 9449 says to refuse. The proofs
// the example checks are minted with go-jose (testkit); the token
// request's proofs are dpop.Prover's, which the provider verifies, and a
// last request is made with Prover.Attach, as a Go client would.
func TestRunProviderTokens(t *testing.T) {
	prov := oidctest.Start(t, oidctest.Options{})
	key := testkit.NewDPoPKey(t)
	prover, err := dpop.NewProver(key.Key, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	proveToProvider := func(method, url, nonce string) string {
		p, err := prover.Proof(method, url, "", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	writer, typ := prov.Token(t, "articles:read articles:write", proveToProvider)
	if typ != "DPoP" {
		t.Fatalf("the provider's token_type %q; want DPoP", typ)
	}
	reader, _ := prov.Token(t, "articles:read", proveToProvider)
	bearer := prov.BearerToken(t, "articles:read articles:write")

	r := startRun(t, "-config", writeINI(t,
		"jwtauth.oidc_issuer = "+prov.Issuer(),
		"jwtauth.audience = "+prov.Audience(),
		"jwtauth.algorithms = ES256",
		"jwtauth.scheme = Bearer",
		"jwtauth.jwks_required_at_start = true",
		"jwtauth.profile = rfc9068",
		"jwtauth.scope_principals = true",
		"jwtauth.dpop = required",
	), "-addr", "127.0.0.1:0")
	withDPoP := func(token, proof string) func(*http.Request) {
		return func(req *http.Request) {
			req.Header.Set("Authorization", "DPoP "+token)
			if proof != "" {
				req.Header.Set("DPoP", proof)
			}
		}
	}
	article := r.base + "/articles/1"

	proof := key.Proof(t, http.MethodPut, article, writer, "")
	if got := doWith(t, http.MethodPut, article, withDPoP(writer, proof), ""); got.status != http.StatusOK {
		t.Fatalf("PUT with the provider's articles:write token and a proof: %d %q %s", got.status, got.header.Values("WWW-Authenticate"), got.raw)
	}
	got := doWith(t, http.MethodPut, article, withDPoP(writer, proof), "")
	if got.status != http.StatusUnauthorized || !hasChallenge(got.header, `DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_dpop_proof"`) {
		t.Errorf("the same proof again: %d %q; want 401 invalid_dpop_proof", got.status, got.header.Values("WWW-Authenticate"))
	}
	got = doWith(t, http.MethodPut, article, withDPoP(reader, key.Proof(t, http.MethodPut, article, reader, "")), "")
	if got.status != http.StatusForbidden || !hasChallenge(got.header, `scope="articles:write"`) {
		t.Errorf("PUT with articles:read: %d %q; want 403 naming scope articles:write", got.status, got.header.Values("WWW-Authenticate"))
	}
	if got := doWith(t, http.MethodGet, article, withDPoP(writer, ""), ""); got.status != http.StatusUnauthorized {
		t.Errorf("a bound token without a proof: %d", got.status)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", "", ""); got.status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", got.status)
	}
	bearerAuth := func(tok string) func(*http.Request) {
		return func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+tok) }
	}
	if got := doWith(t, http.MethodGet, r.base+"/auth", bearerAuth(writer), ""); got.status != http.StatusUnauthorized {
		t.Errorf("a DPoP-bound token as a bearer token: %d", got.status)
	}
	if got := doWith(t, http.MethodGet, r.base+"/auth", bearerAuth(bearer), ""); got.status != http.StatusUnauthorized {
		t.Errorf("an unbound token with dpop = required: %d", got.status)
	}
	other := testkit.NewDPoPKey(t)
	if got := doWith(t, http.MethodGet, r.base+"/auth", withDPoP(writer, other.Proof(t, http.MethodGet, r.base+"/auth", writer, "")), ""); got.status != http.StatusUnauthorized {
		t.Errorf("a proof of another key: %d", got.status)
	}

	// A Go client: Prover.Attach sets the scheme, the token and a fresh
	// proof.
	got = doWith(t, http.MethodGet, r.base+"/groups", func(req *http.Request) {
		if err := prover.Attach(req, writer, ""); err != nil {
			t.Fatal(err)
		}
	}, "")
	principals, _ := got.body.(map[string]any)["principals"].([]any)
	if got.status != http.StatusOK || len(principals) < 3 ||
		!reflect.DeepEqual(principals[1:], strs(policy.Everyone, policy.Authenticated, "scope:articles:read", "scope:articles:write")) {
		t.Errorf("GET /groups with Prover.Attach: %d %s", got.status, got.raw)
	}
}

// hasChallenge tells whether a WWW-Authenticate value of h contains want.
func hasChallenge(h http.Header, want string) bool {
	return slices.ContainsFunc(h.Values("WWW-Authenticate"), func(v string) bool { return strings.Contains(v, want) })
}

// TestRunProfileLogin: under jwtauth.profile = rfc9068, the tokens the
// example's POST /login makes meet the profile (typ at+jwt, client_id,
// jti, iss, aud), so that the example serves its own tokens too.
func TestRunProfileLogin(t *testing.T) {
	r := startRun(t, "-config", writeINI(t,
		"multiauth.policies = api users",
		"multiauth.policy.api.use = jwt",
		"multiauth.policy.api.master_secret = "+testSecret,
		"multiauth.policy.api.issuer = https://example.test",
		"multiauth.policy.api.audience = https://example.test/api",
		"multiauth.policy.api.profile = rfc9068",
		"multiauth.policy.users.use = basic",
		"multiauth.policy.users.check = "+BasicCheckName,
		"multiauth.groupfinder = "+GroupFinderName,
	), "-demo-users", "-addr", "127.0.0.1:0")
	got := postLogin(t, r.base, `{"username":"alice","password":"alice"}`)
	tok, _ := got.body.(map[string]any)["token"].(string)
	if got.status != http.StatusOK || tok == "" {
		t.Fatalf("POST /login: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", tok, ""); got.status != http.StatusOK {
		t.Errorf("GET /auth with the profile's own token: %d %s", got.status, got.raw)
	}
	// The token is one of the profile: without client_id it would not be.
	claims := testkit.UnverifiedClaims(t, tok)
	for _, c := range []string{"client_id", "jti", "iss", "aud", "sub", "iat", "exp"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("the login's token lacks %s: %v", c, claims)
		}
	}
}
