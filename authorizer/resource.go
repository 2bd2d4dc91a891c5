package authorizer

import (
	"fmt"
	"reflect"
	"slices"
)

// Resource is a context resource, Pyramid's "context": an object that may
// carry an ACL and may have a parent.
//
// ACL returns the resource's ACL and true, or false when the resource has
// no ACL. An empty ACL is an ACL: it is read (and matches nothing), while a
// resource without one is skipped. ACL is called once per resource on each
// check, so it may compute the ACL afresh, like Pyramid's callable __acl__.
//
// Parent returns the parent resource, or nil at the root. Parent chains
// must end: a cycle would make a check loop forever.
//
// A resource may also have a Name() string or String() string method; see
// [ResourceName].
type Resource interface {
	ACL() (ACL, bool)
	Parent() Resource
}

// Lineage returns r, its parent, its parent's parent and so on up to the
// root. It is empty when r is nil. A nil pointer returned as a parent ends
// the lineage like a nil Resource does.
func Lineage(r Resource) []Resource {
	var out []Resource
	for ; !isNil(r); r = r.Parent() {
		out = append(out, r)
	}
	return out
}

// isNil reports whether r is nil or holds a nil pointer (or other nil
// reference), such as a (*Node)(nil) returned as a parent.
func isNil(r Resource) bool {
	if r == nil {
		return true
	}
	switch v := reflect.ValueOf(r); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// ResourceName returns the name used for r in messages: its Name() if it
// has that method, else its String(), else its Go type. It is "<nil>" for
// nil.
func ResourceName(r Resource) string {
	switch v := r.(type) {
	case nil:
		return "<nil>"
	case interface{ Name() string }:
		return v.Name()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%T", r)
}

// Node is a ready-made [Resource] for static trees. Make one with
// [NewNode], [NewNodeWithoutACL] or [NewComputedNode]; a Node does not
// change after it is made.
type Node struct {
	name    string
	parent  Resource
	acl     ACL
	hasACL  bool
	compute func() ACL
}

// NewNode returns a resource named name, under parent (nil for a root),
// that has acl as its ACL, even when acl is empty or nil. The ACL is
// copied.
func NewNode(name string, parent Resource, acl ACL) *Node {
	return &Node{name: name, parent: parent, acl: slices.Clone(acl), hasACL: true}
}

// NewNodeWithoutACL returns a resource named name, under parent (nil for a
// root), that has no ACL: checks pass over it to its parent.
func NewNodeWithoutACL(name string, parent Resource) *Node {
	return &Node{name: name, parent: parent}
}

// NewComputedNode returns a resource named name, under parent (nil for a
// root), whose ACL is whatever acl returns, called at each check. A nil
// func makes a resource without an ACL.
func NewComputedNode(name string, parent Resource, acl func() ACL) *Node {
	return &Node{name: name, parent: parent, compute: acl, hasACL: acl != nil}
}

// ACL returns a copy of the node's ACL, or the result of its ACL func, and
// whether the node has an ACL.
func (n *Node) ACL() (ACL, bool) {
	if n.compute != nil {
		return n.compute(), true
	}
	return slices.Clone(n.acl), n.hasACL
}

// Parent returns the node's parent, nil for a root.
func (n *Node) Parent() Resource { return n.parent }

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// String returns the node's name.
func (n *Node) String() string { return n.name }
