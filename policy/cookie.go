package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// DefaultCookieName is the name of the cookie policy's cookie.
const DefaultCookieName = "jwt"

// CookieConfig configures a cookie policy: the token settings of a JWT
// policy, and the cookie's own. The zero value of each field is its
// default. The settings package builds it from the jwtauth.* keys and
// the cookie_* ones of a jwt_cookie policy; each field's doc names its key.
type CookieConfig struct {
	// Config is the tokens' configuration, as for NewJWT: keys, claim
	// checks, expiration (the cookie's lifetime too), group finder,
	// logger, clock. The policy signs the tokens it remembers, so it
	// needs a master secret or a private key. Schemes must be empty: a
	// cookie is read from no Authorization header.
	Config

	// Name is the cookie's name (cookie_name), default DefaultCookieName:
	// an RFC 6265 token. A name that starts with "__Host-" needs Secure, the
	// Path "/" and no Domain; one that starts with "__Secure-" needs
	// Secure, as browsers require.
	Name string
	// Insecure leaves the Secure attribute out (cookie_secure = false),
	// so that a browser sends the cookie over plain HTTP: for development
	// only; the policy logs a warning when built. Browsers treat
	// http://localhost and http://127.0.0.1 as secure, so a Secure cookie
	// works there without it.
	Insecure bool
	// SameSite is the SameSite attribute (cookie_samesite): Lax (the
	// default, for the zero value), Strict, or None, which needs Secure.
	// http.SameSiteDefaultMode is refused: say which one.
	SameSite http.SameSite
	// Path is the Path attribute (cookie_path), default "/".
	Path string
	// Domain is the Domain attribute (cookie_domain), left out by
	// default: the cookie then goes back only to the host that set it,
	// which is safer than any Domain.
	Domain string
	// ReissueAfter makes sessions slide (cookie_reissue_time): a request
	// that the cookie authenticates and whose token was issued (iat) longer
	// ago than this gets a fresh cookie on its response, with the same
	// claims but iat and exp. Zero: never. It must be shorter than the
	// token's lifetime (Expiration), or the token expires first.
	ReissueAfter time.Duration
	// TrustedOrigins are origins ("https://app.example.com") whose pages may
	// send the requests with unsafe methods that the cookie authenticates
	// (cookie_trusted_origins), besides the page's own origin (see
	// Cookie.Admit).
	TrustedOrigins []string
}

// Cookie is the JWT policy whose transport is a cookie, for browser
// applications: pyramid_jwt's cookie policy. Remember signs a token and
// returns the Set-Cookie header that stores it (HttpOnly, so that no page
// script reads it); Forget returns the one that deletes it; its Admit, which
// Authenticate asks before the handler, refuses cross-origin requests with
// unsafe methods that the cookie authenticates (CSRF), and slides the
// session (CookieConfig.ReissueAfter). It verifies its tokens with a
// Verifier of its own, by the rules of the JWT policy, whose header
// policy it sits beside in a stack. It is safe for concurrent use.
type Cookie struct {
	tokenIdentities
	cookie  http.Cookie // the attributes of the cookies it sets
	reissue time.Duration
	csrf    *CrossOriginRule
}

var (
	_ AuthenticationPolicy = (*Cookie)(nil)
	_ Observable           = (*Cookie)(nil)
	_ Identifier           = (*Cookie)(nil)
	_ Admitter             = (*Cookie)(nil)
)

// NewCookie checks cfg and builds the cookie policy and its Verifier.
// Every error matches ErrConfig and names the setting at fault; none
// holds key material.
func NewCookie(cfg CookieConfig) (*Cookie, error) {
	if len(cfg.Schemes) > 0 {
		return nil, configErr("scheme", "is a setting of the JWT header policy: a cookie policy reads no Authorization header")
	}
	if cfg.DPoP != DPoPDisabled || !reflect.ValueOf(cfg.DPoPProofs).IsZero() {
		return nil, configErr(dpopConfigKey(cfg.DPoPProofs), "is a setting of the JWT header policy: a cookie carries no DPoP proof")
	}
	cfg.Schemes = []string{DefaultScheme} // never read
	c := http.Cookie{Name: cfg.Name, Path: cfg.Path, Domain: cfg.Domain, HttpOnly: true, Secure: !cfg.Insecure}
	if c.Name == "" {
		c.Name = DefaultCookieName
	}
	if c.Path == "" {
		c.Path = "/"
	}
	switch cfg.SameSite {
	case 0, http.SameSiteLaxMode:
		c.SameSite = http.SameSiteLaxMode
	case http.SameSiteStrictMode:
		c.SameSite = http.SameSiteStrictMode
	case http.SameSiteNoneMode:
		if cfg.Insecure {
			return nil, configErr("cookie_samesite", "None needs the Secure attribute, which cookie_secure = false leaves out: browsers refuse such a cookie")
		}
		c.SameSite = http.SameSiteNoneMode
	default:
		return nil, configErr("cookie_samesite", "must be Lax, Strict or None")
	}
	if err := checkCookie(c); err != nil {
		return nil, err
	}
	csrf, err := NewCrossOriginRule(cfg.TrustedOrigins, cfg.Logger)
	if err != nil {
		return nil, configErr("cookie_trusted_origins", "%w", err)
	}
	switch {
	case cfg.Profile != ProfileNone:
		return nil, configErr("profile", "is for the access tokens an authorization server issues: a cookie policy verifies the session tokens it signs itself")
	case cfg.DisableVerifySignature:
		return nil, configErr("disable_verify_signature", "a cookie policy verifies the tokens it signs: a forged cookie would otherwise be re-issued signed")
	case cfg.ReissueAfter < 0:
		return nil, configErr("cookie_reissue_time", "must not be negative")
	case cfg.ReissueAfter > 0 && cfg.Expiration < 0:
		return nil, configErr("cookie_reissue_time", "slides a session's expiry, but the tokens do not expire (expiration = 0)")
	case cfg.ReissueAfter > 0 && cfg.DisableVerifyExp:
		return nil, configErr("disable_verify_exp", "cannot be combined with cookie_reissue_time: an expired cookie would be re-issued")
	}
	ti, err := newTokenIdentities(cfg.Config)
	if err != nil {
		return nil, err
	}
	if !ti.v.CanSign() {
		return nil, configErr("master_secret", "the cookie policy signs the tokens it remembers: configure a master secret or a private key")
	}
	if cfg.ReissueAfter > 0 && cfg.ReissueAfter >= ti.cfg.Expiration {
		return nil, configErr("cookie_reissue_time", "%v is not shorter than the tokens' lifetime (expiration, %v): they would expire first", cfg.ReissueAfter, ti.cfg.Expiration)
	}
	if cfg.Insecure {
		ti.cfg.Logger.Warn("jwtauth: the cookie policy's cookie is not Secure (jwtauth.cookie_secure = false): browsers send it over plain HTTP, where anyone on the path can read it; for development only", "cookie", c.Name)
	}
	return &Cookie{tokenIdentities: ti, cookie: c, reissue: cfg.ReissueAfter, csrf: csrf}, nil
}

// checkCookie checks the cookie's name and attributes, as net/http would
// (it drops invalid attributes from Set-Cookie quietly) and as browsers
// enforce the name prefixes.
func checkCookie(c http.Cookie) error {
	probe := c
	probe.Value = "x"
	if err := probe.Valid(); err != nil {
		key := "cookie_name"
		switch {
		case strings.Contains(err.Error(), "Path"):
			key = "cookie_path"
		case strings.Contains(err.Error(), "Domain"):
			key = "cookie_domain"
		}
		return configErr(key, "%w", err)
	}
	switch {
	case strings.HasPrefix(c.Name, "__Host-") && (!c.Secure || c.Path != "/" || c.Domain != ""):
		return configErr("cookie_name", "%q starts with __Host-, which browsers accept only with Secure, the Path / and no Domain", c.Name)
	case strings.HasPrefix(c.Name, "__Secure-") && !c.Secure:
		return configErr("cookie_name", "%q starts with __Secure-, which browsers accept only with Secure", c.Name)
	}
	return nil
}

// CookieName returns the name of the policy's cookie.
func (c *Cookie) CookieName() string { return c.cookie.Name }

// Verifier returns the policy's verifier.
func (c *Cookie) Verifier() *Verifier { return c.v }

// ScopePrincipals tells whether the scopes of the policy's tokens are
// principals (Config.ScopePrincipals).
func (c *Cookie) ScopePrincipals() bool { return c.cfg.ScopePrincipals }

// ReservedPrincipalPrefixes returns the prefixes the policy reserves, as
// JWT.ReservedPrincipalPrefixes does.
func (c *Cookie) ReservedPrincipalPrefixes() ReservedPrefixes { return slices.Clone(c.reserved) }

// Close stops the background work of the policy's key sets and cache.
func (c *Cookie) Close() error { return c.v.Close() }

// Identify works out r's identity in one pass: the token from the
// policy's cookie, the verifier, the userid's principals (the reserved
// prefixes, the group finder), then the CSRF rule (CrossOriginRule.Reject).
// A request without the cookie has no credentials; one with several
// cookies of its name has invalid ones (ErrMalformedCookie), since a
// cookie set by a sibling host could otherwise shadow the real one. A
// request that the cookie authenticates but whose method is unsafe and
// which comes from another origin than the site's own or a trusted one is
// a user rejected (ErrUserRejected and ErrCrossOrigin): the browser
// attached the cookie to a request that another site's page made.
func (c *Cookie) Identify(r *http.Request) Identity {
	t, presented := c.readCookie(r)
	if presented {
		t = c.bind(r, t, "", false) // a cookie carries no proof: a bound token is refused
	}
	return c.csrf.Reject(r, c.identity(r, t, presented))
}

// readCookie is the token stage: find the token in the policy's cookie
// and verify it. presented is false when no cookie of its name came.
func (c *Cookie) readCookie(r *http.Request) (t VerifiedToken, presented bool) {
	raw, found, err := c.cookieOf(r)
	switch {
	case !found:
		return VerifiedToken{}, false
	case err != nil:
		t = VerifiedToken{Err: invalid(ErrMalformedCookie, err)}
		c.logInvalid(r, t.Err)
		return t, true
	}
	return c.verified(r, raw, true), true
}

// cookieOf returns the value of the policy's cookie; found is false when
// the request has none, and more than one is an error.
func (c *Cookie) cookieOf(r *http.Request) (raw string, found bool, err error) {
	if len(r.Header["Cookie"]) == 0 {
		return "", false, nil
	}
	cookies := r.CookiesNamed(c.cookie.Name)
	switch len(cookies) {
	case 0:
		return "", false, nil
	case 1:
		return cookies[0].Value, true, nil
	}
	return "", true, fmt.Errorf("%d cookies named %q", len(cookies), c.cookie.Name)
}

// AuthenticatedUserID returns the userid of a cookie whose token verified
// and whose user the group finder accepted. Otherwise its error matches
// ErrNoCredentials, ErrInvalidCredentials (with the reason) or
// ErrUserRejected (and ErrCrossOrigin for the CSRF rule).
func (c *Cookie) AuthenticatedUserID(r *http.Request) (string, error) {
	id := IdentityOf(r, c)
	return id.UserID, id.Err
}

// UnauthenticatedUserID returns the userid the cookie's token claims,
// without verifying it, as the JWT policy does.
func (c *Cookie) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := IdentityOf(r, c)
	return id.Claimed, id.HasClaim
}

// EffectivePrincipals returns [userid, Everyone, Authenticated, groups...]
// for an authenticated user and [Everyone] otherwise; the error is set, and
// matches ErrInvalidCredentials, when the cookie's token failed.
func (c *Cookie) EffectivePrincipals(r *http.Request) ([]string, error) {
	return IdentityOf(r, c).PrincipalsAnswer()
}

// Claims returns a copy of the verified claims of the request's cookie
// (a deep one); the error is as AuthenticatedUserID's, or, for claims that
// do not decode in full (see Identity.Claims), one matching
// ErrUserRejected, with no claims.
func (c *Cookie) Claims(r *http.Request) (Claims, error) {
	return IdentityOf(r, c).claimsErr()
}

// tokenClaimsKey is the context key of WithTokenClaims.
type tokenClaimsKey struct{}

// WithTokenClaims returns r carrying claims for the tokens that Remember
// makes for it (the cookie policy's; a policy that makes no token ignores
// them), since Remember takes none: such as {"groups": [...]}, for a
// group finder that reads them. The registered claims the policy sets
// (iat, exp, and aud and iss when configured) and the userid claim are
// the policy's, whatever claims says.
func WithTokenClaims(r *http.Request, claims map[string]any) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), tokenClaimsKey{}, maps.Clone(claims)))
}

// CookieFor makes the cookie that signs userid in: a new token for userid
// (Verifier.NewToken) with claims, in a cookie with the policy's
// attributes and Max-Age the token's lifetime (none when its tokens do not
// expire: the cookie lasts the browser session). A userid with a reserved
// prefix is refused, since its token would authenticate nobody, and so is
// a cookie larger than MaxCookieBytes. It is the typed path of Remember,
// for a handler that must know why no cookie came.
func (c *Cookie) CookieFor(userid string, claims map[string]any) (*http.Cookie, error) {
	if prefix, reserved := c.reserved.Of(userid); reserved {
		return nil, fmt.Errorf("jwtauth: cannot remember the userid: it starts with the reserved principal prefix %q", prefix)
	}
	extra := maps.Clone(claims)
	for _, k := range []string{"iat", "exp", "aud", "iss", c.cfg.UserIDClaim} {
		delete(extra, k)
	}
	token, err := c.v.NewToken(userid, extra)
	if err != nil {
		return nil, err
	}
	cookie := c.withToken(token)
	if n := len(cookie.Name) + len(cookie.Value); n > MaxCookieBytes {
		return nil, fmt.Errorf("jwtauth: the cookie would be %d bytes, more than the %d browsers keep: put fewer claims in it", n, MaxCookieBytes)
	}
	return cookie, nil
}

// MaxCookieBytes bounds a cookie's name and value together, as Chrome and
// Firefox bound them (RFC 6265 section 6.1 asks browsers to keep at least
// 4096 bytes of a cookie, its attributes included): a larger cookie would
// be dropped, and its user never signed in.
const MaxCookieBytes = 4096

// withToken is the policy's cookie holding token.
func (c *Cookie) withToken(token string) *http.Cookie {
	out := c.cookie
	out.Value = token
	if c.cfg.Expiration > 0 {
		out.MaxAge = int(c.cfg.Expiration / time.Second)
	}
	return &out
}

// Remember returns the Set-Cookie header that stores a new token for
// userid (CookieFor), with the claims WithTokenClaims gave r. It returns
// no header, and logs why, when no token can be made (a reserved userid,
// claims that do not encode as JSON or make too large a cookie, a signer
// that fails) and when r is an unsafe request from another site's page
// (CrossOriginRule.Check), which must not sign the browser in as a user
// of its choosing (login CSRF). A session slid by Admit leaves r's
// response alone.
func (c *Cookie) Remember(r *http.Request, userid string) http.Header {
	c.signedInOrOut(r)
	if err := c.csrf.Check(r); err != nil {
		c.cfg.Logger.Info("jwtauth: the cookie policy does not remember a user for a cross-origin request (login CSRF)", "method", r.Method, "remote", r.RemoteAddr)
		return http.Header{}
	}
	claims, _ := r.Context().Value(tokenClaimsKey{}).(map[string]any)
	cookie, err := c.CookieFor(userid, claims)
	if err != nil {
		c.cfg.Logger.Error("jwtauth: the cookie policy cannot remember the user", "error", err.Error())
		return http.Header{}
	}
	return http.Header{"Set-Cookie": {cookie.String()}}
}

// Forget returns the Set-Cookie header that deletes the policy's cookie:
// the same name, Path and Domain, Max-Age=0; with a revocation store, it
// revokes the cookie's token too, as JWT.Forget does. A session slid by
// Admit leaves r's response alone.
func (c *Cookie) Forget(r *http.Request) http.Header {
	c.signedInOrOut(r)
	c.forgetToken(r, c)
	return http.Header{"Set-Cookie": {c.deletion()}}
}

// deletion is the Set-Cookie value that deletes the cookie.
func (c *Cookie) deletion() string {
	out := c.cookie
	out.MaxAge = -1 // Max-Age=0
	return out.String()
}

// signedInOrOut notes, for Admit's sliding session, that r's response
// signs the browser in or out.
func (c *Cookie) signedInOrOut(r *http.Request) {
	if s := stateOf(r.Context(), c); s != nil {
		s.signedInOrOut.Store(true)
	}
}

// Challenge answers 401 with a JSON body: {"error":"unauthorized"}, or,
// when the cookie's token failed, RFC 6750's error "invalid_token" and the
// reason as error_description, with the Set-Cookie header that deletes the
// cookie; a token whose revocation could not be checked gets 503 with
// Retry-After, as JWT.Challenge answers it. A cookie is no HTTP
// authentication scheme, so the answer has no
// WWW-Authenticate header of the policy's own (in a stack, the other
// policies' challenges give it one).
func (c *Cookie) Challenge(w http.ResponseWriter, r *http.Request) {
	id := IdentityOf(r, c)
	if errors.Is(id.Err, ErrRevocationUnavailable) {
		writeUnavailable(w, ErrRevocationUnavailable.Error())
		return
	}
	body := map[string]string{"error": "unauthorized"}
	var ite *InvalidTokenError
	if errors.As(id.Err, &ite) {
		body = map[string]string{"error": "invalid_token", "error_description": ite.Reason.Error()}
		w.Header().Add("Set-Cookie", c.deletion())
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(body)
}

// Admit is asked by Authenticate before the handler runs (see Admitter).
// It refuses, with 403 and {"error":"csrf"} (CrossOriginRule.Refuse), a
// request that the CSRF rule rejected (see Identify) and that no other
// policy of root authenticated: a request that another site's page made,
// carrying the user's cookie. A request that a header authenticated is
// not subject to the rule.
//
// With ReissueAfter, a request that the cookie authenticates (for root:
// Identity.AuthenticatedBy; in a stack, one whose chosen policy is this
// one) and whose token was issued longer ago than that gets a new cookie
// on its response, with the same claims but iat (now) and exp (the
// configured expiration from now): Admit wraps w, and the cookie is added
// when the handler writes the response's header (WriteHeader, Write or
// Flush; a handler that writes nothing gets none). It is not added to a
// response that sets the policy's cookie itself, nor to the response of
// a request whose Remember or Forget was called, nor to a response a
// shared cache may keep (see mayBeStored: one that gives itself a
// lifetime or has a Last-Modified, unless Cache-Control says private,
// no-store or no-cache), where it would hand the session to others; and
// not for a request another site's page or link made (Sec-Fetch-Site
// same-site or cross-site), which must not keep a session alive. A token
// without iat is not re-issued. The wrapped response keeps Flush
// (FlushError), Hijack and Unwrap (so http.ResponseController reaches
// the rest); it has no ReadFrom, so the few responses that slide are
// copied without sendfile.
func (c *Cookie) Admit(w http.ResponseWriter, r *http.Request, root AuthenticationPolicy) (http.ResponseWriter, bool) {
	if len(r.Header["Cookie"]) == 0 {
		return w, true // not even a cookie: nothing to refuse or slide
	}
	if c.csrf.Refuse(w, r, c, root) {
		return w, false
	}
	if c.reissue > 0 && fromSite(r) {
		if id := IdentityOf(r, root); id.AuthenticatedBy(c) && !id.revocationUnchecked && c.due(id) {
			// Issued as of now, when the request was authenticated: a
			// sign-out everywhere made while the handler runs revokes it.
			return &slidingWriter{ResponseWriter: w, c: c, r: r, id: id, at: c.cfg.Now()}, true
		}
	}
	return w, true
}

// fromSite tells whether the browser sent r for the site's own page, or
// for its user (an address typed, a bookmark), or whether no browser sent
// it: another site's link or page does not keep a session alive.
func fromSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// due tells whether the token of id is old enough to be re-issued; never
// when its claims do not decode (see claimSet.getErr).
func (c *Cookie) due(id Identity) bool {
	claims, err := id.claims.getErr()
	if err != nil {
		return false
	}
	iat, present, err := claims.numericDate("iat")
	return present && err == nil && float64(c.cfg.Now().Unix())-iat >= c.reissue.Seconds()
}

// reissued is the Set-Cookie value of a new token with the claims of id
// (its jti, the session's, among them) but iat (now) and exp; an error,
// never a token of other claims, when they do not decode.
func (c *Cookie) reissued(id Identity, now time.Time) (string, error) {
	claims, err := id.claims.getErr()
	if err != nil {
		return "", err
	}
	if claims == nil {
		return "", errors.New("jwtauth: no claims to re-issue")
	}
	fresh := claims.Clone()
	fresh["iat"] = now.Unix()
	fresh["exp"] = now.Add(c.cfg.Expiration).Unix()
	token, err := c.v.Encode(map[string]any(fresh))
	if err != nil {
		return "", err
	}
	return c.withToken(token).String(), nil
}

// slidingWriter is the response of a request whose session slides: the
// re-issued cookie is added when the header is written.
type slidingWriter struct {
	http.ResponseWriter
	c    *Cookie
	r    *http.Request
	id   Identity
	at   time.Time // when the request was admitted: the new token's iat
	done bool
}

// slide adds the re-issued cookie to the header, once, unless the
// response must go without it.
func (w *slidingWriter) slide() {
	if w.done {
		return
	}
	w.done = true
	h := w.Header()
	if s := stateOf(w.r.Context(), w.c); s != nil && s.signedInOrOut.Load() || setsCookie(h, w.c.cookie.Name) || mayBeStored(h) {
		return
	}
	value, err := w.c.reissued(w.id, w.at)
	if err != nil {
		w.c.cfg.Logger.Error("jwtauth: the cookie policy cannot re-issue the cookie", "error", err.Error())
		return
	}
	h.Add("Set-Cookie", value)
	w.c.cfg.Logger.Debug("jwtauth: cookie re-issued", "remote", w.r.RemoteAddr)
}

// WriteHeader adds the cookie to a final response, then writes the header.
func (w *slidingWriter) WriteHeader(status int) {
	if status >= 200 {
		w.slide()
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write adds the cookie, then writes b.
func (w *slidingWriter) Write(b []byte) (int, error) {
	w.slide()
	return w.ResponseWriter.Write(b)
}

// Flush adds the cookie, then flushes the response, if it can be.
func (w *slidingWriter) Flush() { _ = w.FlushError() }

// FlushError adds the cookie, then flushes the response: the error is the
// wrapped response's (http.ErrNotSupported when it cannot flush), for
// http.ResponseController.
func (w *slidingWriter) FlushError() error {
	w.slide()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over, without a cookie, when the wrapped
// response can (through http.ResponseController: an HTTP/2 response says
// it cannot).
func (w *slidingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the response it wraps, for http.ResponseController.
func (w *slidingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setsCookie tells whether h sets the cookie name.
func setsCookie(h http.Header, name string) bool {
	for _, v := range h["Set-Cookie"] {
		if n, _, _ := strings.Cut(v, "="); strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// mayBeStored tells whether a shared cache may keep the response of
// headers h (RFC 9111), and hand a cookie on it to others: unless
// Cache-Control says private, no-store or no-cache, a response that gives
// itself a lifetime (Cache-Control max-age, s-maxage or public, Expires,
// the CDN's CDN-Cache-Control or Surrogate-Control) or that a cache may
// give one by heuristics (Last-Modified, as http.ServeFile sets it).
func mayBeStored(h http.Header) bool {
	lifetime := h.Get("Expires") != "" || h.Get("Last-Modified") != "" || h.Get("CDN-Cache-Control") != "" || h.Get("Surrogate-Control") != ""
	for _, v := range h["Cache-Control"] {
		for _, d := range strings.Split(v, ",") {
			d, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(d)), "=")
			switch strings.TrimSpace(d) {
			case "private", "no-store", "no-cache":
				return false
			case "public", "max-age", "s-maxage":
				lifetime = true
			}
		}
	}
	return lifetime
}
