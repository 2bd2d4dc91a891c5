package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// The keys of a stack of policies, as pyramid_multiauth reads them:
//
//	multiauth.policies = api svc
//	multiauth.policy.api.use = jwt
//	multiauth.policy.api.master_secret = ...
//	multiauth.policy.svc.use = basic
//	multiauth.policy.svc.check = myapp:check
//	multiauth.groupfinder = myapp:groupfinder
const (
	// MultiauthPrefix begins every key of a stack.
	MultiauthPrefix = "multiauth."

	kPolicies         = MultiauthPrefix + "policies"
	kStackGroupFinder = MultiauthPrefix + "groupfinder"
	stackFinderArg    = kStackGroupFinder + "_"
	policyKeyPrefix   = MultiauthPrefix + "policy."
)

// Policy is a policy built from settings: the JWT policy, or a stack of
// policies. Close stops the background work of its key sets.
type Policy interface {
	policy.AuthenticationPolicy
	Close() error
}

// PolicyFactory makes the policy that multiauth.policy.NAME.use names from
// that policy's settings: its multiauth.policy.NAME.<key> keys, by <key>
// (use left out), and the jwtauth.* keys of m as they are (which the jwt
// factory takes for defaults). An *Error it returns names its key as
// written in the settings it was given; any other error is reported under
// multiauth.policy.NAME.use. logger is the caller's.
type PolicyFactory func(settings, m map[string]string, logger *slog.Logger) (policy.AuthenticationPolicy, error)

var (
	policyMu        sync.RWMutex
	policyFactories = map[string]PolicyFactory{"basic": newBasicOfStack}
)

// tokenFactories are the built-in factories of the token policies, which
// NewPolicy gives its revocation stores, so that the policies of a stack
// share each store (newStackPolicy calls them so). Their names are in
// policyFactories too, for the listing and so that no one registers them.
var tokenFactories = map[string]func(own, m map[string]string, logger *slog.Logger, stores *revocationStores) (policy.AuthenticationPolicy, error){
	"jwt":        newJWTOfStack,
	"jwt_cookie": newCookieOfStack,
}

func init() {
	for name, f := range tokenFactories {
		policyFactories[name] = func(own, m map[string]string, l *slog.Logger) (policy.AuthenticationPolicy, error) {
			return f(own, m, l, newRevocationStores())
		}
	}
}

// RegisterPolicy makes a policy factory available under name, the value of
// multiauth.policy.NAME.use that selects it; "jwt" (policy.JWT, the
// Authorization header), "jwt_cookie" (policy.Cookie) and "basic" are
// built in. Like RegisterGroupFinder, it panics when name is empty, f is nil or
// name is taken.
func RegisterPolicy(name string, f PolicyFactory) {
	register(&policyMu, policyFactories, "RegisterPolicy", name, f)
}

// BasicCheckFactory makes the password check that the check setting of a
// basic policy names; args holds its check_<arg> settings, by <arg>. Its
// error is reported under the check setting; it should not quote secret
// arguments.
type BasicCheckFactory func(args map[string]string) (basic.Check, error)

var (
	checkMu       sync.RWMutex
	checkFactorys = map[string]BasicCheckFactory{}
)

// RegisterBasicCheck makes a password check factory available under name,
// the value of multiauth.policy.NAME.check that selects it. Like
// RegisterGroupFinder, it panics when name is empty, f is nil or name is
// taken.
func RegisterBasicCheck(name string, f BasicCheckFactory) {
	register(&checkMu, checkFactorys, "RegisterBasicCheck", name, f)
}

// register adds f to a registry under name.
func register[F any](mu *sync.RWMutex, registry map[string]F, fn, name string, f F) {
	if name == "" {
		panic("settings: " + fn + " with an empty name")
	}
	if reflect.ValueOf(f).IsNil() {
		panic("settings: " + fn + " of " + name + " with a nil factory")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("settings: " + fn + " called twice for " + name)
	}
	registry[name] = f
}

// lookUp returns the factory registered under name, or an error that
// lists the names registered.
func lookUp[F any](mu *sync.RWMutex, registry map[string]F, what, name string) (F, error) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := registry[name]
	if !ok {
		known := "none is registered"
		if len(registry) > 0 {
			known = "registered: " + strings.Join(slices.Sorted(maps.Keys(registry)), ", ")
		}
		return f, bad("no %s %q (%s)", what, name, known)
	}
	return f, nil
}

// isStackName tells whether name can name a policy of a stack: lowercase
// letters and digits, so that MULTIAUTH_POLICY_<NAME>_<KEY> environment
// variables can set its keys.
func isStackName(name string) bool {
	return name != "" && strings.IndexFunc(name, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') }) < 0
}

// newStack builds the stack of multiauth.policies.
func newStack(m map[string]string, logger *slog.Logger, observer *policy.Observer) (Policy, error) {
	stores := newRevocationStores()
	stores.observer = observer
	names := list(m[kPolicies])
	if len(names) == 0 {
		return nil, &Error{Key: kPolicies, Err: bad("%q names no policy", m[kPolicies])}
	}
	seen := map[string]bool{}
	for _, name := range names {
		switch {
		case !isStackName(name):
			return nil, &Error{Key: kPolicies, Err: bad("%q is not a policy name (lowercase letters and digits)", name)}
		case seen[name]:
			return nil, &Error{Key: kPolicies, Err: bad("the policy %q is named twice", name)}
		}
		seen[name] = true
	}
	// Every jwtauth.* key is known (the defaults of the jwt policies, with
	// or without one in the stack: checkKeys), and every multiauth.* key
	// belongs to a policy of the stack.
	own := map[string]map[string]string{}
	finderArgs := map[string]string{}
	for _, k := range sortedKeys(m) {
		rest, ok := strings.CutPrefix(k, MultiauthPrefix)
		if !ok {
			continue
		}
		switch {
		case k == kPolicies || k == kStackGroupFinder:
		case strings.HasPrefix(k, stackFinderArg) && len(k) > len(stackFinderArg):
			if !isUnset(m[k]) {
				finderArgs[k[len(stackFinderArg):]] = m[k]
			}
		case strings.HasPrefix(rest, "policy."):
			name, key, ok := strings.Cut(strings.TrimPrefix(rest, "policy."), ".")
			if !ok || key == "" {
				return nil, &Error{Key: k, Err: ErrUnknownKey}
			}
			if !seen[name] {
				return nil, &Error{Key: k, Err: bad("the policy %q is not in %s", name, kPolicies)}
			}
			if own[name] == nil {
				own[name] = map[string]string{}
			}
			if !isUnset(m[k]) {
				own[name][key] = m[k]
			}
		default:
			return nil, unknownKey(MultiauthPrefix, rest, []string{"groupfinder", "policies"})
		}
	}
	cfg := multiauth.Config{Observer: observer}
	if name := strings.TrimSpace(m[kStackGroupFinder]); name != "" {
		gf, err := newGroupFinder(name, finderArgs)
		if err != nil {
			return nil, &Error{Key: kStackGroupFinder, Err: err}
		}
		cfg.GroupFinder = gf
	}
	// A cookie_* default that no jwt_cookie policy of the stack takes is a
	// mistake, not a setting ignored.
	if !slices.ContainsFunc(names, func(n string) bool { return strings.TrimSpace(own[n]["use"]) == "jwt_cookie" }) {
		for _, k := range sortedKeys(m) {
			if name, ok := strings.CutPrefix(k, Prefix); ok && isCookieSetting(name) && !isUnset(m[k]) {
				return nil, &Error{Key: k, Err: bad("is a setting of the cookie policy, and no policy of %s uses jwt_cookie", kPolicies)}
			}
		}
	}
	closeAll := func() {
		for _, n := range cfg.Policies {
			if c, ok := n.Policy.(interface{ Close() error }); ok {
				c.Close()
			}
		}
	}
	for _, name := range names {
		p, err := newStackPolicy(name, own[name], m, logger, stores)
		if err != nil {
			closeAll()
			stores.closeAll()
			return nil, err
		}
		cfg.Policies = append(cfg.Policies, multiauth.Named{Name: name, Policy: p})
	}
	stack, err := multiauth.New(cfg)
	if err != nil {
		closeAll()
		stores.closeAll()
		if e := stackPolicyError(err, own, m); e != nil {
			return nil, e
		}
		return nil, &Error{Key: kPolicies, Err: badCause(err, "cannot stack the policies")}
	}
	return stack, nil
}

// stackPolicyError is the settings error of a multiauth.New error that
// names a setting of one policy of the stack
// (multiauth.policy.NAME.reserved_principal_prefixes, when the stack's
// scopes are principals and that policy does not reserve scope:), or nil
// for any other error. A token policy that took the jwtauth.* default of
// that setting has the default named instead, as newStackPolicy does.
func stackPolicyError(err error, own map[string]map[string]string, m map[string]string) *Error {
	var ce *policy.ConfigError
	if !errors.As(err, &ce) || ce.Prefix != MultiauthPrefix {
		return nil
	}
	name, key, ok := strings.Cut(strings.TrimPrefix(ce.Key, "policy."), ".")
	if !ok || !strings.HasPrefix(ce.Key, "policy.") {
		return nil
	}
	full, msg := policyKeyPrefix+name+"."+key, ce.Err.Error()
	_, setHere := own[name][key]
	_, token := tokenFactories[strings.TrimSpace(own[name]["use"])]
	if !setHere && token && !isUnset(m[Prefix+key]) {
		full, msg = Prefix+key, fmt.Sprintf("the default of the policy %q, which %s", name, msg)
	}
	return &Error{Key: full, Err: &problem{msg: msg, kind: ErrBadValue, cause: err}}
}

// newStackPolicy builds the policy name of a stack with the factory its
// use key names.
func newStackPolicy(name string, own, m map[string]string, logger *slog.Logger, stores *revocationStores) (policy.AuthenticationPolicy, error) {
	prefix := policyKeyPrefix + name + "."
	use := own["use"]
	if use == "" {
		return nil, &Error{Key: prefix + "use", Err: bad("required: the policy factory (%s)", strings.Join(PolicyFactories(), ", "))}
	}
	f, err := lookUp(&policyMu, policyFactories, "policy factory", strings.TrimSpace(use))
	if err != nil {
		return nil, &Error{Key: prefix + "use", Err: err}
	}
	settings := maps.Clone(own)
	delete(settings, "use")
	var p policy.AuthenticationPolicy
	if tf, ok := tokenFactories[strings.TrimSpace(use)]; ok {
		p, err = tf(settings, m, logger, stores)
	} else {
		p, err = f(settings, m, logger)
	}
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e):
		key := strings.TrimPrefix(e.Key, Prefix)
		if _, own := settings[key]; !own && key != e.Key && !isUnset(m[e.Key]) {
			return nil, err // a jwtauth.* default of m is at fault, and names itself
		}
		own := &Error{Key: prefix + key, Err: e.Err}
		if e.Closest != "" {
			own.Closest = prefix + strings.TrimPrefix(e.Closest, Prefix)
		}
		return nil, own
	default:
		return nil, &Error{Key: prefix + "use", Err: badCause(err, "policy %q", use)}
	}
	if v := reflect.ValueOf(p); p == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, &Error{Key: prefix + "use", Err: bad("the factory %q made no policy", use)}
	}
	return p, nil
}

// PolicyFactories returns the sorted names of the policy factories.
func PolicyFactories() []string {
	policyMu.RLock()
	defer policyMu.RUnlock()
	return slices.Sorted(maps.Keys(policyFactories))
}

// newJWTOfStack is the jwt factory: the jwtauth.* keys of m are its
// defaults (but the cookie_* ones, which are the jwt_cookie policy's), and
// its own keys (the jwtauth.* keys without the prefix) win.
func newJWTOfStack(own, m map[string]string, logger *slog.Logger, stores *revocationStores) (policy.AuthenticationPolicy, error) {
	for _, k := range sortedKeys(own) {
		if isCookieSetting(k) {
			return nil, keyErr(k, &problem{msg: "unknown setting: it is a setting of jwt_cookie policies, not of jwt", kind: ErrUnknownKey})
		}
	}
	jm := jwtDefaults(m, isCookieSetting)
	for k, v := range own {
		jm[Prefix+k] = v
	}
	return newJWT(jm, logger, stores)
}

// The settings of a basic policy, besides use.
const (
	kCheck          = "check"
	kRealm          = "realm"
	kTrustedOrigins = "trusted_origins"
	checkArgPrefix  = kCheck + "_"
)

// newBasicOfStack is the basic factory: check names a registered password
// check (check_<arg> keys are its arguments), realm the challenge's realm,
// reserved_principal_prefixes as for the JWT policy, trusted_origins the
// origins whose pages may send unsafe requests with Basic credentials
// (basic.Config.TrustedOrigins).
func newBasicOfStack(own, _ map[string]string, logger *slog.Logger) (policy.AuthenticationPolicy, error) {
	cfg := basic.Config{Realm: own[kRealm], Logger: logger}
	args := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(own)) {
		switch {
		case k == kCheck || k == kRealm:
		case k == kReservedPrefixes:
			cfg.ReservedPrincipalPrefixes = list(own[k])
		case k == kTrustedOrigins:
			cfg.TrustedOrigins = list(own[k])
		case strings.HasPrefix(k, checkArgPrefix) && len(k) > len(checkArgPrefix):
			args[k[len(checkArgPrefix):]] = own[k]
		default:
			return nil, unknownKey("", k, []string{kCheck, kRealm, kReservedPrefixes, kTrustedOrigins})
		}
	}
	name := strings.TrimSpace(own[kCheck])
	if name == "" {
		return nil, &Error{Key: kCheck, Err: bad("required: a registered password check")}
	}
	f, err := lookUp(&checkMu, checkFactorys, "password check", name)
	if err != nil {
		return nil, &Error{Key: kCheck, Err: err}
	}
	check, err := f(args)
	if err != nil {
		return nil, &Error{Key: kCheck, Err: badCause(err, "password check %q", name)}
	}
	if check == nil {
		return nil, &Error{Key: kCheck, Err: bad("the factory of password check %q made no check", name)}
	}
	cfg.Check = check
	p, err := basic.New(cfg)
	if err != nil {
		var ce *policy.ConfigError
		if errors.As(err, &ce) {
			return nil, &Error{Key: ce.Key, Err: &problem{msg: ce.Err.Error(), kind: ErrBadValue, cause: err}}
		}
		return nil, err
	}
	return p, nil
}

// envStackKey maps an environment variable's name to the key of a stack
// it sets: MULTIAUTH_POLICIES, MULTIAUTH_GROUPFINDER(_<ARG>) and
// MULTIAUTH_POLICY_<NAME>_<KEY>, lowercased.
func envStackKey(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "MULTIAUTH_")
	if !ok || rest == "" {
		return "", false
	}
	rest = strings.ToLower(rest)
	if p, ok := strings.CutPrefix(rest, "policy_"); ok {
		policyName, key, ok := strings.Cut(p, "_")
		if !ok || policyName == "" || key == "" {
			return "", false
		}
		return fmt.Sprintf("%s%s.%s", policyKeyPrefix, policyName, key), true
	}
	return MultiauthPrefix + rest, true
}
