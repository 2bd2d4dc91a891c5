// Package authorizer is Pyramid's ACL authorization in Go.
//
// A context [Resource] may carry an [ACL], a list of [ACE]s, and may have a
// parent. [Permits] decides whether a request's principals hold a
// permission on a context by reading the ACLs of the context's lineage,
// and returns a [Decision] that explains itself in a log line.
// [PrincipalsAllowedByPermission] answers the reverse question.
//
// The principals Everyone and Authenticated are policy.Everyone and
// policy.Authenticated.
package authorizer

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pyramid-go/jwtauth/policy"
)

// Decision is the answer of [Permits], with what it was based on.
type Decision struct {
	// Allowed is true when an Allow ACE decided, false otherwise.
	Allowed bool
	// DefaultDeny is true when no ACE matched anywhere in the lineage.
	DefaultDeny bool
	// ACE is the ACE that decided; the zero ACE for a default deny.
	ACE ACE
	// ACL is the ACL that held the ACE. For a default deny it is, as in
	// Pyramid, the last ACL read (the one nearest the root), if any.
	ACL ACL
	// ACLFound is false when no resource in the lineage had an ACL.
	ACLFound bool
	// Location is the resource whose ACL held the ACE; for a default deny,
	// the context.
	Location Resource
	// Principals and Permission are what was asked about.
	Principals []string
	Permission string
}

// String returns the decision as a sentence, like Pyramid's ACLAllowed and
// ACLDenied:
//
//	ACLAllowed permission 'view' via ACE '(Allow, wilma, [view])' in ACL '[(Allow, wilma, [view])]' on context blog for principals [system.Everyone, wilma]
//	ACLDenied permission 'view' via ACE '<default deny>' in ACL '<No ACL found on any object in resource lineage>' on context blog for principals [system.Everyone]
//
// Names that hold spaces, punctuation of the sentence or unprintable
// characters are shown Go-quoted.
func (d Decision) String() string {
	verdict, ace, acl := "ACLDenied", "<default deny>", "<No ACL found on any object in resource lineage>"
	if d.Allowed {
		verdict = "ACLAllowed"
	}
	if !d.DefaultDeny {
		ace = d.ACE.String()
	}
	if d.ACLFound {
		acl = d.ACL.String()
	}
	return fmt.Sprintf("%s permission '%s' via ACE '%s' in ACL '%s' on context %s for principals %s",
		verdict, bare(d.Permission), ace, acl, bare(ResourceName(d.Location)), list(d.Principals))
}

// Permits reports whether principals hold permission on context:
//
//   - The lineage is walked from the context up to the root. Resources
//     without an ACL are skipped.
//   - Within an ACL, the ACEs are read in order. An ACE matches when its
//     principal is one of principals and its permissions contain
//     permission.
//   - The first matching ACE decides: Allow grants, Deny (or any other
//     action) refuses. Nothing after it is read.
//   - If no ACE matches anywhere, the answer is a default deny.
func Permits(context Resource, principals []string, permission string) Decision {
	d := Decision{Location: context, Principals: slices.Clone(principals), Permission: permission}
	for _, location := range Lineage(context) {
		acl, ok := location.ACL()
		if !ok {
			continue
		}
		d.ACL, d.ACLFound = acl, true
		for _, ace := range acl {
			if slices.Contains(principals, ace.Principal) && ace.Permissions.Contains(permission) {
				d.Allowed = ace.Action == Allow
				d.ACE, d.Location = ace, location
				return d
			}
		}
	}
	// Default deny: no ACL in the lineage at all, or none of the
	// principals was named for this permission in any ACE found.
	d.DefaultDeny = true
	return d
}

// PrincipalsAllowedByPermission returns, sorted, the principals that the
// ACLs of context's lineage allow permission to, by Pyramid's algorithm:
//
//   - The lineage is walked from the root down to the context, keeping the
//     set of principals allowed so far.
//   - Each ACL is read in order, collecting "allowed here" and "denied
//     here": an Allow adds its principal to allowed here unless it is
//     already denied here; a Deny adds its principal to denied here and
//     removes it from the set allowed so far, and a Deny of Everyone
//     empties that set and stops reading this ACL.
//   - Then allowed here joins the set, also after such a stop.
//
// So an Allow earlier in an ACL survives a later Deny of Everyone in the
// same ACL, and a Deny names one exact principal: a Deny of bob does not
// remove a group bob belongs to. The result is never nil.
func PrincipalsAllowedByPermission(context Resource, permission string) []string {
	allowed := map[string]bool{}
	for _, location := range slices.Backward(Lineage(context)) {
		acl, ok := location.ACL()
		if !ok {
			continue
		}
		allowedHere, deniedHere := map[string]bool{}, map[string]bool{}
		for _, ace := range acl {
			if !ace.Permissions.Contains(permission) {
				continue
			}
			if ace.Action == Allow {
				if !deniedHere[ace.Principal] {
					allowedHere[ace.Principal] = true
				}
				continue
			}
			if ace.Action != Deny {
				continue // as Pyramid, which reads only Allow and Deny here
			}
			deniedHere[ace.Principal] = true
			if ace.Principal == policy.Everyone {
				clear(allowed) // as with (Deny, Everyone, ALL_PERMISSIONS)
				break
			}
			delete(allowed, ace.Principal)
		}
		maps.Copy(allowed, allowedHere)
	}
	out := slices.Sorted(maps.Keys(allowed))
	if out == nil {
		out = []string{}
	}
	return out
}

// Authorizer decides whether principals hold a permission on a context.
type Authorizer interface {
	Permits(context Resource, principals []string, permission string) Decision
}

// ACLAuthorizer is the [Authorizer] that reads ACLs, Pyramid's
// ACLAuthorizationPolicy. Its zero value is ready to use.
type ACLAuthorizer struct{}

var _ Authorizer = ACLAuthorizer{}

// Permits calls the package's [Permits].
func (ACLAuthorizer) Permits(context Resource, principals []string, permission string) Decision {
	return Permits(context, principals, permission)
}

// PrincipalsAllowedByPermission calls the package's
// [PrincipalsAllowedByPermission].
func (ACLAuthorizer) PrincipalsAllowedByPermission(context Resource, permission string) []string {
	return PrincipalsAllowedByPermission(context, permission)
}
