package policy

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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
	// the keys of each version (Key.Check) and skips, with a warning,
	// those that fail.
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

// keySetFor picks the key set of a token by its (unverified) iss: the set
// of that issuer, else a set for any issuer. It returns the set's index in
// Config.KeySets.
func (v *Verifier) keySetFor(iss string) (int, error) {
	anyIssuer := -1
	for i, s := range v.cfg.KeySets {
		switch s.Issuer() {
		case iss:
			return i, nil
		case "":
			anyIssuer = i
		}
	}
	if anyIssuer < 0 {
		return 0, invalid(ErrUnknownIssuer, nil)
	}
	return anyIssuer, nil
}

// keysFor returns the keys of the key set that tokens of issuer iss use.
func (v *Verifier) keysFor(ctx context.Context, iss, kid string) ([]Key, error) {
	i, err := v.keySetFor(iss)
	if err != nil {
		return nil, err
	}
	// The set is always asked (a kid it lacks may make it refresh). What
	// it answers for a kid is checked once per version of its keys, and
	// kept only when the version did not move while the keys were read.
	set := v.cfg.KeySets[i]
	version := set.Version()
	keys, err := set.Keys(ctx, kid)
	if err != nil {
		return nil, invalid(ErrNoKey, err)
	}
	if set.Version() != version {
		return v.usableKeys(keys, nil), nil
	}
	c := v.checked[i].Load()
	if c == nil || c.version != version {
		c = &checkedKeys{version: version}
		v.checked[i].Store(c)
	}
	if usable, ok := c.byKid.Load(kid); ok {
		return usable.([]Key), nil
	}
	usable := v.usableKeys(keys, &c.reported)
	if c.kids.Add(1) <= maxCheckedKids {
		c.byKid.Store(kid, usable)
	}
	return usable, nil
}

// maxCheckedKids bounds the kids whose keys are kept checked for one
// version of a key set: kids come from tokens, so from anyone.
const maxCheckedKids = 256

// checkedKeys are the keys one version of a key set answered, by kid,
// that are safe to verify with.
type checkedKeys struct {
	version  uint64
	byKid    sync.Map // kid -> []Key
	kids     atomic.Int32
	reported sync.Map // the IDs of the keys logged as skipped
}

// usableKeys returns the keys that pass checkKey, as a configured key
// must: a key of small order, off its curve or too weak verifies
// forgeries, or panics the verifier. A key that fails is logged once per
// ID in reported (every time when reported is nil).
func (v *Verifier) usableKeys(keys []Key, reported *sync.Map) []Key {
	usable := make([]Key, 0, len(keys))
	for _, k := range keys {
		if err := checkKey(k, false); err != nil {
			seen := false
			if reported != nil {
				_, seen = reported.LoadOrStore(k.ID, struct{}{})
			}
			if !seen {
				v.cfg.Logger.Warn("jwtauth: a key set's key is skipped", "kid", k.ID, "alg", k.Algorithm, "error", err.Error())
			}
			continue
		}
		usable = append(usable, k)
	}
	return usable
}

// Close stops the background work of the verifier's key sets and cache.
func (v *Verifier) Close() error {
	if v.cache != nil {
		v.cache.StopAllGoroutines()
	}
	var errs []error
	for _, s := range v.cfg.KeySets {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// KeySetAlgorithms returns the algorithms a key set may verify: every
// supported one but HMAC, since a provider's keys are public.
func KeySetAlgorithms() []string {
	return slices.DeleteFunc(slices.Clone(algorithms), isHMAC)
}
