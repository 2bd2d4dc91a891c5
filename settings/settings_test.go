package settings_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// longSecret is long enough for every HS algorithm.
const longSecret = secret + secret

// withSecret returns the settings m plus a master secret long enough for
// every HS algorithm.
func withSecret(m map[string]string) map[string]string {
	out := map[string]string{"jwtauth.master_secret": longSecret}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestParseGoodValues(t *testing.T) {
	tests := []struct {
		key, value string
		field      func(policy.Config) any
		want       any
	}{
		{"master_secret", " with spaces ", func(c policy.Config) any { return string(c.MasterSecret) }, " with spaces "},
		{"algorithm", "HS512", func(c policy.Config) any { return c.Algorithm }, "HS512"},
		{"algorithm", " EdDSA ", func(c policy.Config) any { return c.Algorithm }, "EdDSA"},
		{"algorithms", "HS256 HS384,HS512", func(c policy.Config) any { return c.Algorithms }, []string{"HS256", "HS384", "HS512"}},
		{"algorithms", "RS256", func(c policy.Config) any { return c.Algorithms }, []string{"RS256"}},
		{"leeway", "0", func(c policy.Config) any { return c.Leeway }, time.Duration(0)},
		{"leeway", " 30 ", func(c policy.Config) any { return c.Leeway }, 30 * time.Second},
		{"userid_in_claim", "email", func(c policy.Config) any { return c.UserIDClaim }, "email"},
		{"scheme", "Bearer", func(c policy.Config) any { return c.Schemes }, []string{"Bearer"}},
		{"scheme", "JWT Bearer", func(c policy.Config) any { return c.Schemes }, []string{"JWT", "Bearer"}},
		{"disable_verify_signature", "true", func(c policy.Config) any { return c.DisableVerifySignature }, true},
		{"disable_verify_exp", "yes", func(c policy.Config) any { return c.DisableVerifyExp }, true},
		{"disable_verify_nbf", "On", func(c policy.Config) any { return c.DisableVerifyNbf }, true},
		{"disable_verify_iat", "1", func(c policy.Config) any { return c.DisableVerifyIat }, true},
		{"disable_verify_aud", "T", func(c policy.Config) any { return c.DisableVerifyAud }, true},
		{"disable_verify_aud", "false", func(c policy.Config) any { return c.DisableVerifyAud }, false},
		{"audience", "api", func(c policy.Config) any { return c.Audience }, []string{"api"}},
		{"audience", "api, https://example.com/app\n other", func(c policy.Config) any { return c.Audience }, []string{"api", "https://example.com/app", "other"}},
		{"issuer", "https://issuer.example", func(c policy.Config) any { return c.Issuer }, "https://issuer.example"},
		{"expiration", "600", func(c policy.Config) any { return c.Expiration }, 10 * time.Minute},
		{"expiration", "0", func(c policy.Config) any { return c.Expiration }, time.Duration(-1)},
		{"max_token_bytes", "1024", func(c policy.Config) any { return c.MaxTokenBytes }, 1024},
		{"cache_size", "500", func(c policy.Config) any { return c.CacheSize }, 500},
		{"token_type", " at+jwt ", func(c policy.Config) any { return c.TokenType }, "at+jwt"},
		{"reserved_principal_prefixes", "team: org/,\n role:", func(c policy.Config) any { return c.ReservedPrincipalPrefixes }, []string{"team:", "org/", "role:"}},
		{"reserved_principal_prefixes", "system.", func(c policy.Config) any { return c.ReservedPrincipalPrefixes }, []string{"system."}},
		{"cache_size", "0", func(c policy.Config) any { return c.CacheSize }, policy.NoCache},
		// Only checked: it belongs to the chi adapter.
		{"debug_authorization", "true", func(c policy.Config) any { return nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cfg, err := parseConfig(map[string]string{settings.Prefix + tt.key: tt.value}, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tt.field(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// Each accepted setting also makes a policy.
func TestNewPolicyWithEachSetting(t *testing.T) {
	for _, kv := range [][2]string{
		{"algorithm", "HS384"}, {"algorithms", "HS256, HS384"}, {"leeway", "5"},
		{"userid_in_claim", "email"}, {"scheme", "Bearer"}, {"disable_verify_exp", "true"},
		{"disable_verify_nbf", "true"}, {"disable_verify_iat", "true"}, {"disable_verify_aud", "true"},
		{"audience", "api"}, {"issuer", "me"}, {"expiration", "0"}, {"max_token_bytes", "100"}, {"cache_size", "0"},
		{"debug_authorization", "no"}, {"reserved_principal_prefixes", "team:"},
	} {
		mustPolicy(t, withSecret(map[string]string{settings.Prefix + kv[0]: kv[1]}))
	}
}

func TestParseBadValues(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // in the error's text
	}{
		{"algorithm", "none", `"none" is not a supported algorithm`},
		{"algorithm", "hs256", `"hs256" is not a supported algorithm`},
		{"algorithms", "HS256 none", `"none" is not a supported algorithm`},
		{"algorithms", " , ,", `names no algorithm`},
		{"reserved_principal_prefixes", " , ,", `names no prefix (set system. to reserve only the system principals)`},
		{"leeway", "abc", `"abc" is not a whole number of seconds`},
		{"leeway", "1.5", `"1.5" is not a whole number of seconds`},
		{"leeway", "-1", `"-1" must not be negative`},
		{"leeway", "99999999999999999", `too long`},
		{"leeway", "99999999999999999999999", `not a whole number`},
		{"scheme", "JWT to:ken", `"to:ken" is not a valid authentication scheme name`},
		{"scheme", " , ", `names no scheme`},
		{"disable_verify_signature", "maybe", `"maybe" is not a boolean`},
		{"disable_verify_exp", "2", `is not a boolean`},
		{"disable_verify_nbf", "enabled", `is not a boolean`},
		{"disable_verify_iat", "truee", `is not a boolean`},
		{"disable_verify_aud", "nope", `is not a boolean`},
		{"debug_authorization", "verbose", `is not a boolean`},
		{"audience", ",", `names no audience`},
		{"expiration", "-5", `must not be negative`},
		{"expiration", "1h", `is not a whole number of seconds`},
		{"max_token_bytes", "0", `is not a positive whole number of bytes`},
		{"max_token_bytes", "-1", `is not a positive whole number of bytes`},
		{"max_token_bytes", "big", `is not a positive whole number of bytes`},
		{"cache_size", "-1", `is not a whole number of tokens`},
		{"cache_size", "many", `is not a whole number of tokens`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cfg, err := parseConfig(withSecret(map[string]string{settings.Prefix + tt.key: tt.value}), nil)
			msg := settingsError(t, err, settings.Prefix+tt.key, settings.ErrBadValue)
			if !reflect.DeepEqual(cfg, policy.Config{}) {
				t.Errorf("Parse returned %+v with its error, want the zero Config", cfg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if errors.Is(err, settings.ErrUnknownKey) {
				t.Errorf("error %q matches ErrUnknownKey", msg)
			}
			noKeyMaterial(t, msg)
			// NewPolicy reports the same error.
			if _, err2 := settings.NewPolicy(withSecret(map[string]string{settings.Prefix + tt.key: tt.value}), nil, nil); err2 == nil || err2.Error() != msg {
				t.Errorf("NewPolicy: %v, want %q", err2, msg)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	_, err := settings.Parse(map[string]string{"jwtauth.leeway": "abc"}, nil)
	if got, want := err.Error(), `jwtauth.leeway: "abc" is not a whole number of seconds`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestNewPolicyBadValues: values that policy.NewJWT refuses, reported
// under their key: a scheme named twice, a token_type that cannot be a
// media type, a userid_in_claim that cannot be a claim name.
func TestNewPolicyBadValues(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{"scheme", "JWT jwt", `names "jwt" twice`},
		{"token_type", "at+jwt; charset=utf-8", `"at+jwt; charset=utf-8" is not a media type`},
		{"token_type", "text/plain", `is not a media type`},
		{"token_type", "+jwt", `is not a media type`},
		{"token_type", "application/", `is not a media type`},
		{"token_type", strings.Repeat("j", 128), `is not a media type`},
		{"userid_in_claim", "e\x00mail", `holds a control character`},
		{"userid_in_claim", "e\u0085mail", `holds a control character`},
		{"userid_in_claim", "\xff", `is not valid UTF-8`},
		{"userid_in_claim", strings.Repeat("c", 257), `is longer than 256 bytes`},
	} {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := settings.NewPolicy(withSecret(map[string]string{settings.Prefix + tt.key: tt.value}), nil, nil)
			msg := settingsError(t, err, settings.Prefix+tt.key, settings.ErrBadValue)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
		})
	}
	for _, tt := range []struct{ key, value string }{
		{"token_type", "at+jwt"},
		{"token_type", "Application/AT+JWT"},
		{"token_type", "JWT"},
		{"token_type", "secevent+jwt"},
		{"userid_in_claim", "email"},
		{"userid_in_claim", "https://example.com/claims/user id"},
		{"userid_in_claim", "nom d'utilisateur"},
	} {
		if _, err := settings.NewPolicy(withSecret(map[string]string{settings.Prefix + tt.key: tt.value}), nil, nil); err != nil {
			t.Errorf("%s = %q: %v", tt.key, tt.value, err)
		}
	}
}

// Ported from pyramid_jwtauth: an unknown setting with the prefix is an
// error naming it.
func TestUnknownKey(t *testing.T) {
	// The known key closest to an unknown one, when one is near.
	hint := map[string]string{
		"jwtauth.Master_Secret":    "; did you mean jwtauth.master_secret?",
		"jwtauth.find_groups_":     "; did you mean jwtauth.find_groups?",
		"jwtauth.private_key_path": "; did you mean jwtauth.private_key_file?",
		"jwtauth.master_secrt":     "; did you mean jwtauth.master_secret?",
		"jwtauth.levay":            "; did you mean jwtauth.leeway?",
		"jwtauth.oidc_isuer":       "; did you mean jwtauth.oidc_issuer?",
	}
	for _, key := range []string{
		"jwtauth.master_secrt",
		"jwtauth.levay",
		"jwtauth.oidc_isuer",
		"jwtauth.unexpected",
		"jwtauth.",
		"jwtauth.Master_Secret", // keys are case-sensitive
		"jwtauth.find_groups_",  // an argument needs a name
		"jwtauth.private_key_path",
	} {
		t.Run(key, func(t *testing.T) {
			for _, v := range []string{"value", ""} { // even when empty
				_, err := settings.Parse(withSecret(map[string]string{key: v}), nil)
				msg := settingsError(t, err, key, settings.ErrUnknownKey)
				if want := key + ": unknown setting" + hint[key]; msg != want {
					t.Errorf("error %q, want %q", msg, want)
				}
				if errors.Is(err, settings.ErrBadValue) {
					t.Errorf("error %q matches ErrBadValue", msg)
				}
				if _, err := settings.NewPolicy(withSecret(map[string]string{key: v}), nil, nil); !errors.Is(err, settings.ErrUnknownKey) {
					t.Errorf("NewPolicy: %v", err)
				}
			}
		})
	}
}

func TestKeysWithoutPrefixIgnored(t *testing.T) {
	m := withSecret(map[string]string{
		"pyramid.reload_templates": "true",
		"sqlalchemy.url":           "sqlite://",
		"jwtauth_leeway":           "abc",
		"jwtuath.leeway":           "abc", // a mistyped prefix, as Pyramid ignores it
		"unexpected":               "",
		"auth.jwtauth.leeway":      "abc",
	})
	if _, err := settings.Parse(m, nil); err != nil {
		t.Fatal(err)
	}
	mustPolicy(t, m)
}

// TestPrefixInAnotherCase: a key whose prefix is jwtauth. or multiauth. in
// another case is an error naming it: Pyramid would ignore it, and the
// setting would silently not apply.
func TestPrefixInAnotherCase(t *testing.T) {
	for _, key := range []string{"JWTAuth.leeway", "JWTAUTH.master_secret", "Multiauth.policies"} {
		t.Run(key, func(t *testing.T) {
			m := withSecret(map[string]string{key: "3"})
			want := key + ": unknown setting: its prefix must be written " + strings.ToLower(key[:strings.IndexByte(key, '.')+1]) + "; did you mean " + strings.ToLower(key[:strings.IndexByte(key, '.')+1]) + key[strings.IndexByte(key, '.')+1:] + "?"
			_, err := settings.NewPolicy(m, nil, nil)
			if msg := settingsError(t, err, key, settings.ErrUnknownKey); msg != want {
				t.Errorf("NewPolicy: %q, want %q", msg, want)
			}
			_, err = settings.Parse(m, nil)
			if msg := settingsError(t, err, key, settings.ErrUnknownKey); msg != want {
				t.Errorf("Parse: %q, want %q", msg, want)
			}
		})
	}
}

func TestEmptyValueIsUnset(t *testing.T) {
	m := withSecret(map[string]string{})
	for _, k := range []string{
		"algorithm", "algorithms", "leeway", "userid_in_claim", "scheme", "disable_verify_signature",
		"disable_verify_exp", "disable_verify_nbf", "disable_verify_iat", "disable_verify_aud",
		"audience", "issuer", "expiration", "max_token_bytes", "debug_authorization",
		"find_groups", "find_groups_table", "private_key", "private_key_file", "public_key", "public_key_file",
	} {
		m[settings.Prefix+k] = " "
	}
	cfg, err := parseConfig(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Config{MasterSecret: []byte(longSecret)}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v, want only the master secret", cfg)
	}
	mustPolicy(t, m)
}

func TestAsBool(t *testing.T) {
	for _, v := range []string{"true", "True", "TRUE", "yes", "Yes", "on", "ON", "1", "t", "T", "y", "Y", " true ", "\tyes\n"} {
		cfg, err := parseConfig(map[string]string{"jwtauth.disable_verify_exp": v}, nil)
		if err != nil || !cfg.DisableVerifyExp {
			t.Errorf("%q: %v, %v; want true", v, cfg.DisableVerifyExp, err)
		}
		if b, err := settings.DebugAuthorization(map[string]string{"jwtauth.debug_authorization": v}, nil); err != nil || !b {
			t.Errorf("DebugAuthorization(%q) = %v, %v; want true", v, b, err)
		}
	}
	for _, v := range []string{"false", "False", "no", "NO", "off", "Off", "0", "f", "F", "n", "N", " off "} {
		cfg, err := parseConfig(map[string]string{"jwtauth.disable_verify_exp": v}, nil)
		if err != nil || cfg.DisableVerifyExp {
			t.Errorf("%q: %v, %v; want false", v, cfg.DisableVerifyExp, err)
		}
		if b, err := settings.DebugAuthorization(map[string]string{"jwtauth.debug_authorization": v}, nil); err != nil || b {
			t.Errorf("DebugAuthorization(%q) = %v, %v; want false", v, b, err)
		}
	}
	for _, v := range []string{"2", "-1", "tru", "yess", "none", "enable", "o", "true false", "¡sí!"} {
		_, err := settings.Parse(map[string]string{"jwtauth.disable_verify_exp": v}, nil)
		settingsError(t, err, "jwtauth.disable_verify_exp", settings.ErrBadValue)
		_, err = settings.DebugAuthorization(map[string]string{"jwtauth.debug_authorization": v}, nil)
		settingsError(t, err, "jwtauth.debug_authorization", settings.ErrBadValue)
	}
}

func TestDebugAuthorizationUnset(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"jwtauth.debug_authorization": ""}} {
		if b, err := settings.DebugAuthorization(m, nil); b || err != nil {
			t.Errorf("DebugAuthorization(%v) = %v, %v", m, b, err)
		}
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a b", []string{"a", "b"}},
		{"a,b", []string{"a", "b"}},
		{"a, b ,c", []string{"a", "b", "c"}},
		{" a,,b ", []string{"a", "b"}},
		{"a\nb\tc\r\nd", []string{"a", "b", "c", "d"}},
		{",a,", []string{"a"}},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(map[string]string{"jwtauth.audience": tt.in}, nil)
		if err != nil || !reflect.DeepEqual(cfg.Audience, tt.want) {
			t.Errorf("audience %q: %q, %v; want %q", tt.in, cfg.Audience, err, tt.want)
		}
		algs := strings.NewReplacer("a", "HS256", "b", "HS384", "c", "HS512", "d", "RS256").Replace(tt.in)
		cfg, err = parseConfig(map[string]string{"jwtauth.algorithms": algs}, nil)
		if err != nil || len(cfg.Algorithms) != len(tt.want) {
			t.Errorf("algorithms %q: %q, %v", algs, cfg.Algorithms, err)
		}
	}
}

// Ported from pyramid_jwtauth: with only a master secret, the policy uses
// HS256, the JWT scheme, no leeway and the userid in "sub".
func TestDefaults(t *testing.T) {
	m := map[string]string{"jwtauth.master_secret": secret}
	cfg, err := parseConfig(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Config{MasterSecret: []byte(secret)}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse = %+v, want %+v (zero values: the policy's defaults)", cfg, want)
	}
	p := mustPolicy(t, m)
	if p.Scheme() != "JWT" {
		t.Errorf("scheme %q", p.Scheme())
	}
	if got := p.Forget(request("JWT", "")).Get("WWW-Authenticate"); got != "JWT" {
		t.Errorf("challenge %q", got)
	}
	key := []byte(secret)
	if id, err := authenticate(p, mint(t, "HS256", key, fresh("alice"))); id != "alice" || err != nil {
		t.Errorf("HS256 token with sub: %q, %v", id, err)
	}
	// userid_in_claim defaults to sub: another claim is not read.
	c := fresh("")
	c.Subject = ""
	if _, err := authenticate(p, mint(t, "HS256", key, c, map[string]any{"userid": "alice"})); !errors.Is(err, policy.ErrMissingUserID) {
		t.Errorf("token without sub: %v", err)
	}
	// Only HS256 is allowed.
	if _, err := authenticate(p, mint(t, "HS384", []byte(secret+secret), fresh("alice"))); !errors.Is(err, policy.ErrAlgorithmNotAllowed) {
		t.Errorf("HS384 token: %v", err)
	}
	// No leeway: a token expired a second ago is refused.
	c = fresh("alice")
	c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Second))
	if _, err := authenticate(p, mint(t, "HS256", key, c)); !errors.Is(err, policy.ErrTokenExpired) {
		t.Errorf("expired token: %v", err)
	}
	// Another scheme is not read.
	if _, err := p.AuthenticatedUserID(request("Bearer", mint(t, "HS256", key, fresh("alice")))); !errors.Is(err, policy.ErrNoCredentials) {
		t.Errorf("Bearer token: %v", err)
	}
	// No group finder: every user, no groups.
	got, err := p.EffectivePrincipals(request("JWT", mint(t, "HS256", key, fresh("alice"))))
	if err != nil || !reflect.DeepEqual(got, []string{"alice", policy.Everyone, policy.Authenticated}) {
		t.Errorf("principals %q, %v", got, err)
	}
}

func TestSettingsChangeBehaviour(t *testing.T) {
	key := []byte(longSecret)
	p := mustPolicy(t, withSecret(map[string]string{
		"jwtauth.leeway":          "60",
		"jwtauth.userid_in_claim": "email",
		"jwtauth.scheme":          "Bearer",
		"jwtauth.audience":        "api other",
		"jwtauth.issuer":          "https://issuer.example",
		"jwtauth.algorithms":      "HS256,HS512",
	}))
	c := fresh("")
	c.Subject = ""
	c.Expiry = jwt.NewNumericDate(time.Now().Add(-30 * time.Second))
	c.Audience = jwt.Audience{"other"}
	c.Issuer = "https://issuer.example"
	email := map[string]any{"email": "alice@example.com"}
	tok := mint(t, "HS512", key, c, email)
	if id, err := authenticate(p, tok); id != "alice@example.com" || err != nil {
		t.Errorf("got %q, %v", id, err)
	}
	c.Issuer = "someone else"
	if _, err := authenticate(p, mint(t, "HS256", key, c, email)); !errors.Is(err, policy.ErrInvalidIssuer) {
		t.Errorf("other issuer: %v", err)
	}

	// expiration = 0: tokens without exp.
	p = mustPolicy(t, withSecret(map[string]string{"jwtauth.expiration": "0"}))
	tok, err := p.NewToken("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	var got jwt.Claims
	if err := parsed.Claims(key, &got); err != nil {
		t.Fatal(err)
	}
	if got.Expiry != nil || got.Subject != "alice" {
		t.Errorf("claims %+v, want sub alice and no exp", got)
	}
	// max_token_bytes.
	p = mustPolicy(t, withSecret(map[string]string{"jwtauth.max_token_bytes": "64"}))
	if _, err := authenticate(p, mint(t, "HS256", key, fresh("alice"))); !errors.Is(err, policy.ErrTokenTooLarge) {
		t.Errorf("large token: %v", err)
	}
}

func TestNewPolicyWrapsConfigErrors(t *testing.T) {
	short := "short-secret-xyz"
	_, err := settings.NewPolicy(map[string]string{"jwtauth.master_secret": short}, nil, nil)
	msg := settingsError(t, err, "jwtauth.master_secret", settings.ErrBadValue)
	var ce *policy.ConfigError
	if !errors.As(err, &ce) || ce.Key != "master_secret" {
		t.Errorf("errors.As ConfigError: %v", ce)
	}
	if strings.Count(msg, "jwtauth.master_secret") != 1 || strings.Contains(msg, "jwtauth: ") {
		t.Errorf("error %q repeats itself", msg)
	}
	if !strings.HasPrefix(msg, "jwtauth.master_secret: unusable key: 16-byte HMAC secret is shorter") || !strings.Contains(msg, "RFC 7518 section 3.2 requires") || strings.Contains(msg, "allow_weak_secret") {
		t.Errorf("error %q", msg)
	}
	if strings.Contains(msg, short) {
		t.Errorf("error %q holds the secret", msg)
	}
	// No setting accepts it: allow_weak_secret, which once claimed to, is
	// gone and unknown (go-jose and the signature step refuse such a
	// secret, so every token would have failed).
	_, err = settings.NewPolicy(map[string]string{"jwtauth.master_secret": short, "jwtauth.allow_weak_secret": "true"}, nil, nil)
	settingsError(t, err, "jwtauth.allow_weak_secret", settings.ErrUnknownKey)

	tests := []struct {
		m   map[string]string
		key string
	}{
		{map[string]string{}, "jwtauth.master_secret"},
		{map[string]string{"jwtauth.master_secret": secret, "jwtauth.algorithm": "RS256"}, "jwtauth.master_secret"},
		{map[string]string{"jwtauth.master_secret": secret, "jwtauth.algorithms": "HS256 RS256"}, "jwtauth.algorithms"},
		{map[string]string{"jwtauth.algorithm": "ES256"}, "jwtauth.public_key"},
	}
	for _, tt := range tests {
		_, err := settings.NewPolicy(tt.m, nil, nil)
		noKeyMaterial(t, settingsError(t, err, tt.key, settings.ErrBadValue))
	}
}

// secretKeys never show their values in errors, whatever is wrong.
func TestSecretsNotInErrors(t *testing.T) {
	// Valid PEM, but not a key.
	pemText := string(testkit.PEM("PRIVATE KEY", []byte("these bytes are no key at all, in any format")))
	for _, m := range []map[string]string{
		{"jwtauth.master_secret": secret, "jwtauth.algorithm": "ES256"},
		{"jwtauth.master_secret": secret, "jwtauth.private_key": pemText},
		{"jwtauth.private_key": pemText},
		{"jwtauth.public_key": pemText},
		{"jwtauth.public_key": strings.Replace(pemText, "PRIVATE", "PUBLIC", 2)},
		{"jwtauth.private_key": secret},
		{"jwtauth.public_key": secret},
		{"jwtauth.private_key": pemText, "jwtauth.private_key_file": "/nonexistent"},
		{"jwtauth.public_key": pemText, "jwtauth.public_key_file": "/nonexistent"},
	} {
		_, err := settings.NewPolicy(m, nil, nil)
		if err == nil {
			t.Fatalf("%v: no error", redact(m))
		}
		t.Log(err)
		noKeyMaterial(t, err.Error(), []byte(pemText))
		if !errors.Is(err, settings.ErrBadValue) || !errors.Is(err, policy.ErrConfig) {
			t.Errorf("error %q does not match ErrBadValue and ErrConfig", err)
		}
	}
}

// jwtauth.reserved_principal_prefixes replaces the default prefixes; a
// userid with one, or with system., is a user rejected.
func TestReservedPrincipalPrefixesSetting(t *testing.T) {
	key := []byte(longSecret)
	for _, tt := range []struct {
		value    string
		rejected []string
		accepted []string
	}{
		{"", []string{"group:admins", "role:x", "scope:read", "system.Everyone"}, []string{"alice", "team:x"}},
		{"team:, org/", []string{"team:x", "org/y", "system.Authenticated"}, []string{"group:admins", "alice"}},
		{"system.", []string{"system.Everyone"}, []string{"group:admins", "scope:read"}},
	} {
		p := mustPolicy(t, withSecret(map[string]string{"jwtauth.reserved_principal_prefixes": tt.value}))
		for _, userid := range tt.rejected {
			if uid, err := authenticate(p, mint(t, "HS256", key, fresh(userid))); !errors.Is(err, policy.ErrUserRejected) {
				t.Errorf("%q: %q authenticated as %q, %v; want rejected", tt.value, userid, uid, err)
			}
		}
		for _, userid := range tt.accepted {
			if uid, err := authenticate(p, mint(t, "HS256", key, fresh(userid))); err != nil || uid != userid {
				t.Errorf("%q: %q authenticated as %q, %v", tt.value, userid, uid, err)
			}
		}
	}
}
