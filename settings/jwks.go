package settings

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// jwksSettings are the settings of the key sets, read by keySets: the three
// sources first, then what tunes them.
var jwksSettings = []string{
	kJWKSFile, kJWKSURL, kOIDCIssuer,
	kJWKSRefresh, kJWKSMinRefresh, kJWKSTimeout, kJWKSAllowHTTP, kJWKSRequiredAtStart,
}

// Parsed is what Parse reads from the jwtauth.* settings: the policy's
// configuration, and the key sets the settings name, which are not built
// yet (Parse does no network I/O and starts nothing). Build builds them;
// NewPolicy does both.
type Parsed struct {
	// Config is the policy's configuration. Its KeySets are empty: Build
	// fills them in.
	Config policy.Config
	// KeySets are the key sets the settings name (jwks_file, jwks_url,
	// oidc_issuer), in that order. An application may change their
	// Options before Build: give them its *http.Client, say.
	KeySets []KeySetSpec
	// Revocation is the revocation store the settings name
	// (jwtauth.revocation): "memory", the URL of a Redis server, or ""
	// for none. Build opens it.
	Revocation string

	from   Origins           // the environment variables of the keys, for Build's errors
	stores *revocationStores // the stores shared by the policies of one NewPolicy
}

// Source is where a KeySetSpec's keys come from.
type Source int

// The sources of a key set.
const (
	JWKSFile   Source = iota + 1 // jwks_file: keyset.NewFile
	JWKSURL                      // jwks_url: keyset.NewURL
	OIDCIssuer                   // oidc_issuer: keyset.NewOIDC
)

// KeySetSpec is a key set that settings name, not built yet.
type KeySetSpec struct {
	// Source says which constructor of package keyset builds it.
	Source Source
	// Location is the file's path, the URL, or the issuer.
	Location string
	// Issuer is the iss of the tokens it verifies ("" for any issuer).
	Issuer string
	// Options are its options (jwks_refresh, jwks_min_refresh,
	// jwks_timeout, jwks_allow_http, jwks_required_at_start, and the
	// allow-list of algorithms). Build gives it its logger when Logger is
	// nil.
	Options keyset.Options
}

// setting is the key that names the spec's source, without the prefix.
func (s KeySetSpec) setting() string {
	switch s.Source {
	case JWKSFile:
		return kJWKSFile
	case JWKSURL:
		return kJWKSURL
	}
	return kOIDCIssuer
}

// Build builds and starts the key set of the spec: it reads the file, or
// fetches the URL or the issuer's discovery document, within
// Options.Timeout (see keyset.NewFile, NewURL and NewOIDC).
func (s KeySetSpec) Build() (*keyset.Set, error) {
	switch s.Source {
	case JWKSFile:
		return keyset.NewFile(s.Location, s.Issuer, s.Options)
	case JWKSURL:
		return keyset.NewURL(s.Location, s.Issuer, s.Options)
	case OIDCIssuer:
		return keyset.NewOIDC(s.Location, s.Options)
	}
	return nil, errors.New("settings: a key set spec without a source")
}

// Build builds and starts the key sets of p, in order, with logger (nil:
// slog.Default()) as their Logger (unless a spec has one) and as the
// Config's, and returns p.Config with them in KeySets. An error names the
// setting of the set at fault (and its environment variable); the sets
// built before it are closed then, so that none is left running. Once
// built, the sets are the policy's (policy.NewJWT): its Close closes them.
// The Config's Observer (NewPolicy's, from WithObserver, when it has
// none) is given to the key sets whose Options have none, for their
// fetches.
func (p Parsed) Build(logger *slog.Logger) (policy.Config, error) {
	cfg := p.Config
	if logger == nil {
		logger = slog.Default()
	}
	cfg.Logger = logger
	if cfg.Observer == nil && p.stores != nil {
		cfg.Observer = p.stores.observer
	}
	cfg.KeySets = nil
	if p.Revocation != "" {
		stores := p.stores
		if stores == nil {
			stores = newRevocationStores()
		}
		store, err := stores.get(p.Revocation, logger)
		if err != nil {
			return policy.Config{}, p.from.named(keyErr(kRevocation, badCause(err, "cannot use the revocation store")))
		}
		cfg.Revocation = store
	}
	for _, spec := range p.KeySets {
		if spec.Options.Logger == nil {
			spec.Options.Logger = logger
		}
		if spec.Options.Observer == nil {
			spec.Options.Observer = cfg.Observer
		}
		s, err := spec.Build()
		if err != nil {
			closeKeySets(cfg)
			if p.stores == nil && cfg.Revocation != nil {
				cfg.Revocation.Close() // its own, which no policy will close
			}
			return policy.Config{}, p.from.named(keyErr(spec.setting(), badCause(err, "cannot use the key set")))
		}
		cfg.KeySets = append(cfg.KeySets, s)
	}
	return cfg, nil
}

// pendingSet stands in, for the checks of policy.NewJWT, for a key set not
// built yet: it has the issuer of the set, and no key.
type pendingSet struct{ issuer string }

func (s pendingSet) Issuer() string                                   { return s.issuer }
func (pendingSet) Keys(context.Context, string) ([]policy.Key, error) { return nil, nil }
func (pendingSet) Version() uint64                                    { return 0 }
func (pendingSet) Close() error                                       { return nil }

// check runs the checks that build, a policy's constructor such as
// policy.NewJWT, makes of p's Config with key sets, before any set is
// built: with stand-ins for the sets, no cache and no logger, so that a
// configuration the policy refuses fetches nothing, and no set is built
// only to be closed. The policy it made is closed.
func (p Parsed) check(build func(policy.Config) (io.Closer, error)) error {
	if len(p.KeySets) == 0 {
		return nil
	}
	cfg := p.Config
	cfg.KeySets = nil
	for _, spec := range p.KeySets {
		cfg.KeySets = append(cfg.KeySets, pendingSet{spec.Issuer})
	}
	cfg.CacheSize = policy.NoCache
	cfg.Logger = slog.New(slog.DiscardHandler)
	made, err := build(cfg)
	if err != nil {
		return err
	}
	return made.Close()
}

// keySets reads the key sets the settings name, without building them:
//
//   - jwks_file: a JSON Web Key Set in a file, read again when it changes.
//     It must be readable, with a usable key, when it is built.
//   - jwks_url: a JSON Web Key Set over https (http for loopback hosts, or
//     with jwks_allow_http).
//   - oidc_issuer: issuer URLs, separated by whitespace or commas; the
//     discovery document of each gives its jwks_uri. A token's iss picks
//     the set of its issuer; a token of another issuer is refused before
//     any fetch.
//
// jwks_file and jwks_url (only one of them) verify the tokens of
// jwtauth.issuer, or of any issuer when it is unset; with oidc_issuer,
// jwtauth.issuer may only be left unset or name its one issuer. No static
// key (master_secret, public_key, private_key) may be set beside them. The
// sets keep only asymmetric keys, of the algorithms allowed by algorithms
// (or algorithm) when set. jwks_refresh (default 3600) is the longest time
// between fetches, shortened by a response's Cache-Control max-age down to
// jwks_min_refresh (default 60, or jwks_refresh when smaller), which is
// also the shortest time between refetches for an unknown kid;
// jwks_timeout (default 10) bounds each fetch. When the first fetch fails,
// the set refuses every token (401) and keeps trying, unless
// jwks_required_at_start, which makes it an error of NewPolicy (Build).
func keySets(vals map[string]string, cfg *policy.Config) ([]KeySetSpec, error) {
	file, hasFile := vals[kJWKSFile]
	rawURL, hasURL := vals[kJWKSURL]
	oidc, hasOIDC := vals[kOIDCIssuer]
	if !hasFile && !hasURL && !hasOIDC {
		for _, name := range jwksSettings[3:] {
			if _, ok := vals[name]; ok {
				return nil, keyErr(name, bad("is set, but none of %s%s, %s%s and %s%s is", Prefix, kJWKSFile, Prefix, kJWKSURL, Prefix, kOIDCIssuer))
			}
		}
		return nil, nil
	}
	o, err := jwksOptions(vals, cfg)
	if err != nil {
		return nil, err
	}
	if hasFile && hasURL {
		return nil, keyErr(kJWKSURL, bad("is set, and so is %s%s; set only one of them", Prefix, kJWKSFile))
	}
	// The static keys, checked here so that nothing is fetched for a
	// configuration that policy.NewJWT would refuse.
	for _, k := range []string{kMasterSecret, kPublicKey, kPublicKeyFile, kPrivateKey, kPrivateKeyFile} {
		if _, ok := vals[k]; ok {
			return nil, keyErr(k, bad("cannot be combined with a key set (%s%s, %s%s, %s%s)", Prefix, kJWKSFile, Prefix, kJWKSURL, Prefix, kOIDCIssuer))
		}
	}
	var issuers []string
	if hasOIDC {
		issuers = list(oidc)
		for i, iss := range issuers {
			if slices.Contains(issuers[:i], iss) {
				return nil, keyErr(kOIDCIssuer, bad("names %q twice", iss))
			}
			if err := keyset.CheckIssuer(iss, o.AllowHTTP); err != nil {
				return nil, keyErr(kOIDCIssuer, badCause(err, "cannot use the key set"))
			}
		}
		switch {
		case len(issuers) == 0:
			return nil, keyErr(kOIDCIssuer, bad("%q names no issuer", oidc))
		case cfg.Issuer != "" && (len(issuers) != 1 || issuers[0] != cfg.Issuer):
			return nil, keyErr(kIssuer, bad("is %q, which is not the one issuer %s%s names; leave it unset: each issuer's tokens are verified by its own keys", cfg.Issuer, Prefix, kOIDCIssuer))
		case cfg.Issuer != "" && (hasFile || hasURL):
			name := kJWKSURL
			if hasFile {
				name = kJWKSFile
			}
			return nil, keyErr(name, bad("would verify the tokens of %sissuer, %q, which %s%s names too; leave %sissuer unset", Prefix, cfg.Issuer, Prefix, kOIDCIssuer, Prefix))
		}
	}

	var specs []KeySetSpec
	if hasFile {
		specs = append(specs, KeySetSpec{Source: JWKSFile, Location: strings.TrimSpace(file), Issuer: cfg.Issuer, Options: o})
	}
	if hasURL {
		u := strings.TrimSpace(rawURL)
		if err := keyset.CheckURL(u, o.AllowHTTP); err != nil {
			return nil, keyErr(kJWKSURL, badCause(err, "cannot use the key set"))
		}
		specs = append(specs, KeySetSpec{Source: JWKSURL, Location: u, Issuer: cfg.Issuer, Options: o})
	}
	for _, iss := range issuers {
		specs = append(specs, KeySetSpec{Source: OIDCIssuer, Location: iss, Issuer: iss, Options: o})
	}
	return specs, nil
}

// jwksOptions reads the settings that tune the key sets.
func jwksOptions(vals map[string]string, cfg *policy.Config) (keyset.Options, error) {
	var o keyset.Options
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{kJWKSRefresh, &o.Refresh}, {kJWKSMinRefresh, &o.MinRefresh}, {kJWKSTimeout, &o.Timeout}} {
		v, ok := vals[d.name]
		if !ok {
			continue
		}
		n, err := seconds(v)
		if err == nil && n == 0 {
			err = bad("%q is not a positive whole number of seconds", v)
		}
		if err != nil {
			return o, keyErr(d.name, err)
		}
		*d.to = n
	}
	refresh := o.Refresh
	if refresh == 0 {
		refresh = keyset.DefaultRefresh
	}
	if o.MinRefresh > refresh {
		return o, keyErr(kJWKSMinRefresh, bad("%d seconds is longer than %s%s (%d seconds)", int64(o.MinRefresh/time.Second), Prefix, kJWKSRefresh, int64(refresh/time.Second)))
	}
	for _, b := range []struct {
		name string
		to   *bool
	}{{kJWKSAllowHTTP, &o.AllowHTTP}, {kJWKSRequiredAtStart, &o.RequiredAtStart}} {
		if v, ok := vals[b.name]; ok {
			var err error
			if *b.to, err = asBool(v); err != nil {
				return o, keyErr(b.name, err)
			}
		}
	}

	// The allow-list, checked here so that nothing is fetched for a
	// configuration that policy.NewJWT would refuse.
	name, algs := kAlgorithms, cfg.Algorithms
	if len(algs) == 0 && cfg.Algorithm != "" {
		name, algs = kAlgorithm, []string{cfg.Algorithm}
	}
	for _, a := range algs {
		if !slices.Contains(policy.KeySetAlgorithms(), a) { // a is supported: checked before
			return o, keyErr(name, bad("%s is never allowed with a key set (%s%s, %s%s, %s%s): its keys are public", a, Prefix, kJWKSFile, Prefix, kJWKSURL, Prefix, kOIDCIssuer))
		}
	}
	if len(algs) > 0 {
		o.Algorithms = algs
	}
	return o, nil
}
