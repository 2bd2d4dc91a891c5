package policy

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"
	"github.com/maypok86/otter/v2"

	"github.com/pyramid-go/jwtauth/internal/authheader"
	"github.com/pyramid-go/jwtauth/internal/jws"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// Defaults of Config.
const (
	DefaultAlgorithm     = "HS256"
	DefaultScheme        = "JWT"
	DefaultUserIDClaim   = "sub"
	DefaultMaxTokenBytes = 8192
	// MaxMaxTokenBytes is the largest max_token_bytes accepted.
	MaxMaxTokenBytes  = 1 << 20
	DefaultExpiration = time.Hour
	// NoExpiration, as Config.Expiration, makes NewToken's tokens carry no
	// exp claim.
	NoExpiration time.Duration = -1
)

// MaxClaimNameBytes bounds the length of Config.UserIDClaim.
const MaxClaimNameBytes = 256

// MinRSABits is the smallest RSA modulus the policy accepts.
const MinRSABits = jws.MinRSABits

// SupportedAlgorithms returns the JWS algorithms a policy can be configured
// with. "none" is not among them and never will be.
func SupportedAlgorithms() []string { return slices.Clone(algorithms) }

var algorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// ErrConfig is matched by every error NewJWT returns.
var ErrConfig = errors.New("jwtauth: invalid configuration")

// ErrNoSigningKey is returned by the token-making methods of a policy that
// was given no private key or master secret.
var ErrNoSigningKey = errors.New("jwtauth: no signing key configured")

// ConfigError is an error in the configuration of a policy, naming the
// field at fault by its settings key without a prefix (jwtauth.* for the
// JWT policy, multiauth.policy.NAME.* in a stack). It matches ErrConfig.
type ConfigError struct {
	Key string // the setting at fault, such as "algorithm"
	Err error  // what is wrong with it
	// Prefix is the prefix of the setting's key in the message: "jwtauth."
	// for the JWT policy's settings.
	Prefix string
}

// Error names the setting and says what is wrong with it.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("jwtauth: setting %s%s: %v", e.Prefix, e.Key, e.Err)
}

// Is makes the error match ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Unwrap returns what is wrong.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(key, format string, args ...any) error {
	return &ConfigError{Key: key, Err: fmt.Errorf(format, args...), Prefix: "jwtauth."}
}

// Config configures a JWT policy. The zero value of each field is its
// default. The settings package builds a Config from jwtauth.* keys; each
// field's doc names its key.
type Config struct {
	// Algorithm signs the tokens the policy makes (algorithm). Default HS256.
	Algorithm string
	// Algorithms is the allow-list of algorithms a token may be verified
	// with (algorithms). Default: Algorithm alone. All must suit the one
	// verification key.
	Algorithms []string

	// MasterSecret is the HMAC key of the HS* algorithms (master_secret):
	// at least as long as the hash's output (32 bytes for HS256, 48 for
	// HS384, 64 for HS512), as RFC 7518 section 3.2 requires.
	MasterSecret []byte
	// PrivateKey signs tokens for the asymmetric algorithms (private_key,
	// private_key_file); its public half verifies when PublicKey is unset.
	PrivateKey crypto.Signer
	// PublicKey verifies tokens for the asymmetric algorithms (public_key,
	// public_key_file): an *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey.
	PublicKey crypto.PublicKey

	// Leeway is the clock skew allowed on exp, nbf and iat (leeway).
	Leeway time.Duration
	// UserIDClaim is the claim that holds the userid (userid_in_claim).
	// Default "sub". It must be valid UTF-8 without control characters, at
	// most MaxClaimNameBytes long.
	UserIDClaim string
	// Schemes are the Authorization schemes the policy reads (scheme, a
	// list), matched case-insensitively; it challenges with the first.
	// Default ["JWT"]; "Bearer" is the other usual one, and ["JWT",
	// "Bearer"] reads both.
	Schemes []string
	// Audience: when set, a token's aud must name one of these (audience).
	// When empty, a token that carries aud is rejected.
	Audience []string
	// Issuer: when set, a token's iss must equal it (issuer).
	Issuer string
	// TokenType: when set, a token's typ header must name it (token_type),
	// such as "at+jwt" for RFC 9068 access tokens, so that an ID token or
	// another kind of JWT signed by the same key is refused (RFC 8725
	// section 3.11). Compared case-insensitively, "application/" optional.
	// It must be a media subtype name (RFC 6838 section 4.2: letters,
	// digits and !#$&-^_.+, at most 127 of them), "application/" optional.
	TokenType string
	// Profile holds tokens to a profile of access tokens (profile):
	// ProfileRFC9068 requires RFC 9068's typ (at+jwt, the TokenType it
	// sets when none is) and claims, and needs Audience, and Issuer
	// unless every key set is bound to an issuer. Default ProfileNone.
	Profile Profile
	// ScopePrincipals makes each OAuth 2 scope of a verified token a
	// principal ScopePrefix+scope (scope_principals), after the groups in
	// the effective principals, so that ACLs grant permissions to scopes
	// as to groups; and the chi adapter's 403 then names the scopes that
	// would grant the permission refused. The scopes are the claim
	// "scope", or, when a token has no "scope", "scp": either a string of
	// scopes separated by single spaces (RFC 9068's "scope") or an array
	// of strings (as some providers write either); a token whose scope
	// claim is malformed (see IsScopeToken; "" is), or holds more than
	// MaxScopes scopes, is invalid credentials (ErrInvalidScope). It needs ScopePrefix reserved, as it is by
	// default (ReservedPrincipalPrefixes), so that no userid is a scope.
	// Default false: the scope claims are not read.
	ScopePrincipals bool
	// ReservedPrincipalPrefixes start the principals that name something
	// other than a user, such as groups (reserved_principal_prefixes): a
	// token whose userid starts with one is a user rejected
	// (ErrUserRejected), since userids and groups share one namespace of
	// principals and a user who chooses their own userid (a
	// preferred_username, an email) could otherwise be "group:admins" in
	// every ACL. SystemPrefix is always reserved. nil means
	// DefaultReservedPrincipalPrefixes; an empty, non-nil list reserves
	// SystemPrefix alone.
	ReservedPrincipalPrefixes []string
	// Expiration is the lifetime of the tokens NewToken makes (expiration).
	// Default one hour; NoExpiration: tokens without exp.
	Expiration time.Duration
	// MaxTokenBytes caps a token's length before any parsing
	// (max_token_bytes). Default 8192.
	MaxTokenBytes int

	// CacheSize bounds the cache of verified tokens (cache_size), which
	// skips the signature check of a token presented again while still
	// checking its times on every use. Default DefaultCacheSize; NoCache
	// turns it off.
	CacheSize int

	// Each switch turns one check off, as pyramid_jwtauth's
	// disable_verify_* settings do. A policy that does not verify
	// signatures authenticates anyone who asks: it logs a warning when built.
	DisableVerifySignature bool
	DisableVerifyExp       bool
	DisableVerifyNbf       bool
	DisableVerifyIat       bool
	DisableVerifyAud       bool

	// KeySets verify tokens with keys that can change, such as an identity
	// provider's JWKS (jwks_file, jwks_url, oidc_issuer): a token's iss
	// picks the set. They replace MasterSecret, PublicKey and PrivateKey,
	// and with them the default allow-list is every asymmetric algorithm,
	// each key verifying only its own. The policy's Close closes them.
	KeySets []KeySet
	// IssuerResolver finds the key sets of issuers not known in advance,
	// such as the tenants of a multi-tenant provider (keyset.NewResolver,
	// keyset.NewTenantResolver): a token whose iss no set of KeySets names
	// is verified with the keys of the set it resolves for that iss. Like
	// KeySets, it replaces the static keys; it cannot be combined with a
	// key set for any issuer, nor with Issuer. The policy's Close closes
	// it.
	IssuerResolver IssuerResolver

	// Revocation is the store of revoked tokens (revocation): every token
	// that verifies, a cached one included, is refused when it revoked it
	// (ErrTokenRevoked). With it, the tokens NewToken and Remember make
	// carry a random jti, and Forget revokes the request's token. The
	// policy's Close closes it.
	Revocation RevocationStore
	// RevocationFailOpen accepts a verified token when the revocation
	// store cannot be asked, with a warning (revocation_failure = open).
	// Default: refuse it (ErrRevocationUnavailable), which the challenge
	// answers 503 with Retry-After.
	RevocationFailOpen bool

	// DPoP makes the JWT header policy read DPoP-bound tokens (RFC 9449)
	// under the scheme DPoP, beside Schemes (dpop): DPoPDisabled (the
	// default), DPoPAllowed or DPoPRequired. A token whose claims bind it
	// to a key (cnf.jkt) must come under the DPoP scheme with a proof of
	// that key, whatever the mode: with DPoP disabled, and under another
	// scheme, it is invalid credentials (ErrTokenBound), since a bound
	// token is never a bearer token. A token under the DPoP scheme must be
	// bound (ErrTokenNotBound); with DPoPRequired every token must
	// (ErrDPoPRequired). A proof that fails is ErrInvalidDPoPProof. The
	// cookie policy refuses it.
	DPoP DPoPMode
	// DPoPProofs are the settings of the DPoP proof verifier, with DPoP:
	// Algorithms (dpop_algorithms; default dpop.DefaultAlgorithms),
	// MaxAge (dpop_max_age; default 300 s), Nonces (dpop_nonce,
	// dpop_nonce_secret), TrustedProxies (dpop_trusted_proxies). Its
	// Leeway defaults to Leeway, its Now to Now, and its Replay to
	// Revocation when that is a dpop.ReplayCache (the Redis store of
	// policy/redisrevocation, which the instances sharing it share), else
	// to a dpop.MemoryReplayCache of the policy's own. A proof is verified
	// on every request, never cached. Set with DPoP disabled, it is an
	// error.
	DPoPProofs dpop.Config

	// GroupFinder is called for each verified userid (find_groups).
	// Default AcceptAll.
	GroupFinder GroupFinder
	// Logger receives the policy's warnings and the reasons tokens fail.
	// Default slog.Default().
	Logger *slog.Logger
	// Observer is told of the policy's events (see Observer): the
	// requests it authenticates or refuses under Authenticate (when it is
	// the policy Authenticate was given), its verified-token cache's hits
	// and misses, its revocation refusals and DPoP replays. Its key sets
	// report their fetches to keyset.Options.Observer. Default nil:
	// nothing is reported, at the cost of a nil check.
	Observer *Observer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// JWT is the JSON Web Token authentication policy: pyramid_jwtauth's
// JWTAuthenticationPolicy, a transport that reads the token from the
// Authorization header around a Verifier. It is safe for concurrent use.
type JWT struct {
	tokenIdentities
	forget string // the WWW-Authenticate challenge
	// schemes are the schemes read: Config.Schemes, and DPoPScheme with
	// DPoP on (the last).
	schemes []string
	// otherScheme logs, once, a request whose Authorization header used
	// a scheme of a token the policy could read, but not one of its own.
	otherScheme sync.Once
}

var (
	_ AuthenticationPolicy = (*JWT)(nil)
	_ Observable           = (*JWT)(nil)
	_ Identifier           = (*JWT)(nil)
)

// NewJWT checks cfg and builds the policy and its Verifier. Every error
// matches ErrConfig and names the setting at fault; none holds key
// material.
func NewJWT(cfg Config) (*JWT, error) {
	if len(cfg.Schemes) == 0 {
		cfg.Schemes = []string{DefaultScheme}
	}
	cfg.Schemes = slices.Clone(cfg.Schemes)
	for i, s := range cfg.Schemes {
		if !authheader.IsScheme(s) {
			return nil, configErr("scheme", "%q is not a valid authentication scheme name", s)
		}
		if slices.ContainsFunc(cfg.Schemes[:i], func(t string) bool { return strings.EqualFold(s, t) }) {
			return nil, configErr("scheme", "names %q twice", s)
		}
	}
	ti, err := newTokenIdentities(cfg)
	if err != nil {
		return nil, err
	}
	if ti.proofs, err = newDPoP(ti.cfg); err != nil {
		ti.v.Close()
		return nil, err
	}
	p := &JWT{tokenIdentities: ti, forget: cfg.Schemes[0], schemes: cfg.Schemes}
	if ti.proofs != nil {
		p.schemes = append(slices.Clone(cfg.Schemes), DPoPScheme)
	}
	return p, nil
}

// Verifier returns the policy's verifier, which other transports of the
// same tokens (a cookie) can share.
func (p *JWT) Verifier() *Verifier { return p.v }

// Close stops the background work of the policy's key sets and cache.
func (p *JWT) Close() error { return p.v.Close() }

// Verifier verifies compact JWS tokens (a raw token in, its verified
// claims or a typed reason out), with the keys, key sets, allow-list,
// claim checks and cache of a Config, and makes tokens with its signing
// key. It knows nothing of where a token comes from: the JWT policy reads
// it from the Authorization header. It is safe for concurrent use.
type Verifier struct {
	cfg        Config
	algs       []jose.SignatureAlgorithm // the verification allow-list
	keys       verifierKeys              // the key sets, or the static keys as one
	cache      *otter.Cache[string, cachedToken]
	seen       doorkeeper     // tokens verified once, not yet cached
	headers    jws.HeaderMemo // the last header that passed the strict check
	signingKey any            // []byte, a crypto.Signer, or nil
	// revocationLogged is the second the revocation store's failure was
	// last logged.
	revocationLogged atomic.Int64
}

// NewVerifier checks the verification settings of cfg (its keys,
// algorithms, claim checks and cache; the Authorization scheme, group
// finder and reserved prefixes are the policy's) and builds the verifier.
// Every error matches ErrConfig and names the setting at fault; none
// holds key material. Its Close stops the background work of its key sets
// and cache.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.KeySets) > 0 || cfg.IssuerResolver != nil {
		if err := checkKeySetConfig(&cfg); err != nil {
			return nil, err
		}
	} else if cfg.Algorithm == "" {
		cfg.Algorithm = DefaultAlgorithm
	}
	if cfg.Algorithm != "" && !slices.Contains(algorithms, cfg.Algorithm) {
		return nil, configErr("algorithm", "unsupported algorithm %q (supported: %s)", cfg.Algorithm, strings.Join(algorithms, ", "))
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{cfg.Algorithm}
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(algorithms, a) {
			return nil, configErr("algorithms", "unsupported algorithm %q (supported: %s)", a, strings.Join(algorithms, ", "))
		}
	}
	if cfg.UserIDClaim == "" {
		cfg.UserIDClaim = DefaultUserIDClaim
	}
	if err := checkClaimName(cfg.UserIDClaim); err != nil {
		return nil, configErr("userid_in_claim", "%w", err)
	}
	if cfg.TokenType != "" && !isMediaSubtype(mediaType(cfg.TokenType)) {
		return nil, configErr("token_type", "%q is not a media type (such as at+jwt or application/at+jwt)", cfg.TokenType)
	}
	if err := checkProfile(&cfg); err != nil {
		return nil, err
	}
	if cfg.Leeway < 0 {
		return nil, configErr("leeway", "must not be negative")
	}
	if cfg.Expiration == 0 {
		cfg.Expiration = DefaultExpiration
	}
	if cfg.Revocation != nil && cfg.Expiration < 0 {
		return nil, configErr("expiration", "tokens without exp (expiration = 0) cannot be revoked for good: a revocation store remembers a token until it expires")
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if cfg.MaxTokenBytes < 0 || cfg.MaxTokenBytes > MaxMaxTokenBytes {
		return nil, configErr("max_token_bytes", "must be between 1 and %d", MaxMaxTokenBytes)
	}
	switch {
	case cfg.CacheSize == 0:
		cfg.CacheSize = DefaultCacheSize
	case cfg.CacheSize < 0 && cfg.CacheSize != NoCache:
		return nil, configErr("cache_size", "must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if len(cfg.KeySets) == 0 && cfg.IssuerResolver == nil {
		if err := v.setKeys(); err != nil {
			return nil, err
		}
	} else {
		v.keys.use(cfg.KeySets, cfg.IssuerResolver)
	}
	if cfg.CacheSize > 0 {
		cache, err := newTokenCache(cfg.CacheSize, cfg.Now)
		if err != nil {
			return nil, configErr("cache_size", "%v", err)
		}
		v.cache = cache
		v.seen = newDoorkeeper(2 * cfg.CacheSize)
	}
	if cfg.DisableVerifySignature {
		cfg.Logger.Warn("jwtauth: signature verification is disabled (jwtauth.disable_verify_signature): any client can claim any userid")
	}
	return v, nil
}

// checkKeySetConfig checks a configuration of key sets: no static key
// beside them, and an allow-list (by default every asymmetric algorithm)
// without HMAC, since a provider's keys are public.
func checkKeySetConfig(cfg *Config) error {
	switch {
	case len(cfg.MasterSecret) > 0:
		return configErr("master_secret", "cannot be combined with a key set (jwks_file, jwks_url, oidc_issuer)")
	case cfg.PublicKey != nil:
		return configErr("public_key", "cannot be combined with a key set (jwks_file, jwks_url, oidc_issuer)")
	case cfg.PrivateKey != nil:
		return configErr("private_key", "cannot be combined with a key set (jwks_file, jwks_url, oidc_issuer)")
	}
	if len(cfg.Algorithms) == 0 && cfg.Algorithm == "" {
		cfg.Algorithms = KeySetAlgorithms()
	}
	for _, a := range append(slices.Clone(cfg.Algorithms), cfg.Algorithm) {
		if isHMAC(a) {
			return configErr("algorithms", "%s is never allowed with a key set: a provider's keys are public", a)
		}
	}
	issuers := map[string]bool{}
	for _, s := range cfg.KeySets {
		if isNilKeySet(s) {
			return configErr("oidc_issuer", "a nil key set")
		}
		if issuers[s.Issuer()] {
			return configErr("oidc_issuer", "two key sets for the issuer %q", s.Issuer())
		}
		issuers[s.Issuer()] = true
	}
	switch {
	case cfg.IssuerResolver == nil:
	case isNilKeySet(cfg.IssuerResolver):
		return configErr("oidc_issuer", "a nil issuer resolver")
	case issuers[""]:
		return configErr("oidc_issuer", "an issuer resolver and a key set for any issuer cannot be combined: which one verifies a token of an issuer neither names?")
	case cfg.Issuer != "":
		return configErr("issuer", "cannot be combined with an issuer resolver, whose tokens each name their own issuer")
	}
	return nil
}

// isNilKeySet tells a nil key set or resolver, or one holding a nil
// pointer, which would panic on the first token.
func isNilKeySet(s any) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// setKeys makes the verification keys, one per allowed algorithm, into
// the verifier's one key set, and the signing key, and checks that every
// configured algorithm suits them.
func (v *Verifier) setKeys() error {
	c := &v.cfg
	v.keys.staticOnly = true
	var keys []Key
	hmac := isHMAC(c.Algorithm)
	for _, a := range c.Algorithms {
		if isHMAC(a) != hmac {
			return configErr("algorithms", "%s and %s need different kinds of key; one policy verifies with one key", c.Algorithm, a)
		}
	}
	var material any
	keyName := "master_secret"
	if hmac {
		if c.PublicKey != nil || c.PrivateKey != nil {
			return configErr("algorithm", "%s is an HMAC algorithm, but a public or private key is configured: a public key is never used as an HMAC secret", c.Algorithm)
		}
		if len(c.MasterSecret) > 0 {
			secret := bytes.Clone(c.MasterSecret) // the caller's slice may change
			material, v.signingKey = secret, secret
		}
	} else {
		if len(c.MasterSecret) != 0 {
			return configErr("master_secret", "is set, but algorithm %s does not use it; configure a public or private key", c.Algorithm)
		}
		keyName = "public_key"
		if c.PublicKey != nil {
			material = c.PublicKey
		}
		if c.PrivateKey != nil {
			pub, err := publicOf(c.PrivateKey)
			if err == nil {
				err = jws.CheckKey(pub, c.Algorithm)
			}
			if err != nil {
				return configErr("private_key", "%w", err)
			}
			if material == nil {
				material, keyName = pub, "private_key"
			} else if eq, ok := material.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
				return configErr("public_key", "does not match the private key")
			}
			v.signingKey = c.PrivateKey
		}
	}
	if material == nil {
		if c.DisableVerifySignature {
			return nil
		}
		if hmac {
			return configErr("master_secret", "required by algorithm %s", c.Algorithm)
		}
		return configErr("public_key", "required by algorithm %s (or a private key, whose public half is used)", c.Algorithm)
	}
	for _, a := range append([]string{c.Algorithm}, c.Algorithms...) {
		k := Key{Algorithm: a, Material: material}
		if err := checkKey(k); err != nil {
			if hmac {
				return configErr("master_secret", "%w", err)
			}
			if a != c.Algorithm {
				keyName = "algorithms"
			}
			return configErr(keyName, "%w", err)
		}
		if slices.Contains(c.Algorithms, a) && !slices.ContainsFunc(keys, func(k Key) bool { return k.Algorithm == a }) {
			keys = append(keys, k)
		}
	}
	v.keys.sets = []*keyState{newKeyState(newStaticKeySet("", keys))}
	return nil
}

func isHMAC(alg string) bool { return strings.HasPrefix(alg, "HS") }

// hashBytes is the output size of the hash of an HS algorithm.
func hashBytes(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// Scheme returns the Authorization scheme the policy challenges with: the
// first of those it reads.
func (p *JWT) Scheme() string { return p.cfg.Schemes[0] }

// Schemes returns the Authorization schemes the policy reads.
func (p *JWT) Schemes() []string { return slices.Clone(p.cfg.Schemes) }

// ScopePrincipals tells whether the scopes of the policy's tokens are
// principals (Config.ScopePrincipals): the chi adapter's 403 then names
// the scopes that would grant the permission refused.
func (p *JWT) ScopePrincipals() bool { return p.cfg.ScopePrincipals }

// ReservedPrincipalPrefixes returns the prefixes the policy reserves
// (Config.ReservedPrincipalPrefixes, with SystemPrefix), so that a stack
// can check that no userid of it is a principal another policy gives,
// such as a scope (multiauth.New).
func (p *JWT) ReservedPrincipalPrefixes() ReservedPrefixes { return slices.Clone(p.reserved) }

// checkClaimName tells what makes name no name of a claim: empty, too
// long, invalid UTF-8, or holding a control character.
func checkClaimName(name string) error {
	switch {
	case name == "":
		return errors.New("is empty")
	case len(name) > MaxClaimNameBytes:
		return fmt.Errorf("is longer than %d bytes", MaxClaimNameBytes)
	case !utf8.ValidString(name):
		return errors.New("is not valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%q holds a control character", name)
	}
	return nil
}

// isMediaSubtype tells whether s is an RFC 6838 restricted-name: a letter
// or digit, then at most 126 letters, digits and !#$&-^_.+.
func isMediaSubtype(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && strings.IndexByte("!#$&-^_.+", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Remember returns no headers: the client keeps its token and presents it.
func (p *JWT) Remember(r *http.Request, userid string) http.Header { return http.Header{} }

// Forget returns the one header "WWW-Authenticate: <scheme>", which asks the
// client to drop its credentials; with a revocation store, it revokes the
// request's token too (when it verified and has a jti; logged otherwise),
// so that a copy the client kept no longer serves.
func (p *JWT) Forget(r *http.Request) http.Header {
	p.forgetToken(r, p)
	return http.Header{"Www-Authenticate": {p.forget}}
}
