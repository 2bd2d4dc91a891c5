package authorizer_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/internal/sharedpath"
)

// TestPyramidSecurityConformance runs the shared conformance cases of kinds
// "permits" and "principals_allowed_by_permission"; the "authentication"
// cases belong to the policy package.
func TestPyramidSecurityConformance(t *testing.T) {
	cases := loadConformanceCases(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			switch c.Kind {
			case "permits":
				runPermitsCase(t, c)
			case "principals_allowed_by_permission":
				runPrincipalsAllowedCase(t, c)
			case "authentication":
				t.Skip("authentication cases run by policy.TestPyramidSecurityConformance")
			default:
				t.Fatalf("unknown case kind %q", c.Kind)
			}
		})
	}
}

func runPermitsCase(t *testing.T, c conformanceCase) {
	context := buildTree(t, c.Tree, c.Context)
	d := authorizer.Permits(context, c.Principals, c.Permission)
	want := c.Expect
	if want.Allowed == nil {
		t.Fatal("case has no expect.allowed")
	}
	if d.Allowed != *want.Allowed {
		t.Errorf("Allowed = %v, want %v (%v)", d.Allowed, *want.Allowed, d)
	}
	if d.DefaultDeny != want.DefaultDeny {
		t.Errorf("DefaultDeny = %v, want %v (%v)", d.DefaultDeny, want.DefaultDeny, d)
	}
	if want.ACE != nil {
		if w := want.ACE.ace(); !d.ACE.Equal(w) {
			t.Errorf("ACE = %v, want %v", d.ACE, w)
		}
	} else if !want.DefaultDeny {
		t.Fatal("case has neither expect.ace nor expect.default_deny")
	}
	if got := authorizer.ResourceName(d.Location); got != want.Location {
		t.Errorf("Location = %q, want %q", got, want.Location)
	}
}

func runPrincipalsAllowedCase(t *testing.T, c conformanceCase) {
	context := buildTree(t, c.Tree, c.Context)
	if c.Expect.Principals == nil {
		t.Fatal("case has no expect.principals")
	}
	got := authorizer.PrincipalsAllowedByPermission(context, c.Permission)
	if !slices.Equal(got, *c.Expect.Principals) {
		t.Errorf("PrincipalsAllowedByPermission = %q, want %q", got, *c.Expect.Principals)
	}
}

// The shape of pyramid-security.json; see its README.
type conformanceCase struct {
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Tree       []treeResource `json:"tree"`
	Context    string         `json:"context"`
	Principals []string       `json:"principals"`
	Permission string         `json:"permission"`
	// Fields of the authentication kind, decoded only so that unknown
	// fields stay an error.
	ClaimedUserid *string         `json:"claimed_userid"`
	Groupfinder   json.RawMessage `json:"groupfinder"`
	Expect        struct {
		Allowed     *bool     `json:"allowed"`
		ACE         *jsonACE  `json:"ace"`
		Location    string    `json:"location"`
		DefaultDeny bool      `json:"default_deny"`
		Principals  *[]string `json:"principals"`

		AuthenticatedUserid *string  `json:"authenticated_userid"`
		EffectivePrincipals []string `json:"effective_principals"`
	} `json:"expect"`
}

type treeResource struct {
	Name   string     `json:"name"`
	Parent string     `json:"parent"`
	ACL    *[]jsonACE `json:"acl"` // nil: no ACL; empty: an empty ACL
}

type jsonACE struct {
	Action      authorizer.Action `json:"action"`
	Principal   string            `json:"principal"`
	Permissions jsonPermissions   `json:"permissions"`
}

func (a jsonACE) ace() authorizer.ACE {
	return authorizer.ACE{Action: a.Action, Principal: a.Principal, Permissions: a.Permissions.Permissions}
}

// jsonPermissions decodes a list of names or the string "ALL_PERMISSIONS".
type jsonPermissions struct{ authorizer.Permissions }

func (p *jsonPermissions) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "ALL_PERMISSIONS" {
			return fmt.Errorf("permissions: want a list or \"ALL_PERMISSIONS\", got %q", s)
		}
		p.Permissions = authorizer.AllPermissions
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	p.Permissions = authorizer.Perms(names...)
	return nil
}

// buildTree makes Nodes of tree and returns the one named context.
func buildTree(t *testing.T, tree []treeResource, context string) authorizer.Resource {
	t.Helper()
	specs := map[string]treeResource{}
	for _, r := range tree {
		if _, dup := specs[r.Name]; dup {
			t.Fatalf("tree: resource %q twice", r.Name)
		}
		specs[r.Name] = r
	}
	built := map[string]*authorizer.Node{}
	var build func(name string, depth int) *authorizer.Node
	build = func(name string, depth int) *authorizer.Node {
		if n, ok := built[name]; ok {
			return n
		}
		spec, ok := specs[name]
		if !ok {
			t.Fatalf("tree: no resource %q", name)
		}
		if depth > len(tree) {
			t.Fatalf("tree: parent cycle through %q", name)
		}
		var parent authorizer.Resource
		if spec.Parent != "" {
			parent = build(spec.Parent, depth+1)
		}
		var n *authorizer.Node
		if spec.ACL == nil {
			n = authorizer.NewNodeWithoutACL(name, parent)
		} else {
			acl := authorizer.ACL{}
			for _, a := range *spec.ACL {
				acl = append(acl, a.ace())
			}
			n = authorizer.NewNode(name, parent, acl)
		}
		built[name] = n
		return n
	}
	for _, r := range tree {
		build(r.Name, 0)
	}
	return build(context, 0)
}

// loadConformanceCases reads the cases of $PYRAMID_SECURITY_CASES, or
// else of ../shared/conformance/pyramid-security.json beside the module
// root, every member known, and skips the test when neither exists.
func loadConformanceCases(t *testing.T) []conformanceCase {
	t.Helper()
	return sharedpath.Cases[conformanceCase](t, true, "PYRAMID_SECURITY_CASES", "conformance", "pyramid-security.json")
}
