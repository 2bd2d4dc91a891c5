package policy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pyramid-go/jwtauth/internal/jws"
)

// KeySet is a set of verification keys, such as the JSON Web Key Set an
// identity provider rotates (the sets of package keyset), or keys that
// never change (NewStaticKeySet; the keys of Config.MasterSecret,
// PublicKey and PrivateKey are one too). The verifier asks it for keys on
// every token it verifies, so Keys must answer from memory when it can.
type KeySet interface {
	// Issuer is the iss of the tokens this set verifies; "" means tokens
	// of any issuer (the policy's issuer setting still applies). It never
	// changes.
	Issuer() string
	// Keys returns the current keys. When kid is not "" and no key has
	// that kid, the set may refresh (rate-limited, shared by concurrent
	// callers) before answering; ctx bounds that wait. The verifier
	// checks the keys of each version and kid (Key.Check) and skips, with
	// a warning, those that fail.
	Keys(ctx context.Context, kid string) ([]Key, error)
	// Version changes whenever the keys change, and only ever grows: a
	// token verified under one version is answered from the cache only
	// while the set's version is still that one. 0 means the set vouches
	// for no keys it could keep answering with (none fetched yet, or a
	// set its resolver dropped or closed): a token it verifies is never
	// cached, and no entry is answered while it is 0.
	Version() uint64
	// Close stops the set's background work.
	Close() error
}

// IssuerResolver finds the key sets of issuers not known in advance, such
// as the tenants of a multi-tenant provider, whose tokens' iss names the
// tenant (https://login.microsoftonline.com/{tenant}/v2.0). As
// Config.IssuerResolver, it is asked for the set of a token whose iss no
// set of Config.KeySets names; the token is then verified with the keys
// of the set it returns, whose Issuer must be the token's iss exactly.
// The keyset package's Resolver is one.
type IssuerResolver interface {
	// Resolve returns the key set of the tokens of issuer iss, or an
	// error when iss is not an issuer it accepts, or its keys cannot be
	// had (yet). iss is the token's, not verified yet: anyone's. It is
	// never "" (a token without iss is refused first), and a set whose
	// Issuer is not iss exactly is refused. It is called for every token
	// of an issuer no other set names, so it must answer from memory when
	// it can, and never let tokens of issuers that fail cause a fetch
	// each. Its errors are logged as a token's reason: they must not hold
	// the whole iss.
	Resolve(ctx context.Context, iss string) (KeySet, error)
	// Close stops the resolver's background work and closes the sets it
	// resolved.
	Close() error
}

// NewStaticKeySet returns a KeySet of keys that never change, for tokens
// of issuer ("" for any): public keys an application was given, say, one
// per kid. Each key must pass Key.Check and be asymmetric (an HMAC secret
// is Config.MasterSecret), and no two keys may share a kid: keys of one's
// own that do are a mistake, reported here (keyset.ParseJWKS, reading a
// provider's set, skips such keys and keeps the rest instead). A token that
// names a kid is verified by the key of that kid, or, when no key has it,
// by the keys without a kid (of its alg, as always).
func NewStaticKeySet(issuer string, keys ...Key) (KeySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("jwtauth: a static key set needs a key")
	}
	for i, k := range keys {
		if isHMAC(k.Algorithm) {
			return nil, fmt.Errorf("jwtauth: key %d (kid %q): %w: an HMAC secret is never in a key set (it is Config.MasterSecret)", i, k.ID, ErrUnusableKey)
		}
		if err := k.Check(); err != nil {
			return nil, fmt.Errorf("jwtauth: key %d (kid %q): %w", i, k.ID, err)
		}
		if k.ID != "" && slices.ContainsFunc(keys[:i], func(o Key) bool { return o.ID == k.ID }) {
			return nil, fmt.Errorf("jwtauth: two keys have the kid %q", k.ID)
		}
	}
	return newStaticKeySet(issuer, slices.Clip(slices.Clone(keys))), nil
}

// staticKeySet is a KeySet whose keys were checked when it was made.
type staticKeySet struct {
	issuer string
	keys   []Key
	// byKid holds, for each kid, its key and then the keys without a
	// kid: all the verifier may try for a token of that kid (the kid's
	// key when its alg is the token's, else those without a kid).
	byKid map[string][]Key
}

// newStaticKeySet indexes keys by kid, so that a token's kid picks its
// keys without a look at the others, however many there are, and gives
// each HMAC key its MAC, which keeps its keyed hashes for the next token.
func newStaticKeySet(issuer string, keys []Key) *staticKeySet {
	for i := range keys {
		if secret, ok := keys[i].Material.([]byte); ok && isHMAC(keys[i].Algorithm) {
			keys[i].mac = jws.NewMAC(keys[i].Algorithm, secret)
		}
	}
	s := &staticKeySet{issuer: issuer, keys: keys, byKid: make(map[string][]Key, len(keys))}
	var noKid []Key
	for _, k := range keys {
		if k.ID == "" {
			noKid = append(noKid, k)
		}
	}
	for _, k := range keys {
		if _, dup := s.byKid[k.ID]; k.ID != "" && !dup {
			s.byKid[k.ID] = slices.Clip(append([]Key{k}, noKid...))
		}
	}
	return s
}

func (s *staticKeySet) Issuer() string { return s.issuer }

// Keys returns, for a kid one of its keys has, that key and the keys
// without a kid (see byKid), else every key; it never allocates.
func (s *staticKeySet) Keys(_ context.Context, kid string) ([]Key, error) {
	if keys, ok := s.byKid[kid]; ok && kid != "" {
		return keys, nil
	}
	return s.keys, nil
}
func (s *staticKeySet) Version() uint64 { return 1 }
func (s *staticKeySet) Close() error    { return nil }

// verifierKeys are a verifier's key sets, and what it checked of their
// keys: the one path that chooses the keys of every token.
type verifierKeys struct {
	// sets are Config.KeySets, or the one set of the configured static
	// keys (staticOnly).
	sets       []*keyState
	staticOnly bool
	// resolver resolves the issuers no set names (Config.IssuerResolver).
	resolver IssuerResolver
	// resolved holds the states of the sets resolver returned (KeySet ->
	// *keyState), at most maxResolvedSets of them.
	resolved  sync.Map
	nResolved atomic.Int32
}

// maxResolvedSets bounds the resolved sets whose checked keys are kept;
// past it, the checks start over.
const maxResolvedSets = 1024

// keyState is one key set, and the usable keys of its current version.
type keyState struct {
	set     KeySet
	issuer  string
	static  bool // its keys were checked when it was made
	checked atomic.Pointer[checkedKeys]
}

func newKeyState(s KeySet) *keyState {
	_, static := s.(*staticKeySet)
	return &keyState{set: s, issuer: s.Issuer(), static: static}
}

// use makes sets and resolver (nil for none) the verifier's.
func (k *verifierKeys) use(sets []KeySet, resolver IssuerResolver) {
	for _, s := range sets {
		k.sets = append(k.sets, newKeyState(s))
	}
	k.resolver = resolver
}

// stateFor picks the key set of a token by its (unverified) iss: the set
// of that issuer, else the set the resolver finds, else a set for any
// issuer.
func (k *verifierKeys) stateFor(ctx context.Context, iss string) (*keyState, error) {
	var anyIssuer *keyState
	for _, s := range k.sets {
		switch {
		case s.issuer == iss:
			return s, nil
		case s.issuer == "":
			anyIssuer = s
		}
	}
	if k.resolver != nil {
		if iss == "" {
			// A resolver stands for issuers it names: a token without
			// iss names none, and a set "for any issuer" that a resolver
			// answered with would verify it.
			return nil, invalid(ErrUnknownIssuer, errors.New("the token has no iss for the resolver to resolve"))
		}
		set, err := k.resolver.Resolve(ctx, iss)
		switch {
		case err != nil:
			return nil, invalid(ErrUnknownIssuer, err)
		case set == nil || set.Issuer() != iss:
			// A token's iss is checked exactly against the issuer
			// whose keys verify it.
			return nil, invalid(ErrUnknownIssuer, errors.New("the resolver answered with the key set of another issuer"))
		}
		return k.stateOf(set), nil
	}
	if anyIssuer == nil {
		return nil, invalid(ErrUnknownIssuer, nil)
	}
	return anyIssuer, nil
}

// stateOf returns the state of a set the resolver returned. A set is
// kept by its value as a map key, so only when that value can be hashed:
// a struct whose interface field holds a slice has a comparable type but
// panics when hashed, which reflect.Value.Comparable tells.
func (k *verifierKeys) stateOf(set KeySet) *keyState {
	if !reflect.ValueOf(set).Comparable() {
		return newKeyState(set) // checked on every use
	}
	if st, ok := k.resolved.Load(set); ok {
		return st.(*keyState)
	}
	if k.nResolved.Add(1) > maxResolvedSets {
		k.resolved.Clear()
		k.nResolved.Store(1)
	}
	st, _ := k.resolved.LoadOrStore(set, newKeyState(set))
	return st.(*keyState)
}

// keysUsed is the key set that verified a token and its version then: a
// cached token is answered while the version is still that one.
type keysUsed struct {
	state   *keyState // of the set (a pointer: the cache keeps one per token)
	version uint64
}

// current tells whether the keys did not change since. Version 0 is never
// current: the set vouches for no keys (see KeySet.Version).
func (u keysUsed) current() bool {
	return u.state != nil && u.version != 0 && u.state.set.Version() == u.version
}

// keysFor returns the keys that may verify the tokens of issuer iss that
// name kid, and the set they come from.
func (v *Verifier) keysFor(ctx context.Context, iss, kid string) ([]Key, keysUsed, error) {
	st, err := v.keys.stateFor(ctx, iss)
	if err != nil {
		return nil, keysUsed{}, err
	}
	// The set is always asked (a kid it lacks may make it refresh). What
	// it answers for a kid is checked once per version of its keys, and
	// kept only when the version did not move while the keys were read.
	set := st.set
	used := keysUsed{state: st, version: set.Version()}
	keys, err := set.Keys(ctx, kid)
	if err != nil {
		return nil, keysUsed{}, invalid(ErrNoKey, err)
	}
	if st.static {
		return keys, used, nil
	}
	if used.version == 0 || set.Version() != used.version {
		return v.usableKeys(keys, nil), used, nil
	}
	c := st.checked.Load()
	if c == nil || c.version != used.version {
		c = &checkedKeys{version: used.version}
		st.checked.Store(c)
	}
	if usable, ok := c.byKid.Load(kid); ok {
		return usable.([]Key), used, nil
	}
	usable := v.usableKeys(keys, &c.reported)
	if c.kids.Add(1) <= maxCheckedKids {
		c.byKid.Store(kid, usable)
	}
	return usable, used, nil
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
		if err := checkKey(k); err != nil {
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

// Close stops the background work of the verifier's key sets and cache,
// and closes its issuer resolver and revocation store. A store shared by
// several policies is closed by the first one closed: close them
// together (a RevocationStore's Close may be called more than once).
func (v *Verifier) Close() error {
	if v.cache != nil {
		v.cache.StopAllGoroutines()
	}
	var errs []error
	for _, s := range v.cfg.KeySets {
		errs = append(errs, s.Close())
	}
	if v.cfg.IssuerResolver != nil {
		errs = append(errs, v.cfg.IssuerResolver.Close())
	}
	if v.cfg.Revocation != nil {
		errs = append(errs, v.cfg.Revocation.Close())
	}
	return errors.Join(errs...)
}

// KeySetAlgorithms returns the algorithms a key set may verify: every
// supported one but HMAC, since a provider's keys are public.
func KeySetAlgorithms() []string {
	return slices.DeleteFunc(slices.Clone(algorithms), isHMAC)
}
