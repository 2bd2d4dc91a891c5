package authorizer

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pyramid-go/jwtauth/policy"
)

// Action is what an ACE does when it matches: [Allow] or [Deny].
//
// Any other value is treated as [Deny] by [Permits] and
// [PrincipalsAllowedByPermission], so a mistyped action fails closed.
type Action string

// The two ACE actions, spelled as in Pyramid.
const (
	// Allow grants the permission to the principal.
	Allow Action = "Allow"
	// Deny refuses the permission to the principal.
	Deny Action = "Deny"
)

// Permissions is the permission part of an ACE: either a list of
// permission names, made with [Perms], or [AllPermissions].
//
// A Permissions value is immutable. The zero value is an empty list, which
// contains no permission.
type Permissions struct {
	all   bool
	names []string
}

// AllPermissions is Pyramid's ALL_PERMISSIONS: it contains every
// permission, including ones no view has asked for yet.
var AllPermissions = Permissions{all: true}

// Perms returns the list of the named permissions. Each name is matched
// exactly (case-sensitive), never as a prefix or substring.
func Perms(names ...string) Permissions {
	return Permissions{names: slices.Clone(names)}
}

// Contains reports whether permission is in p: always for
// [AllPermissions], otherwise when one of the names equals it.
func (p Permissions) Contains(permission string) bool {
	return p.all || slices.Contains(p.names, permission)
}

// IsAll reports whether p is [AllPermissions].
func (p Permissions) IsAll() bool { return p.all }

// Names returns a copy of the names in p; it is nil for [AllPermissions].
func (p Permissions) Names() []string { return slices.Clone(p.names) }

// Equal reports whether p and q are both [AllPermissions] or both the same
// names in the same order.
func (p Permissions) Equal(q Permissions) bool {
	return p.all == q.all && slices.Equal(p.names, q.names)
}

// String returns "ALL_PERMISSIONS" or the names as "[view, edit]".
func (p Permissions) String() string {
	if p.all {
		return "ALL_PERMISSIONS"
	}
	return list(p.names)
}

// ACE is an access control entry: Action applies to Principal for each
// permission in Permissions.
type ACE struct {
	Action      Action
	Principal   string
	Permissions Permissions
}

// DenyAll is Pyramid's DENY_ALL, (Deny, Everyone, ALL_PERMISSIONS). Put it
// last in an ACL to stop the search from reaching the parents' ACLs.
var DenyAll = ACE{Action: Deny, Principal: policy.Everyone, Permissions: AllPermissions}

// Equal reports whether a and b have the same action, principal and
// permissions.
func (a ACE) Equal(b ACE) bool {
	return a.Action == b.Action && a.Principal == b.Principal && a.Permissions.Equal(b.Permissions)
}

// String returns the ACE as "(Allow, wilma, [view])".
func (a ACE) String() string {
	return "(" + bare(string(a.Action)) + ", " + bare(a.Principal) + ", " + a.Permissions.String() + ")"
}

// ACL is an access control list: ACEs read in order, the first match
// deciding.
type ACL []ACE

// String returns the ACL as "[(Allow, wilma, [view]), (Deny, ...)]".
func (l ACL) String() string {
	aces := make([]string, len(l))
	for i, ace := range l {
		aces[i] = ace.String()
	}
	return "[" + strings.Join(aces, ", ") + "]"
}

// list formats names as "[a, b]" for messages.
func list(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = bare(n)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// bare returns s unquoted when that reads unambiguously, and Go-quoted
// otherwise: principals come from tokens, so a name must not be able to
// forge the punctuation of a message or a log line.
func bare(s string) string {
	odd := func(r rune) bool {
		return !unicode.IsPrint(r) || r == ' ' || strings.ContainsRune(`,()[]'"\`, r)
	}
	if s == "" || strings.ContainsFunc(s, odd) {
		return strconv.Quote(s)
	}
	return s
}
