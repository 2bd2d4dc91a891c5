package settings_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// idp is an identity provider on a loopback address over http: discovery
// and the key set of its keys.
type idp struct {
	srv  *httptest.Server
	keys []jose.JSONWebKey // private, with their kid and alg
	hits atomic.Int64
}

func newIDP(t *testing.T, keys ...jose.JSONWebKey) *idp {
	p := &idp{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		w.Write(testkit.PublicJWKS(t, p.keys...))
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// jwk is test key i as a private JWK with kid.
func jwk(i int, kid string) jose.JSONWebKey {
	k := testKeys()[i]
	return jose.JSONWebKey{Key: k.signer, KeyID: kid, Algorithm: k.alg}
}

// tokenOf is a token of alice from iss, signed by k under its kid.
func tokenOf(t *testing.T, k jose.JSONWebKey, iss string) string {
	t.Helper()
	c := fresh("alice")
	c.Issuer = iss
	return mint(t, k.Algorithm, k, c)
}

// downURL is a loopback URL where nothing listens: port 1 (tcpmux), not a
// port just freed, which another test binary running beside this one
// could take.
const downURL = "http://127.0.0.1:1"

func TestJWKSOIDCIssuers(t *testing.T) {
	a, b := jwk(0, "key-a"), jwk(1, "key-b")
	idpA, idpB := newIDP(t, a), newIDP(t, b)
	m := map[string]string{
		"jwtauth.oidc_issuer":      idpA.srv.URL + ", \n" + idpB.srv.URL,
		"jwtauth.jwks_refresh":     "600",
		"jwtauth.jwks_min_refresh": "30",
		"jwtauth.jwks_timeout":     "5",
		"jwtauth.scheme":           "Bearer",
	}
	parsed, err := settings.Parse(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	specs := parsed.KeySets
	if len(specs) != 2 || specs[0].Issuer != idpA.srv.URL || specs[1].Issuer != idpB.srv.URL || specs[1].Location != idpB.srv.URL || specs[0].Source != settings.OIDCIssuer {
		t.Fatalf("key sets %+v", specs)
	}
	if o := specs[0].Options; o.Refresh != 600*time.Second || o.MinRefresh != 30*time.Second || o.Timeout != 5*time.Second {
		t.Errorf("options %+v", o)
	}
	if parsed.Config.Issuer != "" || parsed.Config.KeySets != nil {
		t.Errorf("Issuer = %q, KeySets %v; want them unset: each set checks its own issuer, and Parse builds none", parsed.Config.Issuer, parsed.Config.KeySets)
	}
	if n := idpA.hits.Load() + idpB.hits.Load(); n != 0 {
		t.Fatalf("Parse made %d requests; it does no network I/O", n)
	}

	p := mustPolicy(t, m)
	defer p.Close()
	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"issuer A", tokenOf(t, a, idpA.srv.URL), nil},
		{"issuer B", tokenOf(t, b, idpB.srv.URL), nil},
		{"issuer A, key B", tokenOf(t, b, idpA.srv.URL), policy.ErrNoKey},
		{"another issuer", tokenOf(t, a, "https://idp.example"), policy.ErrUnknownIssuer},
		{"no issuer", tokenOf(t, a, ""), policy.ErrUnknownIssuer},
	} {
		uid, err := authenticate(p, tc.tok)
		switch {
		case tc.want == nil && (err != nil || uid != "alice"):
			t.Errorf("%s: %q, %v", tc.name, uid, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestJWKSURLAndFile(t *testing.T) {
	a := jwk(1, "key-a")
	provider := newIDP(t, a)
	path := writeFile(t, "jwks.json", testkit.PublicJWKS(t, a))
	for _, source := range []map[string]string{
		{"jwtauth.jwks_url": provider.srv.URL + "/jwks"},
		{"jwtauth.jwks_file": path},
	} {
		// Without jwtauth.issuer, tokens of any issuer.
		p := mustPolicy(t, source)
		for _, iss := range []string{"", "https://idp.example"} {
			if uid, err := authenticate(p, tokenOf(t, a, iss)); err != nil || uid != "alice" {
				t.Errorf("%v, iss %q: %q, %v", source, iss, uid, err)
			}
		}
		p.Close()

		// With it, those of that issuer only.
		m := map[string]string{"jwtauth.issuer": "https://idp.example"}
		for k, v := range source {
			m[k] = v
		}
		p = mustPolicy(t, m)
		if _, err := authenticate(p, tokenOf(t, a, "https://idp.example")); err != nil {
			t.Errorf("%v: %v", m, err)
		}
		if _, err := authenticate(p, tokenOf(t, a, "https://other.example")); !errors.Is(err, policy.ErrUnknownIssuer) {
			t.Errorf("%v, another issuer: %v", m, err)
		}
		p.Close()
	}

	// The one OIDC issuer may be jwtauth.issuer too.
	o := newIDP(t, a)
	p := mustPolicy(t, map[string]string{"jwtauth.oidc_issuer": o.srv.URL, "jwtauth.issuer": o.srv.URL})
	if _, err := authenticate(p, tokenOf(t, a, o.srv.URL)); err != nil {
		t.Error(err)
	}
	p.Close()

	// The algorithms setting narrows the keys of the set.
	p = mustPolicy(t, map[string]string{"jwtauth.jwks_url": provider.srv.URL + "/jwks", "jwtauth.algorithms": "RS256"})
	if _, err := authenticate(p, tokenOf(t, a, "")); !errors.Is(err, policy.ErrAlgorithmNotAllowed) {
		t.Errorf("ES256 with algorithms = RS256: %v", err)
	}
	p.Close()
}

// No set fetched: the policy starts, and refuses tokens with the 401
// challenge, unless jwks_required_at_start.
func TestJWKSNotFetchedAtStart(t *testing.T) {
	a := jwk(2, "key-a")
	down := downURL
	p := mustPolicy(t, map[string]string{"jwtauth.jwks_url": down + "/jwks", "jwtauth.jwks_timeout": "2"})
	defer p.Close()
	r := request("JWT", tokenOf(t, a, ""))
	if _, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrNoKey) {
		t.Errorf("AuthenticatedUserID: %v, want ErrNoKey", err)
	}
	w := httptest.NewRecorder()
	p.Challenge(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("challenge: %d, want 401", w.Code)
	}

	for _, m := range []map[string]string{
		{"jwtauth.jwks_url": down + "/jwks"},
		{"jwtauth.oidc_issuer": down},
	} {
		var key string
		for k := range m {
			key = k
		}
		m["jwtauth.jwks_required_at_start"] = "true"
		_, err := settings.NewPolicy(m, nil, nil)
		msg := settingsError(t, err, key, settings.ErrBadValue)
		if !strings.Contains(msg, "refused") {
			t.Errorf("error %q does not say why", msg)
		}
	}
}

func TestJWKSSettingErrors(t *testing.T) {
	good := newIDP(t, jwk(1, "key-a"))
	url := good.srv.URL + "/jwks"
	path := writeFile(t, "jwks.json", testkit.PublicJWKS(t, jwk(1, "key-a")))
	hmacKey := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
	hmacFile := writeFile(t, "hmac.json", []byte(`{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"`+hmacKey+`"}]}`))
	for _, tc := range []struct {
		m   map[string]string
		key string
	}{
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_refresh": "0"}, "jwtauth.jwks_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_refresh": "-5"}, "jwtauth.jwks_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_refresh": "1.5"}, "jwtauth.jwks_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_timeout": "0"}, "jwtauth.jwks_timeout"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_min_refresh": "abc"}, "jwtauth.jwks_min_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_min_refresh": "120", "jwtauth.jwks_refresh": "60"}, "jwtauth.jwks_min_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_min_refresh": "7200"}, "jwtauth.jwks_min_refresh"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_allow_http": "maybe"}, "jwtauth.jwks_allow_http"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_required_at_start": "sure"}, "jwtauth.jwks_required_at_start"},
		{map[string]string{"jwtauth.master_secret": secret, "jwtauth.jwks_refresh": "60"}, "jwtauth.jwks_refresh"},
		{map[string]string{"jwtauth.jwks_allow_http": "true"}, "jwtauth.jwks_allow_http"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.jwks_file": path}, "jwtauth.jwks_url"},
		{map[string]string{"jwtauth.oidc_issuer": " , "}, "jwtauth.oidc_issuer"},
		{map[string]string{"jwtauth.oidc_issuer": good.srv.URL + " " + good.srv.URL}, "jwtauth.oidc_issuer"},
		{map[string]string{"jwtauth.oidc_issuer": good.srv.URL, "jwtauth.issuer": "https://other.example"}, "jwtauth.issuer"},
		{map[string]string{"jwtauth.oidc_issuer": good.srv.URL + " https://b.example", "jwtauth.issuer": good.srv.URL}, "jwtauth.issuer"},
		{map[string]string{"jwtauth.oidc_issuer": good.srv.URL, "jwtauth.issuer": good.srv.URL, "jwtauth.jwks_url": url}, "jwtauth.jwks_url"},
		{map[string]string{"jwtauth.jwks_url": "http://idp.example/jwks"}, "jwtauth.jwks_url"},
		{map[string]string{"jwtauth.jwks_url": "not a url"}, "jwtauth.jwks_url"},
		{map[string]string{"jwtauth.oidc_issuer": "http://idp.example"}, "jwtauth.oidc_issuer"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.algorithm": "HS256"}, "jwtauth.algorithm"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.algorithms": "RS256 HS512"}, "jwtauth.algorithms"},
	} {
		hits := good.hits.Load()
		_, err := settings.Parse(tc.m, nil)
		msg := settingsError(t, err, tc.key, settings.ErrBadValue)
		if strings.Contains(msg, hmacKey) {
			t.Errorf("error %q holds key material", msg)
		}
		_, err = settings.NewPolicy(tc.m, nil, nil)
		settingsError(t, err, tc.key, settings.ErrBadValue)
		if good.hits.Load() != hits {
			t.Errorf("%v: a fetch for settings that fail", tc.m)
		}
	}

	// Errors only building the sets can find: Parse reads no key set and
	// fetches nothing; NewPolicy names the setting, and a later source that
	// fails closes the ones built before it.
	for _, tc := range []struct {
		m   map[string]string
		key string
	}{
		{map[string]string{"jwtauth.jwks_file": path + ".missing"}, "jwtauth.jwks_file"},
		{map[string]string{"jwtauth.jwks_file": hmacFile}, "jwtauth.jwks_file"},
		{map[string]string{"jwtauth.jwks_url": url, "jwtauth.oidc_issuer": downURL, "jwtauth.jwks_required_at_start": "1"}, "jwtauth.oidc_issuer"},
	} {
		hits := good.hits.Load()
		if _, err := settings.Parse(tc.m, nil); err != nil {
			t.Errorf("Parse(%v): %v", tc.m, err)
		}
		if good.hits.Load() != hits {
			t.Errorf("Parse(%v) fetched", tc.m)
		}
		_, err := settings.NewPolicy(tc.m, nil, nil)
		if msg := settingsError(t, err, tc.key, settings.ErrBadValue); strings.Contains(msg, hmacKey) {
			t.Errorf("error %q holds key material", msg)
		}
	}

	// The static keys are not combined with a key set: Parse says so,
	// before anything is fetched.
	for _, k := range []string{"master_secret", "public_key", "public_key_file"} {
		m := map[string]string{"jwtauth.jwks_url": url, "jwtauth." + k: secret}
		switch k {
		case "public_key":
			m["jwtauth."+k] = string(publicPEMs(t, testKeys()[1])[0].pem)
		case "public_key_file":
			m["jwtauth."+k] = writeFile(t, "public.pem", publicPEMs(t, testKeys()[1])[0].pem)
		}
		hits := good.hits.Load()
		_, err := settings.Parse(m, nil)
		noKeyMaterial(t, settingsError(t, err, "jwtauth."+k, settings.ErrBadValue))
		_, err = settings.NewPolicy(m, nil, nil)
		noKeyMaterial(t, settingsError(t, err, "jwtauth."+k, settings.ErrBadValue))
		if good.hits.Load() != hits {
			t.Errorf("%s beside a key set: fetched", k)
		}
	}
}

func TestJWKSEmptyValuesUnset(t *testing.T) {
	m := withSecret(map[string]string{})
	for _, k := range []string{"jwks_file", "jwks_url", "oidc_issuer", "jwks_refresh", "jwks_min_refresh", "jwks_timeout", "jwks_allow_http", "jwks_required_at_start"} {
		m[settings.Prefix+k] = " "
	}
	p, err := settings.Parse(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.KeySets != nil || p.Config.KeySets != nil {
		t.Errorf("key sets %v, %v", p.KeySets, p.Config.KeySets)
	}
}

// The key sets log through the logger given to NewPolicy, never through
// slog.Default() behind the caller's back.
func TestJWKSLogger(t *testing.T) {
	var mine, dflt testkit.SyncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&dflt, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	p, err := settings.NewPolicy(map[string]string{"jwtauth.jwks_url": downURL + "/jwks", "jwtauth.jwks_timeout": "2"}, nil, slog.New(slog.NewTextHandler(&mine, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.Contains(mine.String(), "key set fetch failed") {
		t.Errorf("the failed fetch is not in the policy's log:\n%s", mine.String())
	}
	if dflt.String() != "" {
		t.Errorf("the default logger got:\n%s", dflt.String())
	}
}

// Settings name a key set over TLS whose CA only the application's client
// trusts: Parse says what to build, the application gives the spec its
// client, and Build builds it; the default client fails.
func TestJWKSSettingsWithClient(t *testing.T) {
	a := jwk(0, "key-a")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(testkit.PublicJWKS(t, a))
	}))
	defer srv.Close()
	m := map[string]string{"jwtauth.jwks_url": srv.URL + "/jwks", "jwtauth.jwks_required_at_start": "true"}

	_, err := settings.NewPolicy(m, nil, slog.New(slog.DiscardHandler))
	if msg := settingsError(t, err, "jwtauth.jwks_url", settings.ErrBadValue); !strings.Contains(msg, "certificate") {
		t.Errorf("the default client: %q, want a certificate error", msg)
	}

	parsed, err := settings.Parse(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed.KeySets[0].Options.Client = srv.Client()
	cfg, err := parsed.Build(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.NewJWT(cfg)
	if err != nil {
		closeAll(cfg.KeySets)
		t.Fatal(err)
	}
	defer p.Close()
	if uid, err := authenticate(p, tokenOf(t, a, "")); err != nil || uid != "alice" {
		t.Errorf("%q, %v", uid, err)
	}
}

func closeAll(sets []policy.KeySet) {
	for _, s := range sets {
		s.Close()
	}
}

// A setting that only the policy's constructor refuses (here token_type)
// fails NewPolicy before any key set is built: nothing is fetched, and no
// set is built only to be closed.
func TestJWKSPolicyChecksFirst(t *testing.T) {
	good := newIDP(t, jwk(1, "key-a"))
	for _, m := range []map[string]string{
		{"jwtauth.jwks_url": good.srv.URL + "/jwks", "jwtauth.token_type": "not a media type"},
		{"jwtauth.oidc_issuer": good.srv.URL, "jwtauth.userid_in_claim": "bad\x00claim"},
	} {
		if _, err := settings.Parse(m, nil); err != nil {
			t.Fatalf("Parse(%q): %v", m, err)
		}
		_, err := settings.NewPolicy(m, nil, nil)
		if err == nil {
			t.Fatalf("NewPolicy(%q): no error", m)
		}
		var se *settings.Error
		if !errors.As(err, &se) || (se.Key != "jwtauth.token_type" && se.Key != "jwtauth.userid_in_claim") {
			t.Errorf("NewPolicy(%q): %v, want the setting named", m, err)
		}
	}
	if n := good.hits.Load(); n != 0 {
		t.Errorf("%d requests for settings the policy refuses, want none", n)
	}
}
