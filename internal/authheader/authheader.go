// Package authheader reads a token out of an HTTP Authorization header.
//
// Two forms are accepted for the configured scheme, as pyramid_jwtauth and
// its sibling pyramid_jwt send them:
//
//	Authorization: JWT token=<jwt>        (an auth-param, quoted or not)
//	Authorization: JWT token="<jwt>"
//	Authorization: Bearer <jwt>           (a token68)
//
// The scheme matches case-insensitively. A header of another scheme is not
// an error: it carries no credentials for this scheme.
package authheader

import (
	"errors"
	"strings"
)

// ErrMalformed is returned when the header names the scheme but no token can
// be read from it.
var ErrMalformed = errors.New("malformed Authorization header")

// ErrTooLarge is returned, before any parsing, when the header is longer than
// the limit given to Token.
var ErrTooLarge = errors.New("Authorization header too large")

// Token returns the token that value (an Authorization header) carries for
// scheme. found is false when value is empty or of another scheme. maxLen
// bounds the header's length (0: no bound); a longer header is rejected with
// ErrTooLarge without being read.
func Token(value, scheme string, maxLen int) (token string, found bool, err error) {
	name, rest, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	// Scheme names are ASCII tokens; EqualFold alone would also match
	// Unicode look-alikes (the Kelvin sign folds to 'k').
	if !isTokenName(name) || !strings.EqualFold(name, scheme) {
		return "", false, nil
	}
	if maxLen > 0 && len(value) > maxLen {
		return "", true, ErrTooLarge
	}
	rest = strings.Trim(rest, " \t")
	if rest == "" {
		return "", true, ErrMalformed
	}
	// A bare token68, but "token=" is an auth-param left empty, not a
	// token that happens to be spelled "token".
	if isToken68(rest) && !strings.EqualFold(strings.TrimRight(rest, "="), "token") {
		return rest, true, nil
	}
	token, ok := authParam(rest, "token")
	if !ok || token == "" {
		return "", true, ErrMalformed
	}
	return token, true, nil
}

// Candidate returns what follows "<scheme> " or "<scheme> token=" at the
// start of value (the scheme, a name IsScheme accepts, and "token"
// compared as Token compares them), without reading it. It is the fast
// path of a caller that recognizes a token it has read with Token before:
// when the candidate is a compact JWS (base64url characters and exactly
// two dots), Token(value, scheme, 0) returns that same candidate, as
// FuzzCandidate checks. Any other candidate means nothing, and the header
// must be read with Token.
func Candidate(value, scheme string) (candidate string, ok bool) {
	if len(value) <= len(scheme) || value[len(scheme)] != ' ' {
		return "", false
	}
	// As in Token: ASCII names, so that EqualFold folds ASCII only.
	if name := value[:len(scheme)]; !isTokenName(name) || !strings.EqualFold(name, scheme) {
		return "", false
	}
	// "token=" is ASCII and as many bytes long as what it is compared to,
	// which therefore holds no multi-byte rune that could fold to it.
	const param = "token="
	rest := value[len(scheme)+1:]
	if len(rest) > len(param) && strings.EqualFold(rest[:len(param)], param) {
		rest = rest[len(param):]
	}
	return rest, true
}

// isToken68 reports whether s is an RFC 9110 token68: base64url or base64
// characters followed by optional '=' padding.
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !token68Chars[body[i]] {
			return false
		}
	}
	return true
}

// token68Chars are the characters of a token68 before its padding.
var token68Chars = func() (set [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		set[c] = true
	}
	return set
}()

// authParam finds the auth-param called name in a comma-separated list of
// name=value pairs, where a value is a token or a quoted-string with
// backslash escapes. It fails on a list it cannot read whole, and on a name
// given twice, so that no two readers of the header can disagree.
func authParam(list, name string) (value string, ok bool) {
	found := false
	for s := list; ; {
		s = strings.TrimLeft(s, " \t")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return "", false
		}
		key := strings.TrimRight(s[:eq], " \t")
		if !isTokenName(key) {
			return "", false
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v string
		if strings.HasPrefix(s, `"`) {
			var rest string
			var good bool
			v, rest, good = quoted(s)
			if !good {
				return "", false
			}
			s = rest
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			v, s = s[:end], s[end:]
			if !isToken68(v) {
				return "", false
			}
		}
		if strings.EqualFold(key, name) {
			if found {
				return "", false
			}
			value, found = v, true
		}
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return value, found
		}
		if s[0] != ',' {
			return "", false
		}
		s = s[1:]
	}
}

// quoted reads a quoted-string at the start of s and returns its unescaped
// value and what follows it.
func quoted(s string) (value, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			if i == len(s) {
				return "", "", false
			}
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// isTokenName reports whether s is an RFC 9110 token (the tchar set).
func isTokenName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Scheme returns the scheme value (an Authorization header) names, as
// Token reads it, or "" when its first word is no scheme name.
func Scheme(value string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	if !isTokenName(name) {
		return ""
	}
	return name
}

// IsScheme reports whether s can be used as an authentication scheme name.
func IsScheme(s string) bool { return isTokenName(s) }
