package settings

import (
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/pyramid-go/jwtauth/policy"
)

// The settings of the cookie policy (the jwt_cookie factory), without the
// prefix, besides the jwtauth.* keys of its tokens.
const (
	kCookieName           = "cookie_name"
	kCookieSecure         = "cookie_secure"
	kCookieSameSite       = "cookie_samesite"
	kCookiePath           = "cookie_path"
	kCookieDomain         = "cookie_domain"
	kCookieReissueTime    = "cookie_reissue_time"
	kCookieTrustedOrigins = "cookie_trusted_origins"
)

// cookieSettings are the settings only the cookie policy reads.
var cookieSettings = []string{
	kCookieName, kCookieSecure, kCookieSameSite, kCookiePath, kCookieDomain, kCookieReissueTime, kCookieTrustedOrigins,
}

// isCookieSetting tells whether name (without the prefix) is a setting of
// the cookie policy alone.
func isCookieSetting(name string) bool {
	for _, k := range cookieSettings {
		if name == k {
			return true
		}
	}
	return false
}

// newCookieOfStack is the jwt_cookie factory: the cookie policy
// (policy.NewCookie). The jwtauth.* keys of m are its defaults, but those
// of an identity provider's tokens (notCookieDefault); its own keys (the
// jwtauth.* keys without the prefix, and the cookie_* ones) win:
//
//   - cookie_name: the cookie's name, default jwt;
//   - cookie_secure: a boolean, default true; false leaves the Secure
//     attribute out, for plain-HTTP development (a warning is logged);
//   - cookie_samesite: Lax (default), Strict or None (which needs Secure);
//   - cookie_path (default /) and cookie_domain (default none: the host
//     that set the cookie only);
//   - cookie_reissue_time: whole seconds; a request whose cookie's token is
//     older gets a fresh cookie (sliding sessions). Default 0: never;
//   - cookie_trusted_origins: a list of origins whose pages may send
//     unsafe requests that the cookie authenticates, besides the site's
//     own (CSRF protection).
func newCookieOfStack(own, m map[string]string, logger *slog.Logger, stores *revocationStores) (policy.AuthenticationPolicy, error) {
	if _, ok := own[kScheme]; ok {
		return nil, keyErr(kScheme, bad("is a setting of the jwt policy: a jwt_cookie policy reads its token from a cookie"))
	}
	for _, k := range dpopSettings {
		if _, ok := own[k]; ok {
			return nil, keyErr(k, bad("is a setting of the jwt policy: a cookie carries no DPoP proof"))
		}
	}
	jm := jwtDefaults(m, notCookieDefault)
	for k, v := range own {
		jm[Prefix+k] = v
	}
	parsed, err := parse(jm)
	if err != nil {
		return nil, err
	}
	parsed.stores = stores
	var cc policy.CookieConfig
	if err := parseCookie(jm, &cc); err != nil {
		return nil, err
	}
	err = parsed.check(func(cfg policy.Config) (io.Closer, error) {
		c := cc
		c.Config = cfg
		return policy.NewCookie(c)
	})
	if err != nil {
		return nil, policyErr(jm, err)
	}
	cfg, err := parsed.Build(logger)
	if err != nil {
		return nil, err
	}
	cc.Config = cfg
	p, err := policy.NewCookie(cc)
	if err != nil {
		closeKeySets(cfg)
		return nil, policyErr(jm, err)
	}
	return p, nil
}

// notCookieDefault tells the jwtauth.* keys that are no default of a
// jwt_cookie policy: scheme, which is the header policy's, and those that
// describe an identity provider's tokens (the key sets, token_type,
// profile, DPoP), which a stack's header policy verifies while the cookie
// policy signs its own.
func notCookieDefault(name string) bool {
	return name == kScheme || name == kTokenType || name == kProfile || slices.Contains(jwksSettings, name) || slices.Contains(dpopSettings, name)
}

// parseCookie reads the cookie_* settings of m into cc.
func parseCookie(m map[string]string, cc *policy.CookieConfig) error {
	val := func(name string) (string, bool) {
		v := m[Prefix+name]
		return strings.TrimSpace(v), !isUnset(v)
	}
	if v, ok := val(kCookieName); ok {
		cc.Name = v
	}
	if v, ok := val(kCookieSecure); ok {
		secure, err := asBool(v)
		if err != nil {
			return keyErr(kCookieSecure, err)
		}
		cc.Insecure = !secure
	}
	if v, ok := val(kCookieSameSite); ok {
		switch strings.ToLower(v) {
		case "lax":
			cc.SameSite = http.SameSiteLaxMode
		case "strict":
			cc.SameSite = http.SameSiteStrictMode
		case "none":
			cc.SameSite = http.SameSiteNoneMode
		default:
			return keyErr(kCookieSameSite, bad("%q is not Lax, Strict or None", v))
		}
	}
	if v, ok := val(kCookiePath); ok {
		cc.Path = v
	}
	if v, ok := val(kCookieDomain); ok {
		cc.Domain = v
	}
	if v, ok := val(kCookieReissueTime); ok {
		d, err := seconds(v)
		if err != nil {
			return keyErr(kCookieReissueTime, err)
		}
		cc.ReissueAfter = d
	}
	if v, ok := val(kCookieTrustedOrigins); ok {
		cc.TrustedOrigins = list(v)
	}
	return nil
}

// jwtDefaults returns the jwtauth.* keys of m, the defaults of a stack's
// token policies, but those whose name (without the prefix) skip tells.
func jwtDefaults(m map[string]string, skip func(name string) bool) map[string]string {
	jm := map[string]string{}
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, Prefix); ok && !skip(name) {
			jm[k] = v
		}
	}
	return jm
}

// closeKeySets closes the key sets of a Config that made no policy.
func closeKeySets(cfg policy.Config) {
	for _, s := range cfg.KeySets {
		s.Close()
	}
}
