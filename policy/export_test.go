package policy

import "testing"

// Undecodable is undecodable, for the tests of package policy_test that
// need a stack (package multiauth imports this one): every full decode of
// a claim set fails until the test ends.
func Undecodable(t *testing.T) { undecodable(t) }
