package settings

import (
	"slices"
	"strings"
	"time"

	"github.com/pyramid-go/jwtauth/policy/keyset"
	"github.com/pyramid-go/jwtauth/policy"
)

// jwksSettings are the settings of the key sets, read by keySets: the three
// sources first, then what tunes them.
var jwksSettings = []string{
	kJWKSFile, kJWKSURL, kOIDCIssuer,
	kJWKSRefresh, kJWKSMinRefresh, kJWKSTimeout, kJWKSAllowHTTP, kJWKSRequiredAtStart,
}

// keySets builds the key sets the settings name into cfg.KeySets:
//
//   - jwks_file: a JSON Web Key Set in a file, read again when it changes.
//     It must be readable, with a usable key, at the start.
//   - jwks_url: a JSON Web Key Set over https (http for loopback hosts, or
//     with jwks_allow_http).
//   - oidc_issuer: issuer URLs, separated by whitespace or commas; the
//     discovery document of each gives its jwks_uri. A token's iss picks
//     the set of its issuer; a token of another issuer is refused before
//     any fetch.
//
// jwks_file and jwks_url (only one of them) verify the tokens of
// jwtauth.issuer, or of any issuer when it is unset; with oidc_issuer,
// jwtauth.issuer may only be left unset or name its one issuer. The sets
// keep only asymmetric keys, of the algorithms allowed by algorithms (or
// algorithm) when set. jwks_refresh (default 3600) is the longest time
// between fetches, shortened by a response's Cache-Control max-age down to
// jwks_min_refresh (default 60, or jwks_refresh when smaller), which is
// also the shortest time between refetches for an unknown kid; jwks_timeout
// (default 10) bounds each fetch. When the first fetch fails, the set
// refuses every token (401) and keeps trying, unless
// jwks_required_at_start, which makes it an error.
//
// On an error, the sets already built are closed.
func keySets(vals map[string]string, cfg *policy.Config) error {
	file, hasFile := vals[kJWKSFile]
	rawURL, hasURL := vals[kJWKSURL]
	oidc, hasOIDC := vals[kOIDCIssuer]
	if !hasFile && !hasURL && !hasOIDC {
		for _, name := range jwksSettings[3:] {
			if _, ok := vals[name]; ok {
				return keyErr(name, bad("is set, but none of %s%s, %s%s and %s%s is", Prefix, kJWKSFile, Prefix, kJWKSURL, Prefix, kOIDCIssuer))
			}
		}
		return nil
	}
	o, err := jwksOptions(vals, cfg)
	if err != nil {
		return err
	}
	if hasFile && hasURL {
		return keyErr(kJWKSURL, bad("is set, and so is %s%s; set only one of them", Prefix, kJWKSFile))
	}
	var issuers []string
	if hasOIDC {
		issuers = list(oidc)
		for i, iss := range issuers {
			if slices.Contains(issuers[:i], iss) {
				return keyErr(kOIDCIssuer, bad("names %q twice", iss))
			}
		}
		switch {
		case len(issuers) == 0:
			return keyErr(kOIDCIssuer, bad("%q names no issuer", oidc))
		case cfg.Issuer != "" && (len(issuers) != 1 || issuers[0] != cfg.Issuer):
			return keyErr(kIssuer, bad("is %q, which is not the one issuer %s%s names; leave it unset: each issuer's tokens are verified by its own keys", cfg.Issuer, Prefix, kOIDCIssuer))
		case cfg.Issuer != "" && (hasFile || hasURL):
			name := kJWKSURL
			if hasFile {
				name = kJWKSFile
			}
			return keyErr(name, bad("would verify the tokens of %sissuer, %q, which %s%s names too; leave %sissuer unset", Prefix, cfg.Issuer, Prefix, kOIDCIssuer, Prefix))
		}
	}

	var sets []policy.KeySet
	fail := func(name string, err error) error {
		for _, s := range sets {
			s.Close()
		}
		return keyErr(name, badCause(err, "cannot use the key set"))
	}
	if hasFile {
		s, err := keyset.NewFile(strings.TrimSpace(file), cfg.Issuer, o)
		if err != nil {
			return fail(kJWKSFile, err)
		}
		sets = append(sets, s)
	}
	if hasURL {
		s, err := keyset.NewURL(strings.TrimSpace(rawURL), cfg.Issuer, o)
		if err != nil {
			return fail(kJWKSURL, err)
		}
		sets = append(sets, s)
	}
	for _, iss := range issuers {
		s, err := keyset.NewOIDC(iss, o)
		if err != nil {
			return fail(kOIDCIssuer, err)
		}
		sets = append(sets, s)
	}
	cfg.KeySets = sets
	return nil
}

// jwksOptions reads the settings that tune the key sets.
func jwksOptions(vals map[string]string, cfg *policy.Config) (keyset.Options, error) {
	o := keyset.Options{Logger: cfg.Logger}
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
