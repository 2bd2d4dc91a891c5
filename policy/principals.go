package policy

import "strings"

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
func DefaultReservedPrincipalPrefixes() []string { return []string{"group:", "role:", "scope:"} }

// reservedPrefix returns the reserved prefix that userid starts with.
func (p *JWT) reservedPrefix(userid string) (string, bool) {
	for _, prefix := range p.cfg.ReservedPrincipalPrefixes {
		if strings.HasPrefix(userid, prefix) {
			return prefix, true
		}
	}
	return "", false
}
