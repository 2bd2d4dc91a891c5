package authheader_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/authheader"
)

// fuzzSchemes are the schemes FuzzToken reads headers for; its scheme
// argument picks one of them.
var fuzzSchemes = []string{"JWT", "Bearer", "jwt", "BEARER", "Token", "Basic"}

// FuzzToken feeds Token arbitrary header values. The seed corpus is in
// testdata/fuzz/FuzzToken. Whatever the input, Token must not panic, must
// find exactly the headers whose first word is the scheme (compared as
// RFC 9110 compares it: ASCII, case-insensitively), must return only
// ErrMalformed or ErrTooLarge, and a token it returns must come from the
// header. Headers built from the input in the documented forms must give
// back their token.
func FuzzToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, value string, schemeIdx uint8, maxLen int) {
		scheme := fuzzSchemes[int(schemeIdx)%len(fuzzSchemes)]
		tok, found, err := authheader.Token(value, scheme, maxLen)

		malformed, tooLarge := errors.Is(err, authheader.ErrMalformed), errors.Is(err, authheader.ErrTooLarge)
		if err != nil && malformed == tooLarge {
			t.Fatalf("Token(%q, %q, %d): error %v is not exactly one of ErrMalformed, ErrTooLarge", value, scheme, maxLen, err)
		}
		name := fuzzSchemeOf(value)
		if want := name != "" && fuzzASCIIEqualFold(name, scheme); found != want {
			t.Fatalf("Token(%q, %q, %d): found = %v, but the header's scheme is %q", value, scheme, maxLen, found, name)
		}
		if !found {
			if tok != "" || err != nil {
				t.Fatalf("Token(%q, %q, %d) = %q, false, %v; want nothing for another scheme", value, scheme, maxLen, tok, err)
			}
			return
		}
		if maxLen > 0 && len(value) > maxLen {
			if !tooLarge {
				t.Fatalf("Token(%q, %q, %d): a %d-byte header gave %q, %v; want ErrTooLarge", value, scheme, maxLen, len(value), tok, err)
			}
		} else if tooLarge {
			t.Fatalf("Token(%q, %q, %d): ErrTooLarge for a %d-byte header", value, scheme, maxLen, len(value))
		}
		if err != nil {
			if tok != "" {
				t.Fatalf("Token(%q, %q, %d) returned the token %q with the error %v", value, scheme, maxLen, tok, err)
			}
		} else {
			fuzzCheckToken(t, value, scheme, tok)
		}

		// A header of one scheme is never read as another's.
		for _, other := range fuzzSchemes {
			if fuzzASCIIEqualFold(other, scheme) {
				continue
			}
			if tok, found, err := authheader.Token(value, other, maxLen); found {
				t.Fatalf("Token(%q, %q, %d) = %q, %v: found, as it is for %q", value, other, maxLen, tok, err, scheme)
			}
		}

		// Headers made from the input in the documented forms give back the
		// token they carry: any non-empty value as a quoted-string, alone or
		// after another auth-param, and the value's token68 characters
		// (without '=') bare or as an unquoted auth-param.
		roundTrip := func(header, want string) {
			t.Helper()
			tok, found, err := authheader.Token(header, scheme, 0)
			if tok != want || !found || err != nil {
				t.Fatalf("Token(%q, %q, 0) = %q, %v, %v; want %q, true, nil", header, scheme, tok, found, err, want)
			}
		}
		if value != "" {
			q := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
			roundTrip(scheme+" token="+q, value)
			roundTrip(" \t"+scheme+`  realm="x, y", Token = `+q+" ", value)
		}
		t68 := strings.Map(func(r rune) rune {
			if fuzzIsToken68Char(r) {
				return r
			}
			return -1
		}, value)
		if t68 != "" {
			roundTrip(scheme+" token="+t68, t68)
			roundTrip(scheme+" token="+t68+`, realm="r"`, t68)
			if !strings.EqualFold(t68, "token") {
				roundTrip(scheme+" "+t68, t68)
				roundTrip("  "+strings.ToLower(scheme)+"   "+t68+" \t", t68)
			}
		}
	})
}

// fuzzCheckToken checks a token that Token found in value without error:
// not empty, taken from the header (a substring of it, unless backslash
// escapes of a quoted-string were removed) and, when the header holds no
// quoted-string, a token68 that is the whole credentials of a header
// without auth-params.
func fuzzCheckToken(t *testing.T, value, scheme, tok string) {
	t.Helper()
	if tok == "" {
		t.Fatalf("Token(%q, %q) found an empty token without an error", value, scheme)
	}
	quoted := strings.Contains(value, `"`)
	if !strings.Contains(value, tok) && !(quoted && strings.Contains(value, `\`)) {
		t.Fatalf("Token(%q, %q) = %q: not a part of the header", value, scheme, tok)
	}
	if quoted {
		return
	}
	body := strings.TrimRight(tok, "=")
	if body == "" || strings.IndexFunc(body, func(r rune) bool { return !fuzzIsToken68Char(r) }) >= 0 {
		t.Fatalf("Token(%q, %q) = %q: not a token68", value, scheme, tok)
	}
	if strings.TrimLeft(tok, " \t") != tok || strings.TrimRight(tok, " \t") != tok {
		t.Fatalf("Token(%q, %q) = %q: surrounded by whitespace", value, scheme, tok)
	}
	_, rest, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	if rest = strings.Trim(rest, " \t"); !strings.Contains(rest, "=") && rest != tok {
		t.Fatalf("Token(%q, %q) = %q, want the whole credentials %q", value, scheme, tok, rest)
	}
}

// fuzzIsToken68Char reports whether r may appear in a token68 before its
// '=' padding.
func fuzzIsToken68Char(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~+/", r)
}

// fuzzSchemeOf is the first word of a header: what precedes the first
// space, after leading whitespace.
func fuzzSchemeOf(value string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(value, " \t"), " ")
	return name
}

// fuzzASCIIEqualFold compares two scheme names as RFC 9110 compares tokens:
// ASCII letters case-insensitively, every other byte exactly.
func fuzzASCIIEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FuzzCandidate checks Candidate's contract: whatever the header, a
// candidate that is a compact JWS in form (base64url characters and
// exactly two dots) is exactly the token Token reads from it. The inputs
// also build headers in the two plain forms around such a candidate.
func FuzzCandidate(f *testing.F) {
	for _, seed := range []string{
		"JWT token=aGVhZA.cGF5bG9hZA.c2ln",
		"Bearer aGVhZA.cGF5bG9hZA.c2ln",
		"bearer TOKEN=a.b.c",
		"JWT  a.b.c",
		" JWT a.b.c",
		"JWT token=a.b.c, realm=x",
		`JWT token="a.b.c"`,
		"JWT a.b.c ",
		"JWT token=token=a.b.c",
		"JWT ..",
		"\u212AWT a.b.c",
	} {
		f.Add(seed, uint8(0))
	}
	f.Fuzz(func(t *testing.T, value string, schemeIdx uint8) {
		scheme := fuzzSchemes[int(schemeIdx)%len(fuzzSchemes)]
		check := func(value string) {
			t.Helper()
			c, ok := authheader.Candidate(value, scheme)
			if !ok || !fuzzIsCompactJWS(c) {
				return
			}
			tok, found, err := authheader.Token(value, scheme, 0)
			if tok != c || !found || err != nil {
				t.Fatalf("Candidate(%q, %q) = %q, but Token reads %q, %v, %v", value, scheme, c, tok, found, err)
			}
		}
		check(value)
		jws := strings.Map(func(r rune) rune {
			if r == '.' || fuzzIsToken68Char(r) && r != '~' && r != '+' && r != '/' {
				return r
			}
			return -1
		}, value)
		check(scheme + " " + jws)
		check(strings.ToUpper(scheme) + " tOkEn=" + jws)
	})
}

// fuzzIsCompactJWS reports whether s has the form of a compact JWS: only
// base64url characters and exactly two dots.
func fuzzIsCompactJWS(s string) bool {
	return strings.Count(s, ".") == 2 && strings.IndexFunc(s, func(r rune) bool {
		return r != '.' && r != '-' && r != '_' && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) < 0
}
