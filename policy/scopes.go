package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ScopePrefix starts the principal of each OAuth 2 scope of a token, with
// Config.ScopePrincipals: the scope "articles:read" is the principal
// "scope:articles:read". It is among DefaultReservedPrincipalPrefixes, so
// that no userid can be a scope.
const ScopePrefix = "scope:"

// MaxScopes bounds the number of scopes a token may carry with
// Config.ScopePrincipals, as written (a scope named twice counts twice); a
// token with more is invalid credentials (ErrInvalidScope).
const MaxScopes = 256

// The claims that carry a token's scopes: "scope", RFC 8693 section 4.2's
// and RFC 9068's, and "scp", which several providers use instead.
const (
	scopeClaim = "scope"
	scpClaim   = "scp"
)

// IsScopeToken tells whether name is one scope by RFC 6749 section 3.3's
// grammar: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), that is one or
// more printable ASCII characters but space, '"' and '\'.
func IsScopeToken(name string) bool {
	return name != "" && badScopeByte(name) < 0
}

// badScopeByte is the index of the first byte of s outside the
// scope-token grammar, or -1.
func badScopeByte(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}

// scopePrincipals reads a verified token's scopes, for
// Config.ScopePrincipals, and returns their principals ("scope:<name>"),
// in the token's order, each once. The scopes are those of the claim
// "scope" when the token has it (and "scp" is then not read), else of
// "scp": either is a string of scope tokens separated by single spaces
// (RFC 6749 section 3.3, RFC 9068's "scope"), or an array of scope tokens
// (as several providers write "scp", and some, such as Spring
// Authorization Server, "scope"). A token with neither has no scopes, nor
// one with an empty array; any other shape, an empty scope (the empty
// string included: the grammar has at least one scope token), a character
// outside the grammar or more than MaxScopes scopes is an ErrInvalidScope
// naming the claim (its cause says what, never the claim's value).
func scopePrincipals(c Claims) ([]string, error) {
	name := scopeClaim
	v, present := c[scopeClaim]
	if !present {
		name = scpClaim
		if v, present = c[scpClaim]; !present {
			return nil, nil
		}
	}
	var out []string
	written := 0 // the scopes as written, a duplicate counting too
	add := func(scope string) error {
		if written++; written > MaxScopes {
			return fmt.Errorf("more than %d scopes", MaxScopes)
		}
		if scope == "" {
			return errors.New("an empty scope")
		}
		if i := badScopeByte(scope); i >= 0 {
			return fmt.Errorf("a character outside RFC 6749's scope-token at byte %d of a scope", i)
		}
		p := ScopePrefix + scope
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
		return nil
	}
	var err error
	switch v := v.(type) {
	case string:
		err = splitScopes(v, add)
	case []any:
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				err = fmt.Errorf("element %d is not a string", i)
				break
			}
			if err = add(s); err != nil {
				err = fmt.Errorf("element %d: %w", i, err)
				break
			}
		}
	default:
		err = fmt.Errorf("neither a string nor an array of strings (%s)", jsonKind(v))
	}
	if err != nil {
		return nil, claimInvalid(name, ErrInvalidScope, err)
	}
	return out, nil
}

// splitScopes calls add with each scope of s, a list separated by single
// spaces, until add fails (after MaxScopes+1 of them at most).
func splitScopes(s string, add func(string) error) error {
	for {
		scope, rest, more := strings.Cut(s, " ")
		if err := add(scope); err != nil {
			return err
		}
		if !more {
			return nil
		}
		s = rest
	}
}

// jsonKind names the JSON type of a decoded claim value, for an error's
// cause (never the value itself).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a number"
}
