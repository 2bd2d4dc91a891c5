package policy

// The two principals every Pyramid application knows. They are reserved: a
// token that claims one of them as its userid authenticates nobody.
const (
	// Everyone is in the effective principals of every request.
	Everyone = "system.Everyone"
	// Authenticated is in the effective principals of every request whose
	// credentials verified and whose user the group finder accepted.
	Authenticated = "system.Authenticated"
)
