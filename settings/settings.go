// Package settings builds an authentication policy from Pyramid-style
// key/value settings read from a map, an INI file (LoadINI) or the
// environment (FromEnv): the JWT policy of the jwtauth.* keys of
// pyramid_jwtauth, or, with multiauth.policies, a stack of policies
// configured by multiauth.* keys as pyramid_multiauth reads them (see
// NewPolicy).
//
// Every key with the prefix "jwtauth." must be known; keys without it are
// ignored, so the whole [app:main] section of an application can be passed.
// An empty value leaves a setting at its default. Errors name the key at
// fault and never show the value of master_secret, private_key,
// public_key or dpop_nonce_secret, nor the contents of a key file.
package settings

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pyramid-go/jwtauth/internal/authheader"
	"github.com/pyramid-go/jwtauth/internal/pemkey"
	"github.com/pyramid-go/jwtauth/policy"
)

// Prefix begins every key this package reads.
const Prefix = "jwtauth."

// ErrUnknownKey is matched by the error for a key with the prefix that names
// no setting.
var ErrUnknownKey = errors.New("unknown setting")

// ErrBadValue is matched by the error for a setting whose value cannot be
// used, or for settings that cannot be combined.
var ErrBadValue = errors.New("bad setting value")

// Error is an error in one setting. It matches ErrUnknownKey or ErrBadValue,
// and policy.ErrConfig, with errors.Is. Its text is the key and what is
// wrong, such as
//
//	jwtauth.leeway: "abc" is not a whole number of seconds
//	jwtauth.master_secrt: unknown setting; did you mean jwtauth.master_secret?
//
// and, for a key set by an environment variable, the variable first:
//
//	JWTAUTH_MASTER_SECRT (jwtauth.master_secrt): unknown setting; did you mean JWTAUTH_MASTER_SECRET?
type Error struct {
	Key string // the full key, prefix included, such as "jwtauth.leeway"
	// Env is the environment variable that set Key, when one did (see
	// Origins), such as "JWTAUTH_LEEWAY".
	Env string
	Err error // what is wrong with it
	// Closest is, for an unknown Key, the known key nearest to it, when one
	// is near enough to be a typo of it.
	Closest string
}

// Error returns the key (or the variable) and what is wrong with it.
func (e *Error) Error() string {
	name, closest := e.Key, e.Closest
	if e.Env != "" {
		name = e.Env + " (" + e.Key + ")"
		if closest != "" {
			closest = envName(closest)
		}
	}
	msg := name + ": " + e.Err.Error()
	if closest != "" {
		msg += "; did you mean " + closest + "?"
	}
	return msg
}

// named sets the Env of the *Error in err from the Origins of its key.
func (o Origins) named(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Env == "" {
		e.Env = o[e.Key]
	}
	return err
}

// Unwrap returns what is wrong.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every settings error match policy.ErrConfig, as the errors of
// policy.NewJWT do.
func (e *Error) Is(target error) bool { return target == policy.ErrConfig }

// problem is what is wrong with a setting: a text, the sentinel it matches
// and the error behind it, if any.
type problem struct {
	msg   string
	kind  error
	cause error
}

func (p *problem) Error() string { return p.msg }

func (p *problem) Unwrap() []error {
	if p.cause == nil {
		return []error{p.kind}
	}
	return []error{p.kind, p.cause}
}

// bad is a bad value; the text must never hold a secret.
func bad(format string, args ...any) error {
	return &problem{msg: fmt.Sprintf(format, args...), kind: ErrBadValue}
}

// badCause is a bad value caused by err, whose text is appended.
func badCause(err error, format string, args ...any) error {
	return &problem{msg: fmt.Sprintf(format, args...) + ": " + err.Error(), kind: ErrBadValue, cause: err}
}

// keyErr names the setting name (without the prefix) at fault.
func keyErr(name string, err error) *Error { return &Error{Key: Prefix + name, Err: err} }

// The settings, without the prefix. find_groups_<arg> keys are handled
// apart.
const (
	kFindGroups             = "find_groups"
	kMasterSecret           = "master_secret"
	kPrivateKey             = "private_key"
	kPrivateKeyFile         = "private_key_file"
	kPublicKey              = "public_key"
	kPublicKeyFile          = "public_key_file"
	kAlgorithm              = "algorithm"
	kAlgorithms             = "algorithms"
	kLeeway                 = "leeway"
	kUserIDInClaim          = "userid_in_claim"
	kScheme                 = "scheme"
	kDisableVerifySignature = "disable_verify_signature"
	kDisableVerifyExp       = "disable_verify_exp"
	kDisableVerifyNbf       = "disable_verify_nbf"
	kDisableVerifyIat       = "disable_verify_iat"
	kDisableVerifyAud       = "disable_verify_aud"
	kAudience               = "audience"
	kIssuer                 = "issuer"
	kExpiration             = "expiration"
	kMaxTokenBytes          = "max_token_bytes"
	kCacheSize              = "cache_size"
	kTokenType              = "token_type"
	kProfile                = "profile"
	kScopePrincipals        = "scope_principals"
	kReservedPrefixes       = "reserved_principal_prefixes"
	kDebugAuthorization     = "debug_authorization"
	kJWKSFile               = "jwks_file"
	kJWKSURL                = "jwks_url"
	kOIDCIssuer             = "oidc_issuer"
	kJWKSRefresh            = "jwks_refresh"
	kJWKSMinRefresh         = "jwks_min_refresh"
	kJWKSTimeout            = "jwks_timeout"
	kJWKSAllowHTTP          = "jwks_allow_http"
	kJWKSRequiredAtStart    = "jwks_required_at_start"

	findGroupsArg = kFindGroups + "_"
)

// setter reads a (non-empty) value into c. Setters of secret settings never
// put the value in their errors.
type setter func(c *policy.Config, v string) error

// field is a setting read by a setter.
type field struct {
	name string // without the prefix
	set  setter
}

// setters are the settings other than find_groups, its arguments and the
// keys, in the order they are read (the first error is reported).
var setters = []field{
	{kMasterSecret, func(c *policy.Config, v string) error { c.MasterSecret = []byte(v); return nil }},
	{kAlgorithm, func(c *policy.Config, v string) (err error) {
		c.Algorithm, err = algorithm(strings.TrimSpace(v))
		return err
	}},
	{kAlgorithms, setAlgorithms},
	{kLeeway, func(c *policy.Config, v string) (err error) { c.Leeway, err = seconds(v); return err }},
	{kUserIDInClaim, func(c *policy.Config, v string) error { c.UserIDClaim = strings.TrimSpace(v); return nil }},
	{kScheme, setScheme},
	{kAudience, setAudience},
	{kIssuer, func(c *policy.Config, v string) error { c.Issuer = strings.TrimSpace(v); return nil }},
	{kTokenType, func(c *policy.Config, v string) error { c.TokenType = strings.TrimSpace(v); return nil }},
	{kProfile, setProfile},
	{kScopePrincipals, boolSetter(func(c *policy.Config) *bool { return &c.ScopePrincipals })},
	{kReservedPrefixes, setReservedPrefixes},
	{kExpiration, setExpiration},
	{kMaxTokenBytes, setMaxTokenBytes},
	{kCacheSize, setCacheSize},
	{kDisableVerifySignature, boolSetter(func(c *policy.Config) *bool { return &c.DisableVerifySignature })},
	{kDisableVerifyExp, boolSetter(func(c *policy.Config) *bool { return &c.DisableVerifyExp })},
	{kDisableVerifyNbf, boolSetter(func(c *policy.Config) *bool { return &c.DisableVerifyNbf })},
	{kDisableVerifyIat, boolSetter(func(c *policy.Config) *bool { return &c.DisableVerifyIat })},
	{kDisableVerifyAud, boolSetter(func(c *policy.Config) *bool { return &c.DisableVerifyAud })},
	{kDebugAuthorization, func(_ *policy.Config, v string) error { _, err := asBool(v); return err }},
	{kRevocationFailure, setRevocationFailure},
	{kDPoP, setDPoP},
	{kDPoPAlgorithms, setDPoPAlgorithms},
	{kDPoPMaxAge, setDPoPMaxAge},
	{kDPoPNonce, checkBool},
	{kDPoPNonceSecret, ignore},
	{kDPoPTrustedProxies, setDPoPTrustedProxies},
}

// knownNames are the settings, without the prefix and but for the
// find_groups_<arg> keys, sorted: the candidates of a typo.
var knownNames = func() []string {
	names := []string{kFindGroups, kPrivateKey, kPrivateKeyFile, kPublicKey, kPublicKeyFile, kRevocation}
	names = append(names, jwksSettings...)
	names = append(names, cookieSettings...)
	for _, f := range setters {
		names = append(names, f.name)
	}
	slices.Sort(names)
	return names
}()

// unknownKey is the error for the key prefix+name, which names no setting;
// known are the names (without prefix) it could be a typo of.
func unknownKey(prefix, name string, known []string) *Error {
	e := &Error{Key: prefix + name, Err: ErrUnknownKey}
	if c, ok := closest(name, known); ok {
		e.Closest = prefix + c
	}
	return e
}

// closest is the name of known nearest to name in edit distance, when
// it is near enough to be a typo: two edits, or one in four characters.
// Of names as near, the first wins.
func closest(name string, known []string) (string, bool) {
	best, bestD := "", -1
	for _, k := range known {
		if d := editDistance(name, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > 2 && bestD*4 > len(name) {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, in bytes (the
// keys are ASCII), counting insertions, deletions and substitutions.
func editDistance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b)) // no typo of a key, and no quadratic work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkKeys checks the keys of m: a key whose prefix is jwtauth. or
// multiauth. in another case (JWTAuth.leeway) is an error, since Pyramid
// would ignore it and the setting would silently not apply; and every
// jwtauth.* key must be known. Other keys, a mistyped prefix among them
// (jwtuath.leeway), are ignored, as Pyramid ignores them.
func checkKeys(m map[string]string) error {
	for _, k := range sortedKeys(m) {
		for _, p := range []string{Prefix, MultiauthPrefix} {
			if len(k) >= len(p) && !strings.HasPrefix(k, p) && strings.EqualFold(k[:len(p)], p) {
				return &Error{Key: k, Err: &problem{msg: "unknown setting: its prefix must be written " + p, kind: ErrUnknownKey}, Closest: p + k[len(p):]}
			}
		}
		if name, ok := strings.CutPrefix(k, Prefix); ok && !isKnown(name) {
			return unknownKey(Prefix, name, knownNames)
		}
	}
	return nil
}

// isKnown tells whether name (without the prefix) is a setting.
func isKnown(name string) bool {
	switch name {
	case kFindGroups, kPrivateKey, kPrivateKeyFile, kPublicKey, kPublicKeyFile, kRevocation:
		return true
	}
	if len(name) > len(findGroupsArg) && strings.HasPrefix(name, findGroupsArg) {
		return true
	}
	if slices.Contains(jwksSettings, name) || isCookieSetting(name) {
		return true
	}
	return slices.ContainsFunc(setters, func(f field) bool { return f.name == name })
}

// Parse reads the jwtauth.* settings of m into a policy.Config; keys
// without the prefix are ignored and an empty value leaves its setting at
// the default. Each key is documented on the policy.Config field it sets;
// besides those:
//
//   - find_groups names a group finder registered with RegisterGroupFinder;
//     each find_groups_<arg> key is passed to its factory as args[<arg>].
//   - private_key and public_key hold a PEM key; private_key_file and
//     public_key_file name a file that holds one. Only one of each pair may
//     be set.
//   - algorithms, audience and reserved_principal_prefixes are lists
//     separated by whitespace or commas; reserved_principal_prefixes
//     replaces the default prefixes (system. stays reserved: set it to
//     system. to reserve nothing else).
//   - leeway and expiration are whole seconds; an expiration of 0 makes
//     tokens without exp.
//   - booleans are read as Pyramid's asbool reads them: true, yes, on, 1, t,
//     y and false, no, off, 0, f, n, in any case.
//   - profile is rfc9068 or none, in any case (policy.Config.Profile);
//     rfc9068 needs audience, and issuer unless every key set is bound to
//     its issuer (oidc_issuer; jwks_file or jwks_url with issuer).
//   - dpop is disabled (the default), allowed or required, in any case
//     (policy.Config.DPoP); dpop_algorithms a list (default ES256 EdDSA
//     RS256 PS256), dpop_max_age whole seconds (default 300),
//     dpop_trusted_proxies a list of networks (CIDR) or addresses whose
//     forwarded headers are believed; dpop_nonce = true requires server
//     nonces, derived from dpop_nonce_secret (required with it, at least
//     32 bytes, the same on every instance). The proofs' replay cache is
//     the revocation store (revocation) when it is Redis, shared by the
//     instances, else the policy's own memory. Only the JWT header policy
//     reads them: a jwt_cookie policy refuses them.
//   - debug_authorization belongs to the chi adapter: Parse only checks it
//     (see DebugAuthorization).
//   - jwks_file, jwks_url and oidc_issuer (a list) name the key sets of
//     identity providers; jwks_refresh, jwks_min_refresh and jwks_timeout
//     (whole seconds, above 0), jwks_allow_http and jwks_required_at_start
//     tune them. Parse does not build them: it reads no key set and fetches
//     nothing, and returns them in Parsed.KeySets, for Parsed.Build (or
//     NewPolicy) to build. See keySets in jwks.go.
//
// Parse does no network I/O and starts nothing (it reads the key files of
// private_key_file and public_key_file). Every error is an *Error naming
// the key at fault, and the environment variable that set it when from
// (see Load) names one; it matches ErrUnknownKey or ErrBadValue. Checks
// that involve several settings, such as whether the key suits the
// algorithm, are left to policy.NewJWT.
func Parse(m map[string]string, from Origins) (Parsed, error) {
	p, err := parse(m)
	if err != nil {
		return Parsed{}, from.named(err)
	}
	p.from = from
	return p, nil
}

func parse(m map[string]string) (Parsed, error) {
	var p Parsed
	err := p.parse(m)
	return p, err
}

func (p *Parsed) parse(m map[string]string) error {
	cfg := &p.Config
	// The values that are set, by name without the prefix; unknown keys are
	// reported first, in sorted order.
	vals := map[string]string{}
	args := map[string]string{}
	if err := checkKeys(m); err != nil {
		return err
	}
	for _, k := range sortedKeys(m) {
		name, ok := strings.CutPrefix(k, Prefix)
		if !ok {
			continue
		}
		v := m[k]
		if isUnset(v) {
			continue
		}
		if arg, ok := strings.CutPrefix(name, findGroupsArg); ok {
			args[arg] = v
			continue
		}
		vals[name] = v
	}

	for _, s := range setters {
		if v, ok := vals[s.name]; ok {
			if err := s.set(cfg, v); err != nil {
				return keyErr(s.name, err)
			}
		}
	}

	var err error
	if cfg.PrivateKey, err = readKey(vals, kPrivateKey, kPrivateKeyFile, pemkey.PrivateKey); err != nil {
		return err
	}
	if cfg.PublicKey, err = readKey(vals, kPublicKey, kPublicKeyFile, pemkey.PublicKey); err != nil {
		return err
	}

	name, ok := vals[kFindGroups]
	switch {
	case ok:
		cfg.GroupFinder, err = newGroupFinder(strings.TrimSpace(name), args)
		if err != nil {
			return keyErr(kFindGroups, err)
		}
	case len(args) != 0:
		arg := slices.Sorted(maps.Keys(args))[0]
		return keyErr(findGroupsArg+arg, bad("is set, but %s%s is not", Prefix, kFindGroups))
	}

	if err := parseDPoPNonce(vals, cfg); err != nil {
		return err
	}

	if v, ok := vals[kRevocation]; ok {
		if p.Revocation, err = readRevocation(v); err != nil {
			return keyErr(kRevocation, err)
		}
	} else if _, ok := vals[kRevocationFailure]; ok {
		return keyErr(kRevocationFailure, bad("is set, but %s%s is not: there is no store to fail", Prefix, kRevocation))
	}

	p.KeySets, err = keySets(vals, cfg)
	return err
}

// NewPolicy builds the policy that the settings in m describe: a stack of
// policies when multiauth.policies is set (see newStack: each policy's
// multiauth.policy.NAME.* keys, and the jwtauth.* keys as the defaults of
// its jwt policies), and the JWT policy of the jwtauth.* keys otherwise
// (Parse, then policy.NewJWT). from names the environment variables of
// the keys that came from one (Load and FromEnv return it; nil when none
// did). logger receives the policies' logs and their key sets' (nil:
// slog.Default()); NewPolicy builds and starts the key sets the settings
// name (Parsed.Build) after every check of the settings, policy.NewJWT's
// included (made on stand-ins for the sets), so that nothing is fetched
// for settings that fail, and no set is built only to be closed. Every
// error is an *Error naming the key at fault, and its variable; it matches
// policy.ErrConfig, and ErrUnknownKey or ErrBadValue. The errors of the
// policies are kept: errors.As finds the *policy.ConfigError. The policy's
// Close stops the refresh of its key sets; on an error, none is left
// running. opts give what settings cannot say, such as an observer
// (WithObserver).
func NewPolicy(m map[string]string, from Origins, logger *slog.Logger, opts ...Option) (Policy, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p, err := newPolicy(m, logger, o)
	if err != nil {
		return nil, from.named(err)
	}
	return p, nil
}

// Option is an option of NewPolicy.
type Option func(*options)

// options are NewPolicy's options.
type options struct {
	observer *policy.Observer
}

// WithObserver gives o to every policy NewPolicy builds and to their key
// sets: the JWT and cookie policies' Config.Observer (their cache, their
// revocation refusals, their DPoP replays, and, for the JWT policy alone,
// the requests it authenticates and refuses), their key sets'
// keyset.Options.Observer (the fetches) and a stack's
// multiauth.Config.Observer (the requests the stack authenticates and
// refuses). A policy of an application's factory (RegisterPolicy) is not
// given it.
func WithObserver(o *policy.Observer) Option {
	return func(opts *options) { opts.observer = o }
}

func newPolicy(m map[string]string, logger *slog.Logger, o options) (Policy, error) {
	if err := checkKeys(m); err != nil {
		return nil, err
	}
	if !isUnset(m[kPolicies]) {
		return newStack(m, logger, o.observer)
	}
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(k, MultiauthPrefix) && !isUnset(m[k]) {
			return nil, &Error{Key: k, Err: bad("set, but %s is not: no stack is built", kPolicies)}
		}
		if name, ok := strings.CutPrefix(k, Prefix); ok && isCookieSetting(name) && !isUnset(m[k]) {
			return nil, &Error{Key: k, Err: bad("is a setting of the cookie policy, which a stack builds (%s, and multiauth.policy.NAME.use = jwt_cookie); without %s, the settings make the JWT header policy alone", kPolicies, kPolicies)}
		}
	}
	stores := newRevocationStores()
	stores.observer = o.observer
	p, err := newJWT(m, logger, stores)
	if err != nil {
		stores.closeAll()
		return nil, err // not a Policy holding a nil *policy.JWT
	}
	return p, nil
}

// newJWT builds the JWT policy of the jwtauth.* keys of m.
func newJWT(m map[string]string, logger *slog.Logger, stores *revocationStores) (*policy.JWT, error) {
	parsed, err := parse(m)
	if err != nil {
		return nil, err
	}
	parsed.stores = stores
	if err := parsed.check(func(cfg policy.Config) (io.Closer, error) { return policy.NewJWT(cfg) }); err != nil {
		return nil, policyErr(m, err)
	}
	cfg, err := parsed.Build(logger)
	if err != nil {
		return nil, err
	}
	p, err := policy.NewJWT(cfg)
	if err != nil {
		closeKeySets(cfg)
		return nil, policyErr(m, err)
	}
	return p, nil
}

// policyErr is the settings error of a policy's error: the key of m that
// set the field a *policy.ConfigError names.
func policyErr(m map[string]string, err error) error {
	var ce *policy.ConfigError
	if errors.As(err, &ce) {
		return keyErr(keyGiven(m, ce.Key), &problem{msg: ce.Err.Error(), kind: ErrBadValue, cause: err})
	}
	return err
}

// keyGiven is the key of m that set the Config field of the settings key
// key: public_key_file for a public key read from a file, and so on.
func keyGiven(m map[string]string, key string) string {
	file := map[string]string{kPublicKey: kPublicKeyFile, kPrivateKey: kPrivateKeyFile}[key]
	if file != "" && !isUnset(m[Prefix+file]) {
		return file
	}
	return key
}

// DebugAuthorization reads the boolean jwtauth.debug_authorization, which
// makes the chi adapter log why each authorization was allowed or denied
// (Pyramid's pyramid.debug_authorization). It is false when unset. from
// is as for NewPolicy.
func DebugAuthorization(m map[string]string, from Origins) (bool, error) {
	v := m[Prefix+kDebugAuthorization]
	if isUnset(v) {
		return false, nil
	}
	b, err := asBool(v)
	if err != nil {
		return false, from.named(keyErr(kDebugAuthorization, err))
	}
	return b, nil
}

// isUnset tells whether a value leaves its setting at the default.
func isUnset(v string) bool { return strings.TrimSpace(v) == "" }

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// readKey reads a PEM key given inline (under inline) or in a file (under
// file). Its errors name the key and the file's path, never key material.
func readKey[K any](vals map[string]string, inline, file string, read func([]byte) (K, error)) (K, error) {
	var zero K
	pemText, hasInline := vals[inline]
	path, hasFile := vals[file]
	switch {
	case hasInline && hasFile:
		return zero, keyErr(inline, bad("is set, and so is %s%s; set only one of them", Prefix, file))
	case hasInline:
		k, err := read([]byte(pemText))
		if err != nil {
			return zero, keyErr(inline, badCause(err, "cannot read the PEM key"))
		}
		return k, nil
	case hasFile:
		path = strings.TrimSpace(path)
		data, err := os.ReadFile(path)
		if err != nil {
			// The *fs.PathError names the path.
			return zero, keyErr(file, badCause(err, "cannot read the key file"))
		}
		k, err := read(data)
		if err != nil {
			return zero, keyErr(file, badCause(err, "cannot read the PEM key in %q", path))
		}
		return k, nil
	}
	return zero, nil
}

// asBool reads a boolean as Pyramid's asbool does, but rejects what it does
// not recognise instead of taking it for false.
func asBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1", "t", "y":
		return true, nil
	case "false", "no", "off", "0", "f", "n":
		return false, nil
	}
	return false, bad("%q is not a boolean (use true or false)", v)
}

func boolSetter(field func(*policy.Config) *bool) setter {
	return func(c *policy.Config, v string) error {
		b, err := asBool(v)
		*field(c) = b
		return err
	}
}

// wholeNumber reads a base-10 integer.
func wholeNumber(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

// seconds reads a whole, non-negative number of seconds.
func seconds(v string) (time.Duration, error) {
	n, ok := wholeNumber(v)
	switch {
	case !ok:
		return 0, bad("%q is not a whole number of seconds", v)
	case n < 0:
		return 0, bad("%q must not be negative", v)
	case n > math.MaxInt64/int64(time.Second):
		return 0, bad("%q seconds is too long", v)
	}
	return time.Duration(n) * time.Second, nil
}

func setExpiration(c *policy.Config, v string) error {
	d, err := seconds(v)
	if err != nil {
		return err
	}
	if d == 0 {
		d = policy.NoExpiration
	}
	c.Expiration = d
	return nil
}

func setMaxTokenBytes(c *policy.Config, v string) error {
	n, ok := wholeNumber(v)
	if !ok || n <= 0 || n > math.MaxInt32 {
		return bad("%q is not a positive whole number of bytes", v)
	}
	c.MaxTokenBytes = int(n)
	return nil
}

func setCacheSize(c *policy.Config, v string) error {
	n, ok := wholeNumber(v)
	if !ok || n < 0 || n > math.MaxInt32 {
		return bad("%q is not a whole number of tokens (0 turns the cache off)", v)
	}
	c.CacheSize = int(n)
	if n == 0 {
		c.CacheSize = policy.NoCache
	}
	return nil
}

// list splits a value at whitespace and commas.
func list(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

func algorithm(a string) (string, error) {
	if !slices.Contains(policy.SupportedAlgorithms(), a) {
		return "", bad("%q is not a supported algorithm (supported: %s)", a, strings.Join(policy.SupportedAlgorithms(), ", "))
	}
	return a, nil
}

func setAlgorithms(c *policy.Config, v string) error {
	algs := list(v)
	if len(algs) == 0 {
		return bad("%q names no algorithm", v)
	}
	for _, a := range algs {
		if _, err := algorithm(a); err != nil {
			return err
		}
	}
	c.Algorithms = algs
	return nil
}

func setReservedPrefixes(c *policy.Config, v string) error {
	prefixes := list(v)
	if len(prefixes) == 0 {
		return bad("%q names no prefix (set %s to reserve only the system principals)", v, policy.SystemPrefix)
	}
	c.ReservedPrincipalPrefixes = prefixes
	return nil
}

// setProfile reads profile: rfc9068 or none, in any case.
func setProfile(c *policy.Config, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case string(policy.ProfileRFC9068):
		c.Profile = policy.ProfileRFC9068
	case "none":
		c.Profile = policy.ProfileNone
	default:
		return bad("%q is not a profile (use %s, or none)", v, policy.ProfileRFC9068)
	}
	return nil
}

func setAudience(c *policy.Config, v string) error {
	aud := list(v)
	if len(aud) == 0 {
		return bad("%q names no audience", v)
	}
	c.Audience = aud
	return nil
}

func setScheme(c *policy.Config, v string) error {
	schemes := list(v)
	if len(schemes) == 0 {
		return bad("%q names no scheme", v)
	}
	for _, s := range schemes {
		if !authheader.IsScheme(s) {
			return bad("%q is not a valid authentication scheme name", s)
		}
	}
	c.Schemes = schemes
	return nil
}
