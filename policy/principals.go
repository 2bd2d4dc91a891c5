package policy

import (
	"errors"
	"slices"
	"strings"
)

// The two principals every Pyramid application knows. They are reserved,
// with every principal that starts with SystemPrefix: a token that claims
// one of them as its userid authenticates nobody.
const (
	// Everyone is in the effective principals of every request.
	Everyone = "system.Everyone"
	// Authenticated is in the effective principals of every request whose
	// credentials verified and whose user the group finder accepted.
	Authenticated = "system.Authenticated"
)

// SystemPrefix starts the principals of the system, such as Everyone and
// Authenticated; no userid may start with it.
const SystemPrefix = "system."

// DefaultReservedPrincipalPrefixes returns the prefixes that
// Config.ReservedPrincipalPrefixes reserves by default besides
// SystemPrefix: those of groups, roles and OAuth scopes, as applications
// and this project name them.
func DefaultReservedPrincipalPrefixes() []string { return []string{"group:", "role:", ScopePrefix} }

// ReservedPrefixes are a policy's reserved principal prefixes: SystemPrefix
// and those of its configuration, made by NewReservedPrefixes.
type ReservedPrefixes []string

// NewReservedPrefixes returns the reserved prefixes of a policy configured
// with prefixes (nil: DefaultReservedPrincipalPrefixes), SystemPrefix
// among them, sorted and each once. An empty prefix is an error, since it
// would reserve every userid.
func NewReservedPrefixes(prefixes []string) (ReservedPrefixes, error) {
	if prefixes == nil {
		prefixes = DefaultReservedPrincipalPrefixes()
	}
	if slices.Contains(prefixes, "") {
		return nil, errors.New("an empty prefix would reserve every userid")
	}
	return slices.Compact(slices.Sorted(slices.Values(append([]string{SystemPrefix}, prefixes...)))), nil
}

// Of returns the reserved prefix that userid starts with; ok is false when
// it starts with none (the empty string is a userid).
func (rp ReservedPrefixes) Of(userid string) (prefix string, ok bool) {
	for _, prefix := range rp {
		if strings.HasPrefix(userid, prefix) {
			return prefix, true
		}
	}
	return "", false
}
