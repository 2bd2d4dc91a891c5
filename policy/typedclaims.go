package policy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
)

// ClaimsAs decodes the verified claims of id, an authenticated user's, into
// a T of the application's own (a struct whose fields name the claims it
// needs, with json tags).
//
// The claims are those of the token that verified: the payload the
// verifier read strictly, decoded again into T with
// github.com/go-json-experiment/json (what encoding/json/v2 is), whose
// rules differ from encoding/json's in one way that matters here: a
// member's name matches a field's name exactly, never case-insensitively,
// as the verifier reads "sub" (so a token with "sub" and "SUB" cannot show
// T another userid than the policy's). Give each field a json tag. Members
// T has no field for are ignored; a member whose JSON type does not fit its
// field (a string for an int, a number for a []string) is an error. The
// NumericDate claims (exp, nbf, iat) fit a number field (int64, float64)
// or go-jose's *jwt.NumericDate; a time.Time takes an RFC 3339 string. In
// a field of type any, a number is a float64.
//
// The error matches ErrNoClaims when id has no claims: when its user is
// not authenticated (it then matches id.Err too) or its policy has none (a
// Basic user). It matches ErrClaimsMismatch when the claims do not fit T;
// its message names the claim and the types, never a claim's value, and it
// unwraps to the decoder's *json.SemanticError. On an error, the T
// returned is T's zero value.
func ClaimsAs[T any](id Identity) (T, error) {
	var v T
	if id.Err != nil {
		return v, fmt.Errorf("%w: %w", ErrNoClaims, id.Err)
	}
	if id.claims == nil {
		return v, ErrNoClaims
	}
	if err := jsonv2.Unmarshal(id.claims.payloadBytes(), &v); err != nil {
		var zero T
		return zero, claimsMismatch(reflect.TypeFor[T](), err)
	}
	return v, nil
}

// ClaimsFromAs is ClaimsAs for the identity of the request of ctx (see
// IdentityFrom), for code below the HTTP layer. Without an Authenticate
// above ctx, the error matches ErrNoClaims and ErrNoCredentials.
func ClaimsFromAs[T any](ctx context.Context) (T, error) {
	id, _ := sharedIdentityFrom(ctx)
	return ClaimsAs[T](id)
}

// mismatchError is the error of claims that do not fit a type.
type mismatchError struct {
	msg string
	err error // the decoder's
}

func (e *mismatchError) Error() string   { return e.msg }
func (e *mismatchError) Unwrap() []error { return []error{ErrClaimsMismatch, e.err} }

// claimsMismatch describes err, the decoder's, with the claim's JSON
// pointer and kind and the Go type, and none of the JSON value the
// decoder's own message may quote.
func claimsMismatch(t reflect.Type, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v", ErrClaimsMismatch, t)
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		if se.JSONPointer != "" {
			fmt.Fprintf(&b, ": claim %q", string(se.JSONPointer))
		}
		kind := map[byte]string{'n': "null", 'f': "a boolean", 't': "a boolean", '"': "a string", '0': "a number", '{': "an object", '[': "an array"}[byte(se.JSONKind)]
		switch {
		case kind != "" && se.GoType != nil:
			fmt.Fprintf(&b, ": %s cannot be %v", kind, se.GoType)
		case se.GoType != nil:
			fmt.Fprintf(&b, ": cannot be %v", se.GoType)
		}
	}
	return &mismatchError{msg: b.String(), err: err}
}
