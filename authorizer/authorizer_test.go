package authorizer

import (
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

const (
	everyone      = policy.Everyone
	authenticated = policy.Authenticated
)

func allow(principal string, perms ...string) ACE {
	return ACE{Action: Allow, Principal: principal, Permissions: Perms(perms...)}
}

func deny(principal string, perms ...string) ACE {
	return ACE{Action: Deny, Principal: principal, Permissions: Perms(perms...)}
}

func allowAll(principal string) ACE {
	return ACE{Action: Allow, Principal: principal, Permissions: AllPermissions}
}

// countingResource computes its ACL at each call, like a callable __acl__.
type countingResource struct {
	calls int
	acl   ACL
}

func (r *countingResource) ACL() (ACL, bool) { r.calls++; return r.acl, true }
func (r *countingResource) Parent() Resource { return nil }

// unnamed has no Name or String method.
type unnamed struct{}

func (unnamed) ACL() (ACL, bool) { return ACL{allow("bob", "view")}, true }
func (unnamed) Parent() Resource { return (*Node)(nil) } // a typed nil ends the lineage

func TestPermits(t *testing.T) {
	root := NewNode("root", nil, ACL{allow(authenticated, "view"), allow("admin", "edit")})
	bare := NewNodeWithoutACL("bare", root)
	empty := NewNode("empty", nil, ACL{})
	underEmpty := NewNodeWithoutACL("under-empty", empty)
	lone := NewNodeWithoutACL("lone", nil)
	closed := NewNode("closed", root, ACL{allow("wilma", "edit"), DenyAll})
	leaf := NewNode("leaf", closed, ACL{deny("wilma", "edit"), allow("wilma", "edit", "view")})

	type want struct {
		allowed     bool
		defaultDeny bool
		ace         ACE
		location    string
		acl         ACL
		aclFound    bool
	}
	tests := []struct {
		name       string
		context    Resource
		principals []string
		permission string
		want       want
	}{
		{"first match wins: deny before allow", leaf, []string{"wilma"}, "edit",
			want{ace: deny("wilma", "edit"), location: "leaf", acl: ACL{deny("wilma", "edit"), allow("wilma", "edit", "view")}, aclFound: true}},
		{"first match wins: allow before deny", closed, []string{everyone, "wilma"}, "edit",
			want{allowed: true, ace: allow("wilma", "edit"), location: "closed", acl: ACL{allow("wilma", "edit"), DenyAll}, aclFound: true}},
		{"later matching ACE in same ACL", leaf, []string{"wilma"}, "view",
			want{allowed: true, ace: allow("wilma", "edit", "view"), location: "leaf", acl: ACL{deny("wilma", "edit"), allow("wilma", "edit", "view")}, aclFound: true}},
		{"deny stops the walk before the root's allow", leaf, []string{everyone, authenticated, "fred"}, "view",
			want{ace: DenyAll, location: "closed", acl: ACL{allow("wilma", "edit"), DenyAll}, aclFound: true}},
		{"lineage walk reaches the root", bare, []string{authenticated}, "view",
			want{allowed: true, ace: allow(authenticated, "view"), location: "root", acl: aclOf(root), aclFound: true}},
		{"no ACL on context is skipped", bare, []string{"admin"}, "edit",
			want{allowed: true, ace: allow("admin", "edit"), location: "root", acl: aclOf(root), aclFound: true}},
		{"default deny reports the last ACL read and the context", bare, []string{"nobody"}, "view",
			want{defaultDeny: true, location: "bare", acl: aclOf(root), aclFound: true}},
		{"empty ACL is an ACL", underEmpty, []string{everyone}, "view",
			want{defaultDeny: true, location: "under-empty", acl: ACL{}, aclFound: true}},
		{"no ACL anywhere", lone, []string{everyone}, "view",
			want{defaultDeny: true, location: "lone"}},
		{"no principals", root, nil, "view",
			want{defaultDeny: true, location: "root", acl: aclOf(root), aclFound: true}},
		{"nil context", nil, []string{everyone}, "view",
			want{defaultDeny: true, location: "<nil>"}},
		{"ALL_PERMISSIONS contains any name", NewNode("n", nil, ACL{allowAll("fred")}), []string{"fred"}, "neverheardof",
			want{allowed: true, ace: allowAll("fred"), location: "n", acl: ACL{allowAll("fred")}, aclFound: true}},
		{"ALL_PERMISSIONS contains the empty name", NewNode("n", nil, ACL{allowAll("fred")}), []string{"fred"}, "",
			want{allowed: true, ace: allowAll("fred"), location: "n", acl: ACL{allowAll("fred")}, aclFound: true}},
		{"permission is not matched by prefix", NewNode("n", nil, ACL{allow("w", "view_stuff")}), []string{"w"}, "view",
			want{defaultDeny: true, location: "n", acl: ACL{allow("w", "view_stuff")}, aclFound: true}},
		{"permission is not matched as a prefix", NewNode("n", nil, ACL{allow("w", "view")}), []string{"w"}, "viewer",
			want{defaultDeny: true, location: "n", acl: ACL{allow("w", "view")}, aclFound: true}},
		{"permission is not matched by substring", NewNode("n", nil, ACL{allow("w", "preview")}), []string{"w"}, "view",
			want{defaultDeny: true, location: "n", acl: ACL{allow("w", "preview")}, aclFound: true}},
		{"permission match is case-sensitive", NewNode("n", nil, ACL{allow("w", "View")}), []string{"w"}, "view",
			want{defaultDeny: true, location: "n", acl: ACL{allow("w", "View")}, aclFound: true}},
		{"principal is matched exactly", NewNode("n", nil, ACL{allow("bob", "view")}), []string{"bobby", "Bob"}, "view",
			want{defaultDeny: true, location: "n", acl: ACL{allow("bob", "view")}, aclFound: true}},
		{"empty permission list matches nothing", NewNode("n", nil, ACL{allow("w")}), []string{"w"}, "",
			want{defaultDeny: true, location: "n", acl: ACL{allow("w")}, aclFound: true}},
		{"unknown action fails closed", NewNode("n", nil, ACL{{Action: "allow", Principal: "w", Permissions: Perms("view")}}), []string{"w"}, "view",
			want{ace: ACE{Action: "allow", Principal: "w", Permissions: Perms("view")}, location: "n", acl: ACL{{Action: "allow", Principal: "w", Permissions: Perms("view")}}, aclFound: true}},
		{"typed nil parent ends the lineage", unnamed{}, []string{"bob"}, "view",
			want{allowed: true, ace: allow("bob", "view"), location: "authorizer.unnamed", acl: ACL{allow("bob", "view")}, aclFound: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Permits(tt.context, tt.principals, tt.permission)
			w := tt.want
			if d.Allowed != w.allowed || d.DefaultDeny != w.defaultDeny || !d.ACE.Equal(w.ace) ||
				ResourceName(d.Location) != w.location || d.ACLFound != w.aclFound || !aclEqual(d.ACL, w.acl) {
				t.Errorf("got  %v\nwant allowed=%v defaultDeny=%v ace=%v location=%s acl=%v aclFound=%v",
					d, w.allowed, w.defaultDeny, w.ace, w.location, w.acl, w.aclFound)
			}
			if d.Permission != tt.permission || !slices.Equal(d.Principals, tt.principals) {
				t.Errorf("Decision asked about %q %q, want %q %q", d.Principals, d.Permission, tt.principals, tt.permission)
			}
			if got := (ACLAuthorizer{}).Permits(tt.context, tt.principals, tt.permission); got.String() != d.String() {
				t.Errorf("ACLAuthorizer.Permits = %v, want %v", got, d)
			}
		})
	}
}

func aclOf(r Resource) ACL { acl, _ := r.ACL(); return acl }

func aclEqual(a, b ACL) bool { return slices.EqualFunc(a, b, ACE.Equal) }

func TestComputedACLIsReadAtEachCheck(t *testing.T) {
	r := &countingResource{acl: ACL{allow("bob", "view")}}
	child := NewNodeWithoutACL("child", r)
	if d := Permits(child, []string{"bob"}, "view"); !d.Allowed || r.calls != 1 {
		t.Fatalf("first check: %v, %d calls", d, r.calls)
	}
	r.acl = ACL{deny("bob", "view")}
	if d := Permits(child, []string{"bob"}, "view"); d.Allowed || r.calls != 2 {
		t.Fatalf("second check: %v, %d calls", d, r.calls)
	}
	if got := PrincipalsAllowedByPermission(child, "view"); len(got) != 0 || r.calls != 3 {
		t.Fatalf("PrincipalsAllowedByPermission = %q, %d calls", got, r.calls)
	}

	n := 0
	computed := NewComputedNode("computed", nil, func() ACL {
		n++
		if n%2 == 1 {
			return ACL{allow("bob", "view")}
		}
		return nil
	})
	for i, want := range []bool{true, false, true} {
		if d := Permits(computed, []string{"bob"}, "view"); d.Allowed != want || !d.ACLFound {
			t.Errorf("check %d: %v, want allowed=%v with an ACL found", i, d, want)
		}
	}
	if _, ok := NewComputedNode("nil func", nil, nil).ACL(); ok {
		t.Error("NewComputedNode with a nil func has an ACL")
	}
}

func TestNodeACLIsCopied(t *testing.T) {
	acl := ACL{allow("bob", "view")}
	n := NewNode("n", nil, acl)
	acl[0] = deny("bob", "view")
	got, _ := n.ACL()
	got[0] = deny("bob", "view")
	if d := Permits(n, []string{"bob"}, "view"); !d.Allowed {
		t.Errorf("node ACL changed through an alias: %v", d)
	}
	names := []string{"view"}
	p := Perms(names...)
	names[0] = "edit"
	p.Names()[0] = "edit"
	if !p.Contains("view") || p.Contains("edit") {
		t.Errorf("Perms changed through an alias: %v", p)
	}
	principals := []string{"bob"}
	d := Permits(n, principals, "view")
	principals[0] = "eve"
	if d.Principals[0] != "bob" {
		t.Errorf("Decision.Principals aliases the caller's slice: %q", d.Principals)
	}
}

func TestLineage(t *testing.T) {
	root := NewNodeWithoutACL("root", nil)
	mid := NewNode("mid", root, nil)
	leaf := NewNodeWithoutACL("leaf", mid)
	var names []string
	for _, r := range Lineage(leaf) {
		names = append(names, ResourceName(r))
	}
	if !slices.Equal(names, []string{"leaf", "mid", "root"}) {
		t.Errorf("Lineage = %q", names)
	}
	if got := Lineage(nil); len(got) != 0 {
		t.Errorf("Lineage(nil) = %v", got)
	}
	if got := Lineage((*Node)(nil)); len(got) != 0 {
		t.Errorf("Lineage((*Node)(nil)) = %v", got)
	}
	if acl, ok := mid.ACL(); !ok || len(acl) != 0 {
		t.Errorf("NewNode with a nil ACL: ACL() = %v, %v; want an empty ACL", acl, ok)
	}
	if _, ok := leaf.ACL(); ok {
		t.Error("NewNodeWithoutACL has an ACL")
	}
	if leaf.Parent() != Resource(mid) || root.Parent() != nil {
		t.Error("Parent() is wrong")
	}
}

func TestPrincipalsAllowedByPermission(t *testing.T) {
	tests := []struct {
		name       string
		context    Resource
		permission string
		want       []string
	}{
		{"earlier allow survives a later deny of Everyone in the same ACL",
			NewNode("n", NewNode("root", nil, ACL{allow("old", "view")}), ACL{allow("bob", "view"), DenyAll, allow("carol", "view")}),
			"view", []string{"bob"}},
		{"deny of Everyone clears what the ancestors allowed",
			NewNode("n", NewNode("root", nil, ACL{allow("old", "view")}), ACL{deny(everyone, "view")}),
			"view", []string{}},
		{"deny of Everyone for another permission changes nothing",
			NewNode("n", NewNode("root", nil, ACL{allow("old", "view")}), ACL{deny(everyone, "edit")}),
			"view", []string{"old"}},
		{"deny of bob does not remove bob's group",
			NewNode("n", NewNode("root", nil, ACL{allow("bob", "view"), allow("group:staff", "view")}), ACL{deny("bob", "view")}),
			"view", []string{"group:staff"}},
		{"deny before allow in the same ACL wins",
			NewNode("n", nil, ACL{deny("bob", "view"), allow("bob", "view")}),
			"view", []string{}},
		{"allow before deny in the same ACL is kept (allowed here joins after)",
			NewNode("n", nil, ACL{allow("bob", "view"), deny("bob", "view")}),
			"view", []string{"bob"}},
		{"a child allow restores a principal an ancestor denied",
			NewNode("n", NewNode("root", nil, ACL{deny("bob", "view")}), ACL{allow("bob", "view")}),
			"view", []string{"bob"}},
		{"ALL_PERMISSIONS and sorted set without duplicates",
			NewNode("n", NewNode("root", nil, ACL{allowAll("zed"), allow("amy", "view")}), ACL{allow("amy", "view"), allow("mia", "view", "edit")}),
			"view", []string{"amy", "mia", "zed"}},
		{"exact permission names only",
			NewNode("n", nil, ACL{allow("a", "viewer"), allow("b", "pre-view"), allow("c", "View")}),
			"view", []string{}},
		{"resources without ACL are skipped",
			NewNodeWithoutACL("leaf", NewNode("root", nil, ACL{allow("bob", "view")})),
			"view", []string{"bob"}},
		{"unknown action is ignored, as Pyramid ignores it here",
			NewNode("n", NewNode("root", nil, ACL{allow("bob", "view")}), ACL{{Action: "deny", Principal: "bob", Permissions: Perms("view")}}),
			"view", []string{"bob"}},
		{"nil context", nil, "view", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PrincipalsAllowedByPermission(tt.context, tt.permission)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("PrincipalsAllowedByPermission = %#v, want %#v", got, tt.want)
			}
			if got2 := (ACLAuthorizer{}).PrincipalsAllowedByPermission(tt.context, tt.permission); !slices.Equal(got2, got) {
				t.Errorf("ACLAuthorizer.PrincipalsAllowedByPermission = %q, want %q", got2, got)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	root := NewNode("root", nil, ACL{allow(authenticated, "view")})
	community := NewNode("community", root, ACL{allowAll("fred"), allow("wilma", "view"), DenyAll})
	blog := NewNode("blog", community, ACL{allow("barney", "view", "comment"), allow("wilma", "view")})
	tests := []struct {
		name string
		d    Decision
		want string
	}{
		{"allowed", Permits(blog, []string{everyone, authenticated, "wilma"}, "view"),
			"ACLAllowed permission 'view' via ACE '(Allow, wilma, [view])' in ACL '[(Allow, barney, [view, comment]), (Allow, wilma, [view])]' on context blog for principals [system.Everyone, system.Authenticated, wilma]"},
		{"allowed by ALL_PERMISSIONS", Permits(blog, []string{"fred"}, "delete"),
			"ACLAllowed permission 'delete' via ACE '(Allow, fred, ALL_PERMISSIONS)' in ACL '[(Allow, fred, ALL_PERMISSIONS), (Allow, wilma, [view]), (Deny, system.Everyone, ALL_PERMISSIONS)]' on context community for principals [fred]"},
		{"denied", Permits(blog, []string{everyone, "wilma"}, "delete"),
			"ACLDenied permission 'delete' via ACE '(Deny, system.Everyone, ALL_PERMISSIONS)' in ACL '[(Allow, fred, ALL_PERMISSIONS), (Allow, wilma, [view]), (Deny, system.Everyone, ALL_PERMISSIONS)]' on context community for principals [system.Everyone, wilma]"},
		{"default deny, no ACL", Permits(NewNodeWithoutACL("lone", nil), []string{everyone}, "view"),
			"ACLDenied permission 'view' via ACE '<default deny>' in ACL '<No ACL found on any object in resource lineage>' on context lone for principals [system.Everyone]"},
		{"default deny, last ACL read", Permits(NewNodeWithoutACL("page", root), nil, "view"),
			"ACLDenied permission 'view' via ACE '<default deny>' in ACL '[(Allow, system.Authenticated, [view])]' on context page for principals []"},
		{"default deny, empty ACL", Permits(NewNode("e", nil, nil), []string{"x"}, "view"),
			"ACLDenied permission 'view' via ACE '<default deny>' in ACL '[]' on context e for principals [x]"},
		{"untrusted names are quoted", Permits(NewNode("a b", nil, ACL{allow("", "v")}), []string{"", "eve'\n[forged]", "ok"}, "v"),
			`ACLAllowed permission 'v' via ACE '(Allow, "", [v])' in ACL '[(Allow, "", [v])]' on context "a b" for principals ["", "eve'\n[forged]", ok]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.String(); got != tt.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	if !DenyAll.Equal(ACE{Action: Deny, Principal: everyone, Permissions: AllPermissions}) {
		t.Errorf("DenyAll = %v", DenyAll)
	}
	if !AllPermissions.IsAll() || AllPermissions.Names() != nil || Perms("a").IsAll() {
		t.Error("IsAll/Names are wrong")
	}
	if AllPermissions.Equal(Perms()) || !Perms("a", "b").Equal(Perms("a", "b")) || Perms("a", "b").Equal(Perms("b", "a")) {
		t.Error("Permissions.Equal is wrong")
	}
	var zero Permissions
	if zero.Contains("") || zero.String() != "[]" {
		t.Errorf("zero Permissions: %v", zero)
	}
	if Allow != "Allow" || Deny != "Deny" {
		t.Error("actions are not spelled as in Pyramid")
	}
}
