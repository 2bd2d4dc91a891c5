package settings

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pyramid-go/jwtauth/policy"
)

// GroupFinderFactory makes the group finder that jwtauth.find_groups names.
// args holds the find_groups_<arg> settings, by <arg>. Its error is reported
// under jwtauth.find_groups; it should not quote secret arguments.
type GroupFinderFactory func(args map[string]string) (policy.GroupFinder, error)

var (
	finderMu  sync.RWMutex
	factories = map[string]GroupFinderFactory{}
)

// RegisterGroupFinder makes a group finder factory available under name, the
// value of jwtauth.find_groups that selects it. It is safe for concurrent
// use, and is usually called from an init function. Like
// database/sql.Register, it panics when name is empty, f is nil or name is
// already registered.
func RegisterGroupFinder(name string, f GroupFinderFactory) {
	if name == "" {
		panic("settings: RegisterGroupFinder with an empty name")
	}
	if f == nil {
		panic("settings: RegisterGroupFinder of " + name + " with a nil factory")
	}
	finderMu.Lock()
	defer finderMu.Unlock()
	if _, dup := factories[name]; dup {
		panic("settings: RegisterGroupFinder called twice for " + name)
	}
	factories[name] = f
}

// GroupFinders returns the sorted names of the registered group finders.
func GroupFinders() []string {
	finderMu.RLock()
	defer finderMu.RUnlock()
	return slices.Sorted(maps.Keys(factories))
}

// newGroupFinder calls the factory registered under name.
func newGroupFinder(name string, args map[string]string) (policy.GroupFinder, error) {
	finderMu.RLock()
	f, ok := factories[name]
	finderMu.RUnlock()
	if !ok {
		known := "none is registered"
		if names := GroupFinders(); len(names) != 0 {
			known = "registered: " + strings.Join(names, ", ")
		}
		return nil, bad("no group finder %q (%s)", name, known)
	}
	gf, err := f(args)
	if err != nil {
		return nil, badCause(err, "group finder %q", name)
	}
	if gf == nil {
		return nil, bad("the factory of group finder %q returned no group finder", name)
	}
	return gf, nil
}
