package policy_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestStrictClaims: a validly signed token whose payload one JSON reader
// reads one way and another reader another (duplicate members, invalid
// UTF-8, lone surrogates) is invalid credentials, "malformed claims",
// and names no user: with a lenient decoder, of duplicate members the last
// wins, so {"sub":"alice",...,"sub":"admin"} authenticated admin.
func TestStrictClaims(t *testing.T) {
	times := fmt.Sprintf(`"iat":%d,"exp":%d`, testNow.Unix(), testNow.Unix()+3600)
	for _, tt := range []struct {
		name, payload string
		audience      []string
	}{
		{"duplicate sub", `{"sub":"alice",` + times + `,"sub":"admin"}`, nil},
		{"duplicate sub, escaped", `{"sub":"alice",` + times + `,"s\u0075b":"admin"}`, nil},
		{"duplicate aud", `{"sub":"alice",` + times + `,"aud":"other","aud":"api"}`, []string{"api"}},
		{"duplicate exp", `{"sub":"alice",` + times + `,"exp":1}`, nil},
		{"duplicate in a nested claim", `{"sub":"alice",` + times + `,"cnf":{"jkt":"a","jkt":"b"}}`, nil},
		{"duplicate in an array", `{"sub":"alice",` + times + `,"groups":[{"n":"a","n":"b"}]}`, nil},
		{"invalid UTF-8", "{\"sub\":\"al\xffice\"," + times + "}", nil},
		{"lone surrogate", `{"sub":"\ud800alice",` + times + `}`, nil},
		{"surrogate encoded as UTF-8", "{\"sub\":\"\xed\xa0\x80alice\"," + times + "}", nil},
		{"trailing data", `{"sub":"alice",` + times + `} {"sub":"admin"}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := mintRaw(t, jose.HS256, testSecret, tt.payload)
			// The signature is good: only the payload is at fault.
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.HS256})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(testSecret); err != nil {
				t.Fatalf("go-jose cannot verify the test's token: %v", err)
			}
			p := newPolicy(t, func(c *policy.Config) { c.Audience = tt.audience })
			for i := range 3 { // the third time, a cached verdict would answer
				r := newRequest(jwtAuth(tok))
				uid, err := p.AuthenticatedUserID(r)
				if !errors.Is(err, policy.ErrInvalidCredentials) || !errors.Is(err, policy.ErrMalformedClaims) {
					t.Fatalf("request %d: AuthenticatedUserID = %q, %v; want malformed claims", i, uid, err)
				}
				if claimed, ok := p.UnauthenticatedUserID(r); ok {
					t.Errorf("UnauthenticatedUserID = %q; want none", claimed)
				}
				if c, ok := p.UnverifiedClaims(r); ok {
					t.Errorf("UnverifiedClaims = %v; want none", c)
				}
				w := httptest.NewRecorder()
				p.Challenge(w, r)
				if got := w.Header().Get("WWW-Authenticate"); w.Code != 401 || !strings.Contains(got, `error_description="malformed claims"`) {
					t.Errorf("challenge %d %q", w.Code, got)
				}
			}
		})
	}
}

// TestStrictClaimsAccepted: what every reader reads alike still decodes,
// escapes included.
func TestStrictClaimsAccepted(t *testing.T) {
	times := fmt.Sprintf(`"iat":%d,"exp":%d`, testNow.Unix(), testNow.Unix()+3600)
	p := newPolicy(t, nil)
	for payload, want := range map[string]string{
		`{"sub":"\ud83d\ude00",` + times + `}`:      "😀",
		`{"sub":"caf\u00e9",` + times + `}`:         "café",
		` {"sub":"alice",` + times + `,"Sub":"b"} `: "alice",
		`{"sub":"",` + times + `}`:                  "",
	} {
		uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(mintRaw(t, jose.HS256, testSecret, payload))))
		if err != nil || uid != want {
			t.Errorf("%s: AuthenticatedUserID = %q, %v; want %q", payload, uid, err, want)
		}
	}
}
