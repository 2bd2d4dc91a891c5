package policy

import (
	"fmt"
	"log/slog"
	"strings"
)

// The policies and their configuration hold secrets (a master secret, a
// private key): printed with fmt or logged with slog, they show their
// shape and never those.

// String names the policy's schemes and algorithms, nothing secret.
func (p *JWT) String() string {
	return fmt.Sprintf("policy.JWT{schemes: %s, %s}", strings.Join(p.cfg.Schemes, " "), p.v.describe())
}

// GoString is String, for %#v.
func (p *JWT) GoString() string { return p.String() }

// LogValue is String, for slog.
func (p *JWT) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String names the policy's cookie and algorithms, nothing secret.
func (c *Cookie) String() string {
	return fmt.Sprintf("policy.Cookie{cookie: %s, %s}", c.cookie.Name, c.v.describe())
}

// GoString is String, for %#v.
func (c *Cookie) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c *Cookie) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the verifier's algorithms, nothing secret.
func (v *Verifier) String() string { return "policy.Verifier{" + v.describe() + "}" }

// GoString is String, for %#v.
func (v *Verifier) GoString() string { return v.String() }

// LogValue is String, for slog.
func (v *Verifier) LogValue() slog.Value { return slog.StringValue(v.String()) }

// describe is what the verifier shows of itself.
func (v *Verifier) describe() string {
	return fmt.Sprintf("algorithms: %s, key sets: %d, can sign: %v", strings.Join(v.cfg.Algorithms, " "), len(v.cfg.KeySets), v.CanSign())
}

// String shows the configuration with its secrets left out: the master
// secret's length, whether keys are set.
func (c Config) String() string {
	return fmt.Sprintf("policy.Config{Algorithm: %q, Algorithms: %q, MasterSecret: %s, PrivateKey: %s, PublicKey: %s, Schemes: %q, Audience: %q, Issuer: %q, KeySets: %d}",
		c.Algorithm, c.Algorithms, secretShape(len(c.MasterSecret)), setOrNot(c.PrivateKey != nil), setOrNot(c.PublicKey != nil), c.Schemes, c.Audience, c.Issuer, len(c.KeySets))
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String shows the configuration with its secrets left out.
func (c CookieConfig) String() string {
	return fmt.Sprintf("policy.CookieConfig{Name: %q, Insecure: %v, Path: %q, Domain: %q, ReissueAfter: %v, TrustedOrigins: %q, Config: %s}",
		c.Name, c.Insecure, c.Path, c.Domain, c.ReissueAfter, c.TrustedOrigins, c.Config.String())
}

// GoString is String, for %#v.
func (c CookieConfig) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c CookieConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func secretShape(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d bytes (redacted)", n)
}

func setOrNot(set bool) string {
	if set {
		return "set (redacted)"
	}
	return "none"
}
