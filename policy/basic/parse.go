package basic

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pyramid-go/jwtauth/policy"
)

// The causes of a malformed header. Their texts are fixed and hold nothing
// the client sent, so that they can be logged.
var (
	errTwoHeaders  = errors.New("more than one Authorization header")
	errTooLarge    = errors.New("Authorization header too large")
	errNoToken     = errors.New("no credentials after the scheme")
	errNotBase64   = errors.New("credentials are not canonical padded base64")
	errNoColon     = errors.New("decoded credentials hold no colon")
	errNotUTF8     = errors.New("username or password is not valid UTF-8")
	errControlChar = errors.New("username or password holds a control character")
)

func malformed(cause error) error {
	return &policy.InvalidTokenError{Reason: policy.ErrMalformedHeader, Cause: cause}
}

// credentials reads the Basic credentials of a request's Authorization
// headers. found is false when no header is of the Basic scheme; more than
// one header when one of them is Basic is malformed, since readers could
// disagree on which counts. err is malformed(...) for a Basic header that
// cannot be read.
//
// The syntax is RFC 9110's `credentials = auth-scheme [ 1*SP token68 ]`
// with RFC 7617's token68: the scheme matches "Basic" case-insensitively
// (ASCII only), and the token68 is the base64 (RFC 4648 section 4,
// padded, canonical) of "username:password", split at the first colon,
// since a username holds none.
func credentials(values []string) (username, password string, found bool, err error) {
	for _, v := range values {
		if !isBasic(v) {
			continue
		}
		if len(values) > 1 {
			return "", "", true, malformed(errTwoHeaders)
		}
		username, password, err = parse(v)
		return username, password, true, err
	}
	return "", "", false, nil
}

// isBasic tells whether an Authorization header value is of the Basic
// scheme: "Basic" alone or followed by a space or tab, after optional
// whitespace. The name is compared byte by byte as ASCII: EqualFold would
// also match Unicode look-alikes.
func isBasic(v string) bool {
	v = strings.TrimLeft(v, " \t")
	const scheme = "basic"
	if len(v) < len(scheme) {
		return false
	}
	for i := range len(scheme) {
		if c := v[i] | 0x20; c != scheme[i] {
			return false
		}
	}
	return len(v) == len(scheme) || v[len(scheme)] == ' ' || v[len(scheme)] == '\t'
}

// parse reads the username and password of a Basic header value.
func parse(v string) (username, password string, err error) {
	if len(v) > MaxHeaderBytes {
		return "", "", malformed(errTooLarge)
	}
	token := strings.Trim(strings.TrimLeft(v, " \t")[len("Basic"):], " \t")
	if token == "" {
		return "", "", malformed(errNoToken)
	}
	// The base64 alphabet and its padding only: Go's decoder skips CR and
	// LF, even in strict mode, which would make two spellings of one
	// token.
	body := strings.TrimRight(token, "=")
	if len(token)-len(body) > 2 || strings.IndexFunc(body, notBase64) >= 0 {
		return "", "", malformed(errNotBase64)
	}
	decoded, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil {
		return "", "", malformed(errNotBase64)
	}
	userPass := string(decoded)
	username, password, ok := strings.Cut(userPass, ":")
	switch {
	case !ok:
		return "", "", malformed(errNoColon)
	case !utf8.ValidString(userPass):
		return "", "", malformed(errNotUTF8)
	case strings.IndexFunc(userPass, unicode.IsControl) >= 0:
		// RFC 7617 forbids the CTLs; C1 controls are refused too.
		return "", "", malformed(errControlChar)
	}
	return username, password, nil
}

// notBase64 tells whether c is outside the standard base64 alphabet.
func notBase64(c rune) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		return false
	}
	return true
}
