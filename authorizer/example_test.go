package authorizer_test

import (
	"fmt"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/policy"
)

// The tree of Pyramid's security documentation: a root every logged-in user
// may view, a community closed to everyone but fred and wilma, and a blog
// in it.
func exampleTree() (root, community, blog *authorizer.Node) {
	root = authorizer.NewNode("root", nil, authorizer.ACL{
		{Action: authorizer.Allow, Principal: policy.Authenticated, Permissions: authorizer.Perms("view")},
	})
	community = authorizer.NewNode("community", root, authorizer.ACL{
		{Action: authorizer.Allow, Principal: "fred", Permissions: authorizer.AllPermissions},
		{Action: authorizer.Allow, Principal: "wilma", Permissions: authorizer.Perms("view")},
		authorizer.DenyAll,
	})
	blog = authorizer.NewNode("blog", community, authorizer.ACL{
		{Action: authorizer.Allow, Principal: "barney", Permissions: authorizer.Perms("view", "edit")},
	})
	return root, community, blog
}

func ExamplePermits() {
	root, _, blog := exampleTree()
	wilma := []string{"wilma", policy.Everyone, policy.Authenticated}

	d := authorizer.Permits(blog, wilma, "view")
	fmt.Println(d.Allowed, d.ACE, "on", authorizer.ResourceName(d.Location))

	d = authorizer.Permits(blog, wilma, "edit")
	fmt.Println(d.Allowed)
	fmt.Println(d)

	d = authorizer.Permits(root, []string{policy.Everyone}, "view")
	fmt.Println(d.Allowed, d.DefaultDeny)
	// Output:
	// true (Allow, wilma, [view]) on community
	// false
	// ACLDenied permission 'edit' via ACE '(Deny, system.Everyone, ALL_PERMISSIONS)' in ACL '[(Allow, fred, ALL_PERMISSIONS), (Allow, wilma, [view]), (Deny, system.Everyone, ALL_PERMISSIONS)]' on context community for principals [wilma, system.Everyone, system.Authenticated]
	// false true
}

func ExamplePrincipalsAllowedByPermission() {
	root, community, blog := exampleTree()
	fmt.Println(authorizer.PrincipalsAllowedByPermission(root, "view"))
	// community's DenyAll empties what root allowed, after fred and wilma.
	fmt.Println(authorizer.PrincipalsAllowedByPermission(community, "view"))
	fmt.Println(authorizer.PrincipalsAllowedByPermission(blog, "view"))
	fmt.Println(authorizer.PrincipalsAllowedByPermission(blog, "delete"))
	// Output:
	// [system.Authenticated]
	// [fred wilma]
	// [barney fred wilma]
	// [fred]
}

func ExampleNewComputedNode() {
	open := true
	page := authorizer.NewComputedNode("page", nil, func() authorizer.ACL {
		if open {
			return authorizer.ACL{{Action: authorizer.Allow, Principal: policy.Everyone, Permissions: authorizer.Perms("view")}}
		}
		return authorizer.ACL{authorizer.DenyAll}
	})
	everyone := []string{policy.Everyone}
	fmt.Println(authorizer.Permits(page, everyone, "view").Allowed)
	open = false
	fmt.Println(authorizer.Permits(page, everyone, "view").Allowed)
	// Output:
	// true
	// false
}
