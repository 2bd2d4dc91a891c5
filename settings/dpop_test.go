package settings_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/redistest"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/dpop"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
	"github.com/pyramid-go/jwtauth/settings"
)

const nonceSecret = "a-dpop-nonce-secret-of-32-bytes!!"

// TestDPoPSettings: the dpop_* keys reach the Config.
func TestDPoPSettings(t *testing.T) {
	for _, tt := range []struct {
		kv    []string
		field func(policy.Config) any
		want  any
	}{
		{[]string{"dpop", "allowed"}, func(c policy.Config) any { return c.DPoP }, policy.DPoPAllowed},
		{[]string{"dpop", " Required "}, func(c policy.Config) any { return c.DPoP }, policy.DPoPRequired},
		{[]string{"dpop", "disabled"}, func(c policy.Config) any { return c.DPoP }, policy.DPoPDisabled},
		{[]string{"dpop", ""}, func(c policy.Config) any { return c.DPoP }, policy.DPoPDisabled},
		{[]string{"dpop_algorithms", "ES256 PS256"}, func(c policy.Config) any { return c.DPoPProofs.Algorithms }, []string{"ES256", "PS256"}},
		{[]string{"dpop_max_age", "60"}, func(c policy.Config) any { return c.DPoPProofs.MaxAge }, time.Minute},
		{[]string{"dpop_trusted_proxies", "10.0.0.0/8, 192.168.1.7 ::1"}, func(c policy.Config) any { return c.DPoPProofs.TrustedProxies },
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("::1/128")}},
		{[]string{"dpop_nonce", "true", "dpop_nonce_secret", nonceSecret}, func(c policy.Config) any { return c.DPoPProofs.Nonces != nil }, true},
		{[]string{"dpop_nonce", "false"}, func(c policy.Config) any { return c.DPoPProofs.Nonces != nil }, false},
	} {
		m := map[string]string{}
		for i := 0; i < len(tt.kv); i += 2 {
			m[settings.Prefix+tt.kv[i]] = tt.kv[i+1]
		}
		cfg, err := parseConfig(m, nil)
		if err != nil {
			t.Errorf("%v: %v", tt.kv, err)
			continue
		}
		if got := tt.field(cfg); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: %#v; want %#v", tt.kv, got, tt.want)
		}
	}
}

// TestDPoPSettingsErrors: a bad value is an error naming its key, and the
// nonce secret is never in one.
func TestDPoPSettingsErrors(t *testing.T) {
	short := "short-secret-of-31-bytes-xxxxxxx"[:31]
	for _, tt := range []struct {
		kv       []string
		key, msg string
	}{
		{[]string{"dpop", "on"}, "dpop", `"on" is not disabled, allowed or required`},
		{[]string{"dpop", "allowed", "dpop_algorithms", "HS256"}, "dpop_algorithms", "not an asymmetric signature algorithm"},
		{[]string{"dpop", "allowed", "dpop_algorithms", "ES256 none"}, "dpop_algorithms", `"none"`},
		{[]string{"dpop", "allowed", "dpop_algorithms", " , "}, "dpop_algorithms", "names no algorithm"},
		{[]string{"dpop", "allowed", "dpop_max_age", "0"}, "dpop_max_age", "at least 1 second"},
		{[]string{"dpop", "allowed", "dpop_max_age", "-5"}, "dpop_max_age", "must not be negative"},
		{[]string{"dpop", "allowed", "dpop_max_age", "5m"}, "dpop_max_age", "not a whole number of seconds"},
		{[]string{"dpop", "allowed", "dpop_trusted_proxies", "10.0.0.0/33"}, "dpop_trusted_proxies", "neither a network"},
		{[]string{"dpop", "allowed", "dpop_trusted_proxies", "proxy.internal"}, "dpop_trusted_proxies", "neither a network"},
		{[]string{"dpop", "allowed", "dpop_nonce", "maybe"}, "dpop_nonce", "is not a boolean"},
		{[]string{"dpop", "allowed", "dpop_nonce", "true"}, "dpop_nonce_secret", "required with jwtauth.dpop_nonce = true"},
		{[]string{"dpop", "allowed", "dpop_nonce", "true", "dpop_nonce_secret", short}, "dpop_nonce_secret", "is 31 bytes; at least 32 are needed"},
		{[]string{"dpop", "allowed", "dpop_nonce_secret", nonceSecret}, "dpop_nonce_secret", "but jwtauth.dpop_nonce is not true"},
		{[]string{"dpop_max_age", "60"}, "dpop_max_age", "is set, but dpop is disabled"},
		{[]string{"dpop_nonce", "true", "dpop_nonce_secret", nonceSecret}, "dpop_nonce", "is set, but dpop is disabled"},
		{[]string{"dpop", "allowed", "scheme", "Bearer DPoP"}, "scheme", "names DPoP"},
	} {
		m := map[string]string{}
		for i := 0; i < len(tt.kv); i += 2 {
			m[settings.Prefix+tt.kv[i]] = tt.kv[i+1]
		}
		_, err := settings.NewPolicy(withSecret(m), nil, quiet)
		msg := settingsError(t, err, settings.Prefix+tt.key, settings.ErrBadValue)
		if !strings.Contains(msg, tt.msg) {
			t.Errorf("%v: %q does not say %q", tt.kv, msg, tt.msg)
		}
		if strings.Contains(msg, nonceSecret) || strings.Contains(msg, short) {
			t.Errorf("%v: the error shows the nonce secret: %q", tt.kv, msg)
		}
	}
	_, err := settings.NewPolicy(withSecret(map[string]string{"jwtauth.dpop_nonse": "true"}), nil, quiet)
	if msg := settingsError(t, err, "jwtauth.dpop_nonse", settings.ErrUnknownKey); !strings.Contains(msg, "did you mean jwtauth.dpop_nonce?") {
		t.Errorf("%q", msg)
	}
}

// TestDPoPSettingsPolicy: the policy built reads the DPoP scheme, with the
// algorithms of the settings.
func TestDPoPSettingsPolicy(t *testing.T) {
	p, err := settings.NewPolicy(withSecret(map[string]string{
		"jwtauth.dpop": "required", "jwtauth.dpop_algorithms": "ES256 EdDSA",
		"jwtauth.dpop_nonce": "true", "jwtauth.dpop_nonce_secret": nonceSecret,
	}), nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.(*policy.JWT).DPoPAlgorithms(); got != "ES256 EdDSA" {
		t.Errorf("DPoPAlgorithms() = %q", got)
	}
}

// TestDPoPSettingsInAStack: the keys under multiauth.policy.NAME.*, from
// the environment too; a jwt_cookie policy refuses them as its own and
// does not take the jwtauth.* ones as defaults.
func TestDPoPSettingsInAStack(t *testing.T) {
	type dpopper interface{ DPoPAlgorithms() string }
	stack := mustStack(t, cookieStack("multiauth.policy.api.dpop", "allowed", "multiauth.policy.api.dpop_algorithms", "ES256"))
	if got := stackPolicy(t, stack, "api").(dpopper).DPoPAlgorithms(); got != "ES256" {
		t.Errorf("api's DPoPAlgorithms() = %q", got)
	}
	// jwtauth.dpop is the default of the header policy, not of the cookie.
	stack = mustStack(t, cookieStack("jwtauth.dpop", "required", "jwtauth.dpop_max_age", "30"))
	if got := stackPolicy(t, stack, "api").(dpopper).DPoPAlgorithms(); got == "" {
		t.Error("jwtauth.dpop did not reach the api policy")
	}
	for _, kv := range [][]string{
		{"multiauth.policy.web.dpop", "allowed"},
		{"multiauth.policy.web.dpop_nonce_secret", nonceSecret},
	} {
		_, err := settings.NewPolicy(cookieStack(kv...), nil, quiet)
		msg := settingsError(t, err, kv[0], settings.ErrBadValue)
		if !strings.Contains(msg, "a cookie carries no DPoP proof") || strings.Contains(msg, nonceSecret) {
			t.Errorf("%v: %q", kv, msg)
		}
	}
	_, err := settings.NewPolicy(cookieStack("multiauth.policy.api.dpop", "sometimes"), nil, quiet)
	settingsError(t, err, "multiauth.policy.api.dpop", settings.ErrBadValue)

	m, from := settings.FromEnv([]string{
		"MULTIAUTH_POLICIES=api",
		"MULTIAUTH_POLICY_API_USE=jwt",
		"MULTIAUTH_POLICY_API_DPOP=allowed",
		"MULTIAUTH_POLICY_API_DPOP_ALGORITHMS=EdDSA",
		"JWTAUTH_MASTER_SECRET=" + secret,
	})
	p, err := settings.NewPolicy(m, from, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := stackPolicy(t, p.(*multiauth.Policy), "api").(dpopper).DPoPAlgorithms(); got != "EdDSA" {
		t.Errorf("from the environment: %q", got)
	}
	m, from = settings.FromEnv([]string{"JWTAUTH_MASTER_SECRET=" + secret, "JWTAUTH_DPOP=allowed", "JWTAUTH_DPOP_NONCE=true", "JWTAUTH_DPOP_NONCE_SECRET=short"})
	_, err = settings.NewPolicy(m, from, quiet)
	if msg := settingsError(t, err, "jwtauth.dpop_nonce_secret", settings.ErrBadValue); !strings.HasPrefix(msg, "JWTAUTH_DPOP_NONCE_SECRET (jwtauth.dpop_nonce_secret): ") || strings.Contains(msg, "short") {
		t.Errorf("%q", msg)
	}
}

// TestDPoPReplayIsTheRedisStore: with a Redis revocation store, the
// proofs' replay cache is that store, shared by every instance: a proof
// one policy of the settings accepted, another refuses.
func TestDPoPReplayIsTheRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	m := withSecret(map[string]string{"jwtauth.dpop": "allowed", "jwtauth.revocation": srv.URL()})
	instance := func() policy.AuthenticationPolicy {
		p, err := settings.NewPolicy(m, nil, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	a, b := instance(), instance()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	token := testkit.Mint(t, jose.HS256, []byte(longSecret), map[string]any{
		"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(),
		"cnf": map[string]any{"jkt": base64.RawURLEncoding.EncodeToString(sum)},
	})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	ath := sha256.Sum256([]byte(token))
	proof := testkit.MintSigned(t, signer, map[string]any{
		"jti": rand.Text(), "htm": "GET", "htu": "http://api.example/me", "iat": time.Now().Unix(),
		"ath": base64.RawURLEncoding.EncodeToString(ath[:]),
	})
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://api.example/me", nil)
		r.Header.Set("Authorization", "DPoP "+token)
		r.Header.Set("DPoP", proof)
		return r
	}
	if u, err := a.AuthenticatedUserID(request()); err != nil || u != "alice" {
		t.Fatalf("instance a: %q, %v", u, err)
	}
	if _, err := b.AuthenticatedUserID(request()); !errors.Is(err, dpop.ErrProofReplayed) || !errors.Is(err, policy.ErrInvalidDPoPProof) {
		t.Fatalf("instance b: %v; want the proof replayed", err)
	}
}
