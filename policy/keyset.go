package policy

import (
	"context"
	"errors"
	"log/slog"
	"slices"
)

// KeySet is a set of verification keys that can change, such as the JSON
// Web Key Set an identity provider rotates. The policy asks it for keys on
// every token it verifies, so Keys must answer from memory when it can. A
// KeySet that also has a method SetLogger(*slog.Logger) is given the
// policy's Logger by NewJWT.
type KeySet interface {
	// Issuer is the iss of the tokens this set verifies; "" means tokens
	// of any issuer (the policy's issuer setting still applies).
	Issuer() string
	// Keys returns the current keys. When kid is not "" and no key has
	// that kid, the set may refresh (rate-limited, shared by concurrent
	// callers) before answering; ctx bounds that wait. The policy checks
	// the keys of each slice returned (Key.Check) the first time it sees
	// that slice and skips, with a warning, those that fail: a set returns
	// the same slice while its keys stay the same, and never changes a
	// slice it has returned.
	Keys(ctx context.Context, kid string) ([]Key, error)
	// Version changes whenever the keys change.
	Version() uint64
	// Close stops the set's background work.
	Close() error
}

// loggerSetter is the optional part of a KeySet that logs: NewJWT gives it
// the policy's Logger (Config.Logger), as the sets of the settings package
// take it.
type loggerSetter interface {
	SetLogger(l *slog.Logger)
}

// ErrUnknownIssuer is the reason for a token whose iss names no configured
// key set; it is refused before any key is fetched.
var ErrUnknownIssuer = errors.New("issuer not accepted")

// keySetFor picks the key set of a token by its (unverified) iss: the set
// of that issuer, else a set for any issuer.
func (p *JWT) keySetFor(iss string) (KeySet, error) {
	var anyIssuer KeySet
	for _, s := range p.cfg.KeySets {
		switch s.Issuer() {
		case iss:
			return s, nil
		case "":
			anyIssuer = s
		}
	}
	if anyIssuer == nil {
		return nil, invalid(ErrUnknownIssuer, nil)
	}
	return anyIssuer, nil
}

// keysFor returns the keys of the key set that tokens of issuer iss use.
func (p *JWT) keysFor(ctx context.Context, iss, kid string) ([]Key, error) {
	set, err := p.keySetFor(iss)
	if err != nil {
		return nil, err
	}
	keys, err := set.Keys(ctx, kid)
	if err != nil {
		return nil, invalid(ErrNoKey, err)
	}
	return p.usableKeys(set, keys), nil
}

// checkedKeys are the keys a key set returned and those of them that are
// safe to verify with.
type checkedKeys struct {
	from, usable []Key
}

// usableKeys returns the keys of set that pass checkKey (a key of small
// order, off its curve or too weak verifies forgeries, or panics the
// verifier). A set's keys are asked for on every cold token and checking
// them costs more than verifying, so the answer is kept for the slice the
// set returned, until it returns another.
func (p *JWT) usableKeys(set KeySet, keys []Key) []Key {
	if c, ok := p.checkedSets.Load(set); ok {
		if c := c.(*checkedKeys); len(c.from) == len(keys) && (len(keys) == 0 || &c.from[0] == &keys[0]) {
			return c.usable
		}
	}
	usable := make([]Key, 0, len(keys))
	for _, k := range keys {
		if err := checkKey(k, false); err != nil {
			p.cfg.Logger.Warn("jwtauth: a key set's key is skipped", "kid", k.ID, "alg", k.Algorithm, "error", err.Error())
			continue
		}
		usable = append(usable, k)
	}
	p.checkedSets.Store(set, &checkedKeys{from: keys, usable: usable})
	return usable
}

// Close stops the background work of the policy's key sets and cache.
func (p *JWT) Close() error {
	if p.cache != nil {
		p.cache.StopAllGoroutines()
	}
	var errs []error
	for _, s := range p.cfg.KeySets {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// KeySetAlgorithms returns the algorithms a key set may verify: every
// supported one but HMAC, since a provider's keys are public.
func KeySetAlgorithms() []string {
	return slices.DeleteFunc(slices.Clone(algorithms), isHMAC)
}
