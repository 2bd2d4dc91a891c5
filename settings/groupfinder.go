package settings

import (
	"maps"
	"slices"
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
// value of jwtauth.find_groups (or multiauth.groupfinder) that selects it.
// It is safe for concurrent use, and is usually called from an init
// function. Like database/sql.Register, it panics when name is empty, f is
// nil or name is already registered.
func RegisterGroupFinder(name string, f GroupFinderFactory) {
	register(&finderMu, factories, "RegisterGroupFinder", name, f)
}

// GroupFinders returns the sorted names of the registered group finders.
func GroupFinders() []string {
	finderMu.RLock()
	defer finderMu.RUnlock()
	return slices.Sorted(maps.Keys(factories))
}

// newGroupFinder calls the factory registered under name.
func newGroupFinder(name string, args map[string]string) (policy.GroupFinder, error) {
	f, err := lookUp(&finderMu, factories, "group finder", name)
	if err != nil {
		return nil, err
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
