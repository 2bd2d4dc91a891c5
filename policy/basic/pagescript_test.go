package basic_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// fetchModes are the values of Sec-Fetch-Mode, and whether a request
// with it comes from a page's script (or is a subresource): "" is a
// request without the header, as curl sends it.
var fetchModes = []struct {
	mode   string
	script bool
}{
	{"", false},
	{"navigate", false},
	{"cors", true},
	{"same-origin", true},
	{"no-cors", true},
	{"websocket", true},
}

// withFetchMode returns r with Sec-Fetch-Mode set to mode (none for "").
func withFetchMode(r *http.Request, mode string) *http.Request {
	if mode != "" {
		r.Header.Set("Sec-Fetch-Mode", mode)
	}
	return r
}

// TestFromPageScript: only a Sec-Fetch-Mode other than navigate tells a
// page's script.
func TestFromPageScript(t *testing.T) {
	for _, fm := range fetchModes {
		if got := basic.FromPageScript(withFetchMode(requestWith(), fm.mode)); got != fm.script {
			t.Errorf("Sec-Fetch-Mode %q: FromPageScript = %v, want %v", fm.mode, got, fm.script)
		}
	}
}

// TestChallengeOfAPageScript: the 401 of a page's fetch carries no Basic
// challenge, which would open the browser's password dialog, but the same
// status and body; a navigation and a client outside a browser get the
// challenge. A 400 follows the same rule.
func TestChallengeOfAPageScript(t *testing.T) {
	p, _ := newPolicy(t)
	for _, tt := range []struct {
		name          string
		authorization []string
		status        int
		body          string
	}{
		{"no credentials", nil, 401, `{"error":"unauthorized"}`},
		{"a wrong password", []string{basicHeader("alice", "wrong")}, 401, `{"error":"unauthorized","error_description":"invalid username or password"}`},
		{"a JWT header", []string{"JWT token=abc"}, 401, `{"error":"unauthorized"}`},
		{"a malformed header", []string{"Basic !!!"}, 400, `{"error":"invalid_request","error_description":"malformed Authorization header"}`},
	} {
		for _, fm := range fetchModes {
			t.Run(tt.name+"/"+fm.mode, func(t *testing.T) {
				w := httptest.NewRecorder()
				p.Challenge(w, withFetchMode(requestWith(tt.authorization...), fm.mode))
				if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.body {
					t.Errorf("%d %s; want %d %s", w.Code, w.Body, tt.status, tt.body)
				}
				var want []string
				if !fm.script {
					want = []string{challenge}
				}
				if got := w.Header().Values("WWW-Authenticate"); !slices.Equal(got, want) {
					t.Errorf("WWW-Authenticate %q; want %q", got, want)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	}
}

// stackSecret is the secret of the stack's JWT policy.
var stackSecret = []byte("basic-pagescript-test-secret-0123456789")

// newStack is a stack of a JWT header policy (jwt) and the tests' Basic
// policy (basic).
func newStack(t *testing.T) *multiauth.Policy {
	t.Helper()
	jwtp, err := policy.NewJWT(policy.Config{MasterSecret: stackSecret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jwtp.Close() })
	bp, _ := newPolicy(t)
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "jwt", Policy: jwtp}, {Name: "basic", Policy: bp}}})
	if err != nil {
		t.Fatal(err)
	}
	return stack
}

// TestStackChallengeOfAPageScript: in a stack, a page's fetch is
// challenged by the JWT policy alone; others get both challenges.
func TestStackChallengeOfAPageScript(t *testing.T) {
	stack := newStack(t)
	now := time.Now()
	badToken := testkit.Mint(t, jose.HS256, []byte("another-secret-than-the-stack-0123456789"), map[string]any{
		"sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	for _, tt := range []struct {
		name          string
		authorization string
		jwtChallenge  string
		body          string
	}{
		{"no credentials", "", "JWT", `{"error":"unauthorized"}`},
		{"a wrong password", basicHeader("alice", "wrong"), "JWT", `{"error":"unauthorized","error_description":"invalid username or password"}`},
		{"a token that fails", "JWT token=" + badToken, `JWT error="invalid_token", error_description="invalid signature"`,
			`{"error":"invalid_token","error_description":"invalid signature"}`},
	} {
		for _, fm := range fetchModes {
			t.Run(tt.name+"/"+fm.mode, func(t *testing.T) {
				r := requestWith()
				if tt.authorization != "" {
					r.Header.Set("Authorization", tt.authorization)
				}
				w := httptest.NewRecorder()
				stack.Challenge(w, withFetchMode(r, fm.mode))
				if w.Code != http.StatusUnauthorized {
					t.Errorf("status %d; want 401", w.Code)
				}
				if strings.TrimSpace(w.Body.String()) != tt.body {
					t.Errorf("body %s; want %s", w.Body, tt.body)
				}
				want := []string{tt.jwtChallenge}
				if !fm.script {
					want = append(want, challenge)
				}
				if got := w.Header().Values("WWW-Authenticate"); !slices.Equal(got, want) {
					t.Errorf("WWW-Authenticate %q; want %q", got, want)
				}
			})
		}
	}
}

// TestGuardOfAPageScript: over HTTP, a chi guard on the stack answers a
// page's fetch of a private route 401 with the JWT challenge alone, and
// curl's request with both; Basic credentials still get the user in from
// a page's fetch.
func TestGuardOfAPageScript(t *testing.T) {
	stack := newStack(t)
	g := &chiadapter.Guard{}
	h := stack.Middleware(g.Authenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userid, _ := policy.UserIDFrom(r.Context())
		io.WriteString(w, "ok "+userid)
	})))
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(mode, authorization string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/private", nil)
		if err != nil {
			t.Fatal(err)
		}
		withFetchMode(req, mode)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, strings.TrimSpace(string(body))
	}
	resp, body := get("cors", "")
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil || resp.StatusCode != 401 || m["error"] != "unauthorized" {
		t.Errorf("a page's fetch: %d %s; want 401 unauthorized", resp.StatusCode, body)
	}
	if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, []string{"JWT"}) {
		t.Errorf("a page's fetch: WWW-Authenticate %q; want [JWT]", got)
	}
	resp, _ = get("", "")
	if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || !slices.Equal(got, []string{"JWT", challenge}) {
		t.Errorf("curl: %d, WWW-Authenticate %q; want 401 [JWT %s]", resp.StatusCode, got, challenge)
	}
	if resp, body := get("cors", basicHeader("alice", "alice-secret")); resp.StatusCode != 200 || body != "ok alice" {
		t.Errorf("a page's fetch with Basic credentials: %d %s; want 200 ok alice", resp.StatusCode, body)
	}
}
