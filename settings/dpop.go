package settings

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// The settings of DPoP (policy.Config.DPoP and DPoPProofs), without the
// prefix.
const (
	kDPoP               = "dpop"
	kDPoPAlgorithms     = "dpop_algorithms"
	kDPoPMaxAge         = "dpop_max_age"
	kDPoPNonce          = "dpop_nonce"
	kDPoPNonceSecret    = "dpop_nonce_secret"
	kDPoPTrustedProxies = "dpop_trusted_proxies"
)

// dpopSettings are the DPoP settings, which only the JWT header policy
// reads: no default of a jwt_cookie policy (notCookieDefault).
var dpopSettings = []string{kDPoP, kDPoPAlgorithms, kDPoPMaxAge, kDPoPNonce, kDPoPNonceSecret, kDPoPTrustedProxies}

// setDPoP reads dpop: disabled, allowed or required, in any case.
func setDPoP(c *policy.Config, v string) error {
	for _, m := range []policy.DPoPMode{policy.DPoPDisabled, policy.DPoPAllowed, policy.DPoPRequired} {
		if strings.EqualFold(strings.TrimSpace(v), m.String()) {
			c.DPoP = m
			return nil
		}
	}
	return bad("%q is not disabled, allowed or required", v)
}

// setDPoPAlgorithms reads dpop_algorithms, a list; policy.NewJWT checks
// each name.
func setDPoPAlgorithms(c *policy.Config, v string) error {
	algs := list(v)
	if len(algs) == 0 {
		return bad("%q names no algorithm", v)
	}
	c.DPoPProofs.Algorithms = algs
	return nil
}

// setDPoPMaxAge reads dpop_max_age, whole seconds, at least one.
func setDPoPMaxAge(c *policy.Config, v string) error {
	d, err := seconds(v)
	if err != nil {
		return err
	}
	if d == 0 {
		return bad("must be at least 1 second (the default is %d)", int(dpop.DefaultMaxAge.Seconds()))
	}
	c.DPoPProofs.MaxAge = d
	return nil
}

// setDPoPTrustedProxies reads dpop_trusted_proxies: networks (CIDR) or
// addresses, separated by whitespace or commas.
func setDPoPTrustedProxies(c *policy.Config, v string) error {
	var prefixes []netip.Prefix
	for _, s := range list(v) {
		if p, err := netip.ParsePrefix(s); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return bad("%q is neither a network (CIDR, such as 10.0.0.0/8) nor an IP address", s)
		}
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(prefixes) == 0 {
		return bad("%q names no proxy", v)
	}
	c.DPoPProofs.TrustedProxies = prefixes
	return nil
}

// checkBool checks a boolean that parseDPoPNonce reads.
func checkBool(_ *policy.Config, v string) error { _, err := asBool(v); return err }

// ignore is the setter of a setting read elsewhere (dpop_nonce_secret, by
// parseDPoPNonce), which never quotes its value.
func ignore(*policy.Config, string) error { return nil }

// parseDPoPNonce reads dpop_nonce and dpop_nonce_secret (vals holds the
// values set) into cfg: with dpop_nonce = true, a dpop.NonceSource of the
// secret, which is required then and at least dpop.MinNonceSecretBytes
// long; the secret without dpop_nonce = true is an error too. No error
// holds the secret.
func parseDPoPNonce(vals map[string]string, cfg *policy.Config) error {
	on := false
	if v, ok := vals[kDPoPNonce]; ok {
		on, _ = asBool(v) // checked by its setter
	}
	secret, hasSecret := vals[kDPoPNonceSecret]
	switch {
	case !on && hasSecret:
		return keyErr(kDPoPNonceSecret, bad("is set, but %s%s is not true", Prefix, kDPoPNonce))
	case !on:
		return nil
	case !hasSecret:
		return keyErr(kDPoPNonceSecret, bad("required with %s%s = true (at least %d bytes, the same on every instance)", Prefix, kDPoPNonce, dpop.MinNonceSecretBytes))
	case len(secret) < dpop.MinNonceSecretBytes:
		return keyErr(kDPoPNonceSecret, bad("is %d bytes; at least %d are needed", len(secret), dpop.MinNonceSecretBytes))
	}
	nonces, err := dpop.NewNonceSource([]byte(secret), 0, nil)
	if err != nil {
		// Its errors never hold the secret.
		return keyErr(kDPoPNonceSecret, bad("%s", fmt.Sprint(err)))
	}
	cfg.DPoPProofs.Nonces = nonces
	return nil
}
