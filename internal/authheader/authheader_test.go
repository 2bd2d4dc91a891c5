package authheader_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/authheader"
)

func TestToken(t *testing.T) {
	long := strings.Repeat("a", 100)
	tests := []struct {
		name      string
		value     string
		scheme    string
		maxLen    int
		wantToken string
		wantFound bool
		wantErr   error
	}{
		{"quoted token param", `JWT token="a.b.c"`, "JWT", 0, "a.b.c", true, nil},
		{"unquoted token param", `JWT token=a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"bare token68", `JWT a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"bearer token68", `Bearer a.b.c`, "Bearer", 0, "a.b.c", true, nil},
		{"scheme lower-case", `jwt a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"scheme mixed case", `bEaReR a.b.c`, "Bearer", 0, "a.b.c", true, nil},
		{"configured scheme lower-case", `JWT a.b.c`, "jwt", 0, "a.b.c", true, nil},
		{"param name case-insensitive", `JWT TOKEN=a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"other scheme", `OpenID hello=world`, "JWT", 0, "", false, nil},
		{"Basic for a Bearer policy", `Basic dTpw`, "Bearer", 0, "", false, nil},
		{"scheme as a prefix only", `JWTx a.b.c`, "JWT", 0, "", false, nil},
		{"configured scheme longer", `JW a.b.c`, "JWT", 0, "", false, nil},
		{"empty value", ``, "JWT", 0, "", false, nil},
		{"only spaces", `    `, "JWT", 0, "", false, nil},
		{"other scheme too large is not an error", "Basic " + long, "JWT", 10, "", false, nil},
		{"realm then token", `JWT realm="x", token="a.b.c"`, "JWT", 0, "a.b.c", true, nil},
		{"token then realm", `JWT token="a.b.c", realm="x"`, "JWT", 0, "a.b.c", true, nil},
		{"params without spaces", `JWT realm=x,token=a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"spaces around =", `JWT token = a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"quoted with escapes", `JWT token="a\.b\"c\\d"`, "JWT", 0, `a.b"c\d`, true, nil},
		{"quoted with a comma inside", `JWT realm="a, b", token=x.y.z`, "JWT", 0, "x.y.z", true, nil},
		{"token68 with padding", `JWT abc==`, "JWT", 0, "abc==", true, nil},
		{"leading spaces", `   JWT a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"leading tab", "\tJWT a.b.c", "JWT", 0, "a.b.c", true, nil},
		{"trailing spaces", `JWT a.b.c   `, "JWT", 0, "a.b.c", true, nil},
		{"several spaces after the scheme", `JWT    token=a.b.c`, "JWT", 0, "a.b.c", true, nil},
		{"at the size limit", `JWT a.b.c`, "JWT", 9, "a.b.c", true, nil},

		{"duplicate token param", `JWT token=a.b.c, token=d.e.f`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"duplicate token param, other case", `JWT token=a.b.c, Token="a.b.c"`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"scheme alone", `JWT`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"scheme and spaces", `JWT    `, "JWT", 0, "", true, authheader.ErrMalformed},
		{"empty token param", `JWT token=`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"empty quoted token param", `JWT token=""`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"no token param", `JWT realm="x"`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"unterminated quote", `JWT token="a.b.c`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"escaped closing quote", `JWT token="a.b.c\"`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"text after a value", `JWT token=a.b.c d`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"text after a quoted value", `JWT token="a.b.c"d`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"param without a name", `JWT =a.b.c`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"param name not a token", `JWT to(ken=a.b.c`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"two bare tokens", `JWT a.b.c d.e.f`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"trailing comma", `JWT token=a.b.c,`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"unquoted value with a quote", `JWT token=a"b`, "JWT", 0, "", true, authheader.ErrMalformed},
		{"too large", "JWT " + long, "JWT", 50, "", true, authheader.ErrTooLarge},
		{"one byte over the limit", `JWT a.b.c`, "JWT", 8, "", true, authheader.ErrTooLarge},
		{"too large and malformed", `JWT token="` + long, "JWT", 50, "", true, authheader.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, found, err := authheader.Token(tt.value, tt.scheme, tt.maxLen)
			if tok != tt.wantToken || found != tt.wantFound || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Token(%q, %q, %d) = %q, %v, %v; want %q, %v, %v",
					tt.value, tt.scheme, tt.maxLen, tok, found, err, tt.wantToken, tt.wantFound, tt.wantErr)
			}
		})
	}
}

// TestTokenHugeInput: the size limit is applied before any parsing.
func TestTokenHugeInput(t *testing.T) {
	for name, v := range map[string]string{
		"dots":          "Bearer " + strings.Repeat(".", 1<<20),
		"open quote":    `Bearer token="` + strings.Repeat("a", 1<<20),
		"many params":   "Bearer " + strings.Repeat("a=b, ", 1<<18),
		"many escapes":  `Bearer token="` + strings.Repeat(`\"`, 1<<19) + `"`,
		"many spaces":   "Bearer" + strings.Repeat(" ", 1<<20) + "x",
		"leading space": strings.Repeat(" ", 1<<20) + "Bearer x",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := authheader.Token(v, "Bearer", 8192)
			if !errors.Is(err, authheader.ErrTooLarge) {
				t.Errorf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestIsScheme(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"JWT", true}, {"Bearer", true}, {"x-token_1.2", true}, {"!#$%&'*+-.^_`|~", true},
		{"", false}, {"JWT Bearer", false}, {"JWT:", false}, {`"JWT"`, false}, {"a,b", false},
		{"a=b", false}, {"JWT\t", false}, {"jwt/1", false}, {"ä", false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := authheader.IsScheme(tt.s); got != tt.want {
				t.Errorf("IsScheme(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}
