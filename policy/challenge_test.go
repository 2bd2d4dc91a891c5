package policy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

func TestChallenge(t *testing.T) {
	expiredClaims := validClaims("u")
	expiredClaims["exp"] = tnow - 1
	expired := mintHS(t, expiredClaims)
	badSig := mint(t, jose.HS256, []byte("not-the-server-secret-not-the-server-secret"), validClaims("u"))
	valid := mintHS(t, validClaims("blocked"))
	tests := []struct {
		name       string
		scheme     string
		authz      []string
		wantStatus int
		wantHeader string
		wantError  string // the body's error
	}{
		{"no token", "", nil, 401, "JWT", "unauthorized"},
		{"other scheme", "", []string{"Basic dTpw"}, 401, "JWT", "unauthorized"},
		{"expired token", "", []string{jwtAuth(expired)}, 401, `JWT error="invalid_token", error_description="token expired"`, "invalid_token"},
		{"bad signature", "", []string{jwtAuth(badSig)}, 401, `JWT error="invalid_token", error_description="invalid signature"`, "invalid_token"},
		{"garbage token", "", []string{"JWT not-a-jwt"}, 401, `JWT error="invalid_token", error_description="malformed token"`, "invalid_token"},
		{"alg none", "", []string{"JWT " + noneToken(`{"alg":"none"}`, `{"sub":"u"}`)}, 401, `JWT error="invalid_token", error_description="signing algorithm not allowed"`, "invalid_token"},
		{"rejected user is not a token failure", "", []string{jwtAuth(valid)}, 401, "JWT", "unauthorized"},
		{"empty token param", "", []string{"JWT token="}, 400, `JWT error="invalid_request", error_description="malformed Authorization header"`, "invalid_request"},
		{"empty quoted token param", "", []string{`JWT token=""`}, 400, `JWT error="invalid_request", error_description="malformed Authorization header"`, "invalid_request"},
		{"scheme alone", "", []string{"JWT"}, 400, `JWT error="invalid_request", error_description="malformed Authorization header"`, "invalid_request"},
		{"unterminated quote", "", []string{`JWT token="` + expired}, 400, `JWT error="invalid_request", error_description="malformed Authorization header"`, "invalid_request"},
		{"two headers", "", []string{jwtAuth(expired), jwtAuth(expired)}, 400, `JWT error="invalid_request", error_description="malformed Authorization header"`, "invalid_request"},
		{"bearer, no token", "Bearer", nil, 401, "Bearer", "unauthorized"},
		{"bearer, expired", "Bearer", []string{"Bearer " + expired}, 401, `Bearer error="invalid_token", error_description="token expired"`, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := bufLogger()
			p := newPolicy(t, func(c *policy.Config) {
				c.Schemes = schemes(tt.scheme)
				c.Logger = logger
				c.GroupFinder = func(uid string, _ *http.Request, _ policy.Claims) ([]string, bool) { return nil, uid != "blocked" }
			})
			r := newRequest(tt.authz...)
			w := httptest.NewRecorder()
			p.Challenge(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Values("WWW-Authenticate"); len(got) != 1 || got[0] != tt.wantHeader {
				t.Errorf("WWW-Authenticate = %q, want exactly %q", got, tt.wantHeader)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if body["error"] != tt.wantError {
				t.Errorf("body error = %q, want %q", body["error"], tt.wantError)
			}
			for _, a := range tt.authz {
				_, tok, _ := strings.Cut(a, " ")
				tok = strings.TrimPrefix(strings.Trim(strings.TrimPrefix(tok, "token="), `"`), `"`)
				for _, seg := range strings.Split(tok, ".") {
					if len(seg) < 8 {
						continue
					}
					if strings.Contains(w.Body.String(), seg) || strings.Contains(strings.Join(w.Header().Values("WWW-Authenticate"), ""), seg) {
						t.Errorf("response holds part of the token: %q", seg)
					}
					if strings.Contains(logs.String(), seg) {
						t.Errorf("log holds part of the token %q:\n%s", seg, logs)
					}
				}
			}
		})
	}
}

// TestFailureIsLoggedWithoutToken: a failed token is logged with its reason
// and the client's address, and nothing of the token.
func TestFailureIsLoggedWithoutToken(t *testing.T) {
	logger, logs := bufLogger()
	p := newPolicy(t, func(c *policy.Config) { c.Logger = logger })
	c := validClaims("secret-user-name")
	c["exp"] = tnow - 1
	tok := mintHS(t, c)
	r := newRequest(jwtAuth(tok))
	r.RemoteAddr = "192.0.2.7:1234"
	p.AuthenticatedUserID(r)
	out := logs.String()
	if !strings.Contains(out, "token expired") || !strings.Contains(out, "192.0.2.7") {
		t.Errorf("log lacks the reason or the address:\n%s", out)
	}
	for _, part := range append(strings.Split(tok, "."), "secret-user-name") {
		if strings.Contains(out, part) {
			t.Errorf("log holds %q:\n%s", part, out)
		}
	}
}
