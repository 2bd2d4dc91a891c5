package main

import (
	"bufio"
	"context"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// testSecret is the HMAC secret of the tests' INI files (≥ 32 bytes).
const testSecret = "an-example-master-secret-of-more-than-32-bytes"

// startupTimeout bounds how long run may take to start or stop.
const startupTimeout = 10 * time.Second

// ---------------------------------------------------------------------------
// Helpers

// writeINI writes an INI file whose [app:main] section holds lines.
func writeINI(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.ini")
	text := "[app:main]\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testLogger discards what the policy and the guard log.
func testLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// policyFromINI builds the policy the way run does with -demo-users: Load,
// withDemoUsers, then NewPolicy. It is closed when the test ends.
func policyFromINI(t *testing.T, path string) settings.Policy {
	t.Helper()
	m, from, err := settings.Load(path, "")
	if err != nil {
		t.Fatalf("settings.Load: %v", err)
	}
	if err := withDemoUsers(m, from, true); err != nil {
		t.Fatalf("withDemoUsers: %v", err)
	}
	p, err := settings.NewPolicy(m, from, testLogger())
	if err != nil {
		t.Fatalf("settings.NewPolicy: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mint signs claims with HS256 and secret, independently of the policy.
func mint(t *testing.T, secret []byte, claims map[string]any) string {
	t.Helper()
	return testkit.Mint(t, jose.HS256, secret, claims)
}

// userClaims are the claims of a token for sub issued now, valid an hour;
// groups is left out when nil.
func userClaims(sub string, groups []string) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{"sub": sub, "iat": now, "exp": now + 3600}
	if groups != nil {
		c["groups"] = groups
	}
	return c
}

// response is an answer of the server, its body decoded.
type response struct {
	status int
	header http.Header
	body   any
	raw    string
}

// do sends a request with an optional token (as "JWT token=<token>") and
// an optional body, and decodes the JSON answer.
func do(t *testing.T, method, url, token, body string) response {
	t.Helper()
	return doWith(t, method, url, func(req *http.Request) {
		if token != "" {
			req.Header.Set("Authorization", "JWT token="+token)
		}
	}, body)
}

// doBasic sends a request with Basic credentials (req.SetBasicAuth).
func doBasic(t *testing.T, method, url, username, password string) response {
	t.Helper()
	return doWith(t, method, url, func(req *http.Request) { req.SetBasicAuth(username, password) }, "")
}

// doWith sends a request that auth, when not nil, gives its credentials
// (and any other header), with an optional body (labelled
// application/json unless auth gave a Content-Type), and decodes the JSON
// answer.
func doWith(t *testing.T, method, url string, auth func(*http.Request), body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: startupTimeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, raw, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, url, ct)
	}
	return r
}

// obj builds the decoded form of a JSON object from key, value pairs.
func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// strs is the decoded form of a JSON array of strings.
func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// orNull is s, or JSON null when s is "".
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ---------------------------------------------------------------------------
// 1. End to end over HTTP, with a configuration of the tests' own

// route is one request of the table.
type route struct {
	method, path string
	article      string // the article's id, for /articles/{id}
	permission   string // the permission it needs, for /articles/{id}
}

var routes = []route{
	{method: http.MethodGet, path: "/public"},
	{method: http.MethodGet, path: "/auth"},
	{method: http.MethodGet, path: "/groups"},
	{http.MethodGet, "/articles/1", "1", "view"},
	{http.MethodPut, "/articles/1", "1", "edit"},
	{http.MethodDelete, "/articles/1", "1", "delete"},
	{http.MethodGet, "/articles/secret", "secret", "view"},
	{http.MethodPut, "/articles/secret", "secret", "edit"},
	{http.MethodDelete, "/articles/secret", "secret", "delete"},
}

// identity is one kind of caller of the table.
type identity struct {
	name  string
	token string
	// claimed is the userid /public shows ("" for null).
	claimed string
	// userid is the authenticated userid ("" for none).
	userid string
	// principals answer GET /groups when it answers 200.
	principals []any
	// invalid is the error_description of a token that fails ("" when the
	// token verifies or there is none).
	invalid string
	// status is the expected status of each of routes, in order.
	status []int
}

func TestEndToEnd(t *testing.T) {
	path := writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
		"unrelated.key = ignored",
	)
	p := policyFromINI(t, path)
	srv := httptest.NewServer(newApp(p, nil, false, testLogger()))
	defer srv.Close()

	secret := []byte(testSecret)
	expired := userClaims("alice", []string{"editors"})
	expired["iat"] = time.Now().Add(-2 * time.Hour).Unix()
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	const (
		E  = policy.Everyone
		A  = policy.Authenticated
		OK = http.StatusOK
		NA = http.StatusUnauthorized
		FB = http.StatusForbidden
	)

	ids := []identity{
		{
			name:       "anonymous",
			principals: strs(E),
			//       public auth groups  GET1 PUT1 DEL1 GETs PUTs DELs
			status: []int{OK, NA, OK, OK, NA, NA, NA, NA, NA},
		},
		{
			name:       "editor",
			token:      mint(t, secret, userClaims("alice", []string{"editors"})),
			claimed:    "alice",
			userid:     "alice",
			principals: strs("alice", E, A, "group:editors"),
			status:     []int{OK, OK, OK, OK, OK, FB, FB, FB, FB},
		},
		{
			name:       "admin",
			token:      mint(t, secret, userClaims("root", []string{"admins"})),
			claimed:    "root",
			userid:     "root",
			principals: strs("root", E, A, "group:admins"),
			status:     []int{OK, OK, OK, OK, OK, OK, OK, OK, OK},
		},
		{
			name:       "plain user",
			token:      mint(t, secret, userClaims("bob", nil)),
			claimed:    "bob",
			userid:     "bob",
			principals: strs("bob", E, A),
			status:     []int{OK, OK, OK, OK, FB, FB, FB, FB, FB},
		},
		{
			// Rejected by the group finder even though it claims the
			// admins group: it is only Everyone, with valid credentials.
			name:       "rejected",
			token:      mint(t, secret, userClaims("baduser", []string{"admins"})),
			claimed:    "baduser",
			principals: strs(E),
			status:     []int{OK, FB, OK, OK, FB, FB, FB, FB, FB},
		},
		{
			// A userid that is a group's principal: without the reserved
			// prefixes it was the admins group in every ACL (DELETE of
			// the secret article answered 200). It is a user rejected.
			name:       "userid posing as a group",
			token:      mint(t, secret, userClaims("group:admins", nil)),
			claimed:    "group:admins",
			principals: strs(E),
			status:     []int{OK, FB, OK, OK, FB, FB, FB, FB, FB},
		},
		{
			name:       "userid posing as a system principal",
			token:      mint(t, secret, userClaims("system.Authenticated", []string{"admins"})),
			claimed:    "system.Authenticated",
			principals: strs(E),
			status:     []int{OK, FB, OK, OK, FB, FB, FB, FB, FB},
		},
		{
			name:    "broken signature",
			token:   mint(t, []byte("another-secret-of-more-than-32-bytes!!"), userClaims("mallory", []string{"admins"})),
			claimed: "mallory",
			invalid: "invalid signature",
			status:  []int{OK, NA, NA, NA, NA, NA, NA, NA, NA},
		},
		{
			name:    "expired",
			token:   mint(t, secret, expired),
			claimed: "alice",
			invalid: "token expired",
			status:  []int{OK, NA, NA, NA, NA, NA, NA, NA, NA},
		},
		{
			// The curl line of the help: a token with a fifth part.
			name:    "malformed token",
			token:   mint(t, secret, userClaims("alice", []string{"admins"})) + ".broken",
			invalid: "malformed token",
			status:  []int{OK, NA, NA, NA, NA, NA, NA, NA, NA},
		},
	}

	for _, id := range ids {
		for i, rt := range routes {
			t.Run(id.name+"/"+rt.method+rt.path, func(t *testing.T) {
				got := do(t, rt.method, srv.URL+rt.path, id.token, "")
				want := id.status[i]
				if got.status != want {
					t.Fatalf("status %d, want %d; body %s", got.status, want, got.raw)
				}
				var wantBody any
				switch want {
				case OK:
					switch {
					case rt.path == "/public":
						wantBody = obj("userid", orNull(id.claimed))
					case rt.path == "/auth":
						wantBody = obj("userid", id.userid)
					case rt.path == "/groups":
						wantBody = obj("principals", id.principals)
					default:
						wantBody = obj("article", rt.article, "permission", rt.permission, "userid", orNull(id.userid))
					}
				case FB:
					wantBody = obj("error", "forbidden")
				case NA:
					if id.invalid == "" {
						wantBody = obj("error", "unauthorized")
					} else {
						wantBody = obj("error", "invalid_token", "error_description", id.invalid)
					}
				}
				if !reflect.DeepEqual(got.body, wantBody) {
					t.Errorf("body %s, want %#v", got.raw, wantBody)
				}
				challenges := got.header.Values("WWW-Authenticate")
				switch {
				case want == http.StatusForbidden && rt.article != "":
					// The guard's 403: RFC 6750's insufficient_scope.
					if len(challenges) != 1 || challenges[0] != `JWT error="insufficient_scope"` {
						t.Errorf("WWW-Authenticate %q on a guarded 403, want [JWT error=\"insufficient_scope\"]", challenges)
					}
				case want != NA:
					if len(challenges) != 0 {
						t.Errorf("WWW-Authenticate %q on a %d answer", challenges, want)
					}
				case id.invalid == "":
					if len(challenges) != 1 || challenges[0] != "JWT" {
						t.Errorf("WWW-Authenticate %q, want exactly [JWT]", challenges)
					}
				default:
					wantChallenge := `JWT error="invalid_token", error_description="` + id.invalid + `"`
					if len(challenges) != 1 || challenges[0] != wantChallenge {
						t.Errorf("WWW-Authenticate %q, want [%s]", challenges, wantChallenge)
					}
					if !strings.Contains(challenges[0], `error="invalid_token"`) {
						t.Errorf("WWW-Authenticate %q lacks error=\"invalid_token\"", challenges[0])
					}
				}
			})
		}
	}
}

// TestEndToEndOtherAnswers covers the answers outside the table: unknown
// routes and methods, and /login of a server configured without users.
func TestEndToEndOtherAnswers(t *testing.T) {
	p := policyFromINI(t, writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	))
	srv := httptest.NewServer(newApp(p, nil, false, testLogger()))
	defer srv.Close()
	client := srv.Client()

	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/nowhere", http.StatusNotFound},
		{http.MethodPost, "/articles/1", http.StatusMethodNotAllowed},
		{http.MethodPost, "/public", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}

	// With a configuration file there are no users: every login fails,
	// even one of the demo accounts.
	got := do(t, http.MethodPost, srv.URL+"/login", "", `{"username":"alice","password":"alice"}`)
	if got.status != http.StatusUnauthorized {
		t.Errorf("POST /login without users: status %d, want 401; body %s", got.status, got.raw)
	}
}

// challengeSet is the set of an answer's WWW-Authenticate values.
func challengeSet(h http.Header) map[string]bool {
	set := map[string]bool{}
	for _, v := range h.Values("WWW-Authenticate") {
		set[v] = true
	}
	return set
}

// defaultChallenges are the challenges of the embedded default's stack to
// a request without credentials: the JWT policy's and the Basic policy's.
var defaultChallenges = map[string]bool{
	"JWT": true,
	`Basic realm="jwtauth example", charset="UTF-8"`: true,
}

// demoCaller is one caller of the default's table: a demo user, or
// anonymous (name "").
type demoCaller struct {
	name string
	// principals answer GET /groups.
	principals []any
	// status is the expected status of each of routes, in order.
	status []int
}

// TestEndToEndDefaultStack runs the table of routes on the embedded
// default's stack for each demo user and anonymous, each user once with a
// token from POST /login in the Authorization header, once with the cookie
// of the form login and once with Basic credentials: the three ways answer
// the same statuses, bodies and challenges, but for the policy /auth
// names.
func TestEndToEndDefaultStack(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	const (
		E  = policy.Everyone
		A  = policy.Authenticated
		OK = http.StatusOK
		NA = http.StatusUnauthorized
		FB = http.StatusForbidden
	)
	callers := []demoCaller{
		{
			name:       "",
			principals: strs(E),
			//       public auth groups  GET1 PUT1 DEL1 GETs PUTs DELs
			status: []int{OK, NA, OK, OK, NA, NA, NA, NA, NA},
		},
		{"alice", strs("alice", E, A, "group:editors"), []int{OK, OK, OK, OK, OK, FB, FB, FB, FB}},
		{"admin", strs("admin", E, A, "group:admins"), []int{OK, OK, OK, OK, OK, OK, OK, OK, OK}},
		{"bob", strs("bob", E, A), []int{OK, OK, OK, OK, FB, FB, FB, FB, FB}},
		// The check accepts badguy's password, the group finder rejects
		// him: 403 at /auth. Of a user the finder rejects, the stack keeps
		// the userid his policy gave him among the principals
		// (pyramid_multiauth's union), without Authenticated.
		{"badguy", strs(E, "badguy"), []int{OK, FB, OK, OK, FB, FB, FB, FB, FB}},
	}

	for _, c := range callers {
		ways := map[string]func(*http.Request){"anonymous": nil}
		if c.name != "" {
			got := postLogin(t, srv.URL, `{"username":"`+c.name+`","password":"`+c.name+`"}`)
			token, _ := got.body.(map[string]any)["token"].(string)
			if got.status != OK || token == "" {
				t.Fatalf("login %s: %d %s", c.name, got.status, got.raw)
			}
			cookie := formLoginCookie(t, srv.URL, c.name)
			ways = map[string]func(*http.Request){
				"jwt":    func(req *http.Request) { req.Header.Set("Authorization", "JWT token="+token) },
				"cookie": func(req *http.Request) { req.AddCookie(&http.Cookie{Name: "jwt", Value: cookie}) },
				"basic":  func(req *http.Request) { req.SetBasicAuth(c.name, c.name) },
			}
		}
		for way, auth := range ways {
			who := c.name + "/" + way
			if c.name == "" {
				who = way
			}
			for i, rt := range routes {
				t.Run(who+"/"+rt.method+rt.path, func(t *testing.T) {
					got := doWith(t, rt.method, srv.URL+rt.path, auth, "")
					want := c.status[i]
					if got.status != want {
						t.Fatalf("status %d, want %d; body %s", got.status, want, got.raw)
					}
					userid := c.name
					if want != OK || c.name == "badguy" {
						userid = ""
					}
					var wantBody any
					switch {
					case want == FB:
						wantBody = obj("error", "forbidden")
					case want == NA:
						wantBody = obj("error", "unauthorized")
					case rt.path == "/public":
						wantBody = obj("userid", orNull(c.name))
					case rt.path == "/auth":
						wantBody = obj("userid", c.name, "policy", way)
					case rt.path == "/groups":
						wantBody = obj("principals", c.principals)
					default:
						wantBody = obj("article", rt.article, "permission", rt.permission, "userid", orNull(userid))
					}
					if !reflect.DeepEqual(got.body, wantBody) {
						t.Errorf("body %s, want %#v", got.raw, wantBody)
					}
					challenges := got.header.Values("WWW-Authenticate")
					switch {
					case want == NA:
						if len(challenges) != 2 || !reflect.DeepEqual(challengeSet(got.header), defaultChallenges) {
							t.Errorf("WWW-Authenticate %q, want the JWT and the Basic challenges", challenges)
						}
					case want == FB && rt.article != "":
						// The guard's 403: insufficient_scope for the
						// token scheme, whichever policy authenticated.
						if len(challenges) != 1 || challenges[0] != `JWT error="insufficient_scope"` {
							t.Errorf("WWW-Authenticate %q on a guarded 403, want [JWT error=\"insufficient_scope\"]", challenges)
						}
					case len(challenges) != 0:
						t.Errorf("WWW-Authenticate %q on a %d answer", challenges, want)
					}
				})
			}
		}
	}
}

// TestDefaultStackFailedCredentials: on the embedded default's stack, a
// wrong Basic password is a 401 with both challenges, a malformed Basic
// header a 400, a broken token a 401 invalid_token whatever Basic would
// say; a JWT header beside a Basic one is malformed for both policies.
func TestDefaultStackFailedCredentials(t *testing.T) {
	p, _ := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	got := postLogin(t, srv.URL, `{"username":"admin","password":"admin"}`)
	token, _ := got.body.(map[string]any)["token"].(string)
	if token == "" {
		t.Fatalf("login admin: %d %s", got.status, got.raw)
	}
	const basicChallenge = `Basic realm="jwtauth example", charset="UTF-8"`

	for _, tc := range []struct {
		name       string
		auth       func(*http.Request)
		status     int
		body       any
		challenges map[string]bool
	}{
		{
			name:       "wrong Basic password",
			auth:       func(req *http.Request) { req.SetBasicAuth("alice", "bob") },
			status:     http.StatusUnauthorized,
			body:       obj("error", "unauthorized", "error_description", "invalid username or password"),
			challenges: defaultChallenges,
		},
		{
			name:       "unknown Basic user",
			auth:       func(req *http.Request) { req.SetBasicAuth("mallory", "mallory") },
			status:     http.StatusUnauthorized,
			body:       obj("error", "unauthorized", "error_description", "invalid username or password"),
			challenges: defaultChallenges,
		},
		{
			name:       "malformed Basic header",
			auth:       func(req *http.Request) { req.Header.Set("Authorization", "Basic !!!not-base64") },
			status:     http.StatusBadRequest,
			body:       obj("error", "invalid_request", "error_description", "malformed Authorization header"),
			challenges: defaultChallenges,
		},
		{
			name:   "broken token alone",
			auth:   func(req *http.Request) { req.Header.Set("Authorization", "JWT token="+token+".broken") },
			status: http.StatusUnauthorized,
			body:   obj("error", "invalid_token", "error_description", "malformed token"),
			challenges: map[string]bool{
				`JWT error="invalid_token", error_description="malformed token"`: true,
				basicChallenge: true,
			},
		},
		{
			// Two Authorization headers, each good alone: each policy
			// refuses to pick one, so both are malformed, a 400.
			name: "a JWT and a Basic header",
			auth: func(req *http.Request) {
				req.Header.Add("Authorization", "JWT token="+token)
				req.Header.Add("Authorization", "Basic YWRtaW46YWRtaW4=") // admin:admin
			},
			status: http.StatusBadRequest,
			body:   obj("error", "invalid_request"),
			challenges: map[string]bool{
				`JWT error="invalid_request", error_description="malformed Authorization header"`: true,
				basicChallenge: true,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range []route{{method: http.MethodGet, path: "/auth"}, {method: http.MethodGet, path: "/groups"}, {method: http.MethodPut, path: "/articles/1"}} {
				got := doWith(t, rt.method, srv.URL+rt.path, tc.auth, "")
				if got.status != tc.status || !reflect.DeepEqual(got.body, tc.body) {
					t.Errorf("%s %s: %d %s, want %d %#v", rt.method, rt.path, got.status, got.raw, tc.status, tc.body)
				}
				if set := challengeSet(got.header); !reflect.DeepEqual(set, tc.challenges) || len(got.header.Values("WWW-Authenticate")) != len(tc.challenges) {
					t.Errorf("%s %s: WWW-Authenticate %q, want %v", rt.method, rt.path, got.header.Values("WWW-Authenticate"), tc.challenges)
				}
			}
			// Failed credentials see no article, even one Everyone may
			// view.
			if got := doWith(t, http.MethodGet, srv.URL+"/articles/1", tc.auth, ""); got.status != tc.status {
				t.Errorf("GET /articles/1: %d %s, want %d", got.status, got.raw, tc.status)
			}
		})
	}

	// Good credentials, each alone: the table's answers.
	if got := doBasic(t, http.MethodDelete, srv.URL+"/articles/secret", "admin", "admin"); got.status != http.StatusOK {
		t.Errorf("DELETE /articles/secret with Basic admin: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodDelete, srv.URL+"/articles/secret", token, ""); got.status != http.StatusOK {
		t.Errorf("DELETE /articles/secret with admin's token: %d %s", got.status, got.raw)
	}
	// /public shows the claimed username of a wrong password, unchecked.
	if got := doBasic(t, http.MethodGet, srv.URL+"/public", "alice", "wrong"); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice")) {
		t.Errorf("GET /public with a wrong Basic password: %d %s", got.status, got.raw)
	}
}

// TestDemoCheck: example:basiccheck accepts the demo users with their
// passwords and gives them their groups as principals; it refuses
// arguments.
func TestDemoCheck(t *testing.T) {
	check := demoCheck()
	for _, tc := range []struct {
		username, password string
		groups             []string
		ok                 bool
	}{
		{"alice", "alice", []string{"group:editors"}, true},
		{"admin", "admin", []string{"group:admins"}, true},
		{"bob", "bob", nil, true},
		{"badguy", "badguy", nil, true}, // the group finder rejects him
		{"alice", "admin", nil, false},
		{"alice", "", nil, false},
		{"alice", "alice ", nil, false},
		{"mallory", "mallory", nil, false},
		{"", "", nil, false},
	} {
		groups, ok := check(tc.username, tc.password, nil)
		if ok != tc.ok || len(groups) != len(tc.groups) || (len(groups) > 0 && !reflect.DeepEqual(groups, tc.groups)) {
			t.Errorf("check(%q, %q) = %q, %v; want %q, %v", tc.username, tc.password, groups, ok, tc.groups, tc.ok)
		}
	}

	for _, arg := range [][2]string{{"check_file", "users.txt"}, {"check_users", "everyone"}} {
		m := defaultSettings()
		m["multiauth.policy.basic."+arg[0]] = arg[1]
		if _, err := settings.NewPolicy(m, nil, testLogger()); err == nil || !strings.Contains(err.Error(), "multiauth.policy.basic.check") {
			t.Errorf("example:basiccheck with %s = %s: %v, want an error naming multiauth.policy.basic.check", arg[0], arg[1], err)
		}
	}

	// Without check_users the check knows no users.
	none, err := newBasicCheck(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, u := range demoUsers {
		if groups, ok := none(name, u.Password, nil); ok || groups != nil {
			t.Errorf("the check without users accepts %s: %q, %v", name, groups, ok)
		}
	}
}

// TestWithDemoUsers: run gives check_users = demo to each basic policy
// whose check is example:basiccheck when -demo-users is set, nothing
// otherwise, and refuses settings that set check_users themselves.
func TestWithDemoUsers(t *testing.T) {
	stack := func() map[string]string {
		return map[string]string{
			"multiauth.policies":           "api svc other",
			"multiauth.policy.api.use":     "jwt",
			"multiauth.policy.svc.use":     "basic",
			"multiauth.policy.svc.check":   " " + BasicCheckName + " ",
			"multiauth.policy.other.use":   "basic",
			"multiauth.policy.other.check": "another:check",
		}
	}
	m := stack()
	if err := withDemoUsers(m, nil, true); err != nil {
		t.Fatal(err)
	}
	want := stack()
	want["multiauth.policy.svc.check_users"] = "demo"
	if !reflect.DeepEqual(m, want) {
		t.Errorf("with -demo-users: %v, want %v", m, want)
	}
	m = stack()
	if err := withDemoUsers(m, nil, false); err != nil || !reflect.DeepEqual(m, stack()) {
		t.Errorf("without -demo-users: %v, %v; want the settings unchanged", m, err)
	}
	for _, demo := range []bool{true, false} {
		m = stack()
		m["multiauth.policy.svc.check_users"] = "demo"
		err := withDemoUsers(m, settings.Origins{"multiauth.policy.svc.check_users": "MULTIAUTH_POLICY_SVC_CHECK_USERS"}, demo)
		if err == nil || !strings.Contains(err.Error(), "MULTIAUTH_POLICY_SVC_CHECK_USERS") || !strings.Contains(err.Error(), "-demo-users") {
			t.Errorf("check_users from the environment, -demo-users %v: %v, want an error naming the variable and the flag", demo, err)
		}
	}
}

// TestArticleIDPercentEncoded asks for articles with their names
// percent-encoded. A name is decoded exactly once (RFC 3986 section
// 6.2.2.2): /articles/%73ecret is the article "secret" and meets its ACL,
// /articles/%2573ecret is the article "%73ecret" and inherits the root's.
// Each request is checked to have reached the server as written, and each
// answer by the article it names, not only by its status.
func TestArticleIDPercentEncoded(t *testing.T) {
	p := policyFromINI(t, writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	))
	app := newApp(p, nil, false, testLogger())
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.RequestURI
		app.ServeHTTP(w, r)
	}))
	defer srv.Close()

	editor := mint(t, []byte(testSecret), userClaims("eddie", []string{"editors"}))
	admin := mint(t, []byte(testSecret), userClaims("alice", []string{"admins"}))
	const (
		ok    = http.StatusOK
		unau  = http.StatusUnauthorized
		forb  = http.StatusForbidden
		notfd = http.StatusNotFound
	)
	for _, tc := range []struct {
		method, path, who string
		status            int
		article           string // the article a 200 names
	}{
		// The article "secret", its name escaped: admins only.
		{http.MethodGet, "/articles/%73ecret", "anonymous", unau, ""},
		{http.MethodGet, "/articles/%73ecret", "editor", forb, ""},
		{http.MethodPut, "/articles/%73ecret", "editor", forb, ""},
		{http.MethodGet, "/articles/%73ecret", "admin", ok, "secret"},
		{http.MethodGet, "/articles/secre%74", "anonymous", unau, ""},
		{http.MethodGet, "/articles/secre%74", "editor", forb, ""},
		{http.MethodGet, "/articles/%73%65%63%72%65%74", "admin", ok, "secret"},
		// The article "%73ecret": the root's ACL, decoded once only.
		{http.MethodGet, "/articles/%2573ecret", "anonymous", ok, "%73ecret"},
		{http.MethodPut, "/articles/%2573ecret", "editor", ok, "%73ecret"},
		{http.MethodGet, "/articles/%2573ecret", "admin", ok, "%73ecret"},
		{http.MethodGet, "/articles/%252573ecret", "anonymous", ok, "%2573ecret"},
		// %2F is part of the name, not a separator: the article
		// "secret/..", which is not "secret".
		{http.MethodGet, "/articles/secret%2F..", "anonymous", ok, "secret/.."},
		{http.MethodGet, "/articles/secret%2F..", "admin", ok, "secret/.."},
		{http.MethodGet, "/articles/%73ecret%2F..", "anonymous", ok, "secret/.."},
		// Names are case-sensitive: "SECRET" is another article.
		{http.MethodGet, "/articles/SECRET", "anonymous", ok, "SECRET"},
		{http.MethodGet, "/articles/%53ECRET", "anonymous", ok, "SECRET"},
		// Paths are not cleaned: an empty segment matches no route.
		{http.MethodGet, "/articles//secret", "anonymous", notfd, ""},
		{http.MethodGet, "/articles//secret", "admin", notfd, ""},
		{http.MethodGet, "//articles/secret", "anonymous", notfd, ""},
		{http.MethodGet, "//articles/secret", "admin", notfd, ""},
		{http.MethodGet, "/articles/%2Fsecret", "anonymous", ok, "/secret"},
	} {
		name := tc.method + " " + tc.path + " as " + tc.who
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch tc.who {
		case "editor":
			req.Header.Set("Authorization", "JWT token="+editor)
		case "admin":
			req.Header.Set("Authorization", "JWT token="+admin)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if uri := <-seen; uri != tc.path {
			t.Fatalf("%s: the server received %q", name, uri)
		}
		var body struct {
			Article *string `json:"article"`
		}
		_ = json.Unmarshal(raw, &body)
		got := "<none>"
		if body.Article != nil {
			got = *body.Article
		}
		want := tc.article
		if want == "" {
			want = "<none>"
		}
		if resp.StatusCode != tc.status || got != want {
			t.Errorf("%s: status %d, article %q; want %d, article %q (body %s)", name, resp.StatusCode, got, tc.status, want, raw)
		}
	}
}

// ---------------------------------------------------------------------------
// 2. /login

// defaultPolicy builds the policy of the embedded default as run does
// (settings.NewPolicy), closed when the test ends, and returns its secret.
func defaultPolicy(t *testing.T) (settings.Policy, []byte) {
	t.Helper()
	m := defaultSettings()
	secret := m["jwtauth.master_secret"]
	if len(secret) < 32 {
		t.Fatalf("default master secret of %d bytes", len(secret))
	}
	if m2 := defaultSettings(); m2["jwtauth.master_secret"] == secret {
		t.Error("defaultSettings makes the same secret twice")
	}
	p, err := settings.NewPolicy(m, nil, testLogger())
	if err != nil {
		t.Fatalf("settings.NewPolicy(defaultSettings()): %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p, []byte(secret)
}

// postLogin posts body to /login and returns the answer.
func postLogin(t *testing.T, base, body string) response {
	t.Helper()
	return do(t, http.MethodPost, base+"/login", "", body)
}

func TestLogin(t *testing.T) {
	p, secret := defaultPolicy(t)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	got := postLogin(t, srv.URL, `{"username":"alice","password":"alice"}`)
	if got.status != http.StatusOK {
		t.Fatalf("login alice: status %d; body %s", got.status, got.raw)
	}
	body, _ := got.body.(map[string]any)
	token, _ := body["token"].(string)
	if token == "" || len(body) != 1 {
		t.Fatalf("login alice: body %s, want {\"token\": ...}", got.raw)
	}

	// go-jose verifies the token with the secret of defaultSettings' map.
	std, groups := verifyToken(t, token, secret)
	if std.Subject != "alice" {
		t.Errorf("sub %q, want alice", std.Subject)
	}
	if !reflect.DeepEqual(groups, []string{"editors"}) {
		t.Errorf("groups %q, want [editors]", groups)
	}
	if std.Expiry == nil {
		t.Error("the token has no exp")
	} else if d := time.Until(std.Expiry.Time()); d <= 0 || d > time.Hour+time.Minute {
		t.Errorf("the token expires in %v, want about an hour", d)
	}
	if parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256}); err != nil || parsed.Claims([]byte("not-the-secret-not-the-secret-00"), &std) == nil {
		t.Errorf("the token verifies with another secret (or does not parse: %v)", err)
	}

	// The token works; the stack's JWT policy, "jwt", authenticates it.
	if got := do(t, http.MethodGet, srv.URL+"/auth", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", "jwt")) {
		t.Errorf("GET /auth with alice's token: %d %s", got.status, got.raw)
	}
	wantPrincipals := obj("principals", strs("alice", policy.Everyone, policy.Authenticated, "group:editors"))
	if got := do(t, http.MethodGet, srv.URL+"/groups", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, wantPrincipals) {
		t.Errorf("GET /groups with alice's token: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodPut, srv.URL+"/articles/1", token, ""); got.status != http.StatusOK {
		t.Errorf("PUT /articles/1 with alice's token: %d %s", got.status, got.raw)
	}

	// Every demo user can log in; badguy's token is rejected by the group
	// finder, bob has no groups, admin may delete the secret.
	for name, want := range map[string]struct {
		auth, deleteSecret int
	}{
		"admin":  {http.StatusOK, http.StatusOK},
		"bob":    {http.StatusOK, http.StatusForbidden},
		"badguy": {http.StatusForbidden, http.StatusForbidden},
	} {
		got := postLogin(t, srv.URL, `{"username":"`+name+`","password":"`+name+`"}`)
		tok, _ := got.body.(map[string]any)["token"].(string)
		if got.status != http.StatusOK || tok == "" {
			t.Errorf("login %s: %d %s", name, got.status, got.raw)
			continue
		}
		if got := do(t, http.MethodGet, srv.URL+"/auth", tok, ""); got.status != want.auth {
			t.Errorf("GET /auth as %s: %d, want %d; %s", name, got.status, want.auth, got.raw)
		}
		if got := do(t, http.MethodDelete, srv.URL+"/articles/secret", tok, ""); got.status != want.deleteSecret {
			t.Errorf("DELETE /articles/secret as %s: %d, want %d; %s", name, got.status, want.deleteSecret, got.raw)
		}
	}

	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"wrong password", `{"username":"alice","password":"bob"}`, http.StatusUnauthorized},
		{"empty password", `{"username":"alice","password":""}`, http.StatusUnauthorized},
		{"unknown user", `{"username":"mallory","password":"mallory"}`, http.StatusUnauthorized},
		{"no fields", `{}`, http.StatusUnauthorized},
		{"malformed JSON", `{"username":"alice",`, http.StatusBadRequest},
		{"not JSON", `username=alice&password=alice`, http.StatusBadRequest},
		{"wrong types", `{"username":1,"password":true}`, http.StatusBadRequest},
	} {
		got := postLogin(t, srv.URL, tc.body)
		if got.status != tc.want {
			t.Errorf("login, %s: status %d, want %d; body %s", tc.name, got.status, tc.want, got.raw)
		}
		if _, has := got.body.(map[string]any)["token"]; has {
			t.Errorf("login, %s: a token in %s", tc.name, got.raw)
		}
		if e, _ := got.body.(map[string]any)["error"].(string); e == "" {
			t.Errorf("login, %s: no error in %s", tc.name, got.raw)
		}
	}
	// No body at all is malformed too.
	resp, err := http.Post(srv.URL+"/login", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("login without a body: status %d, want 400", resp.StatusCode)
	}
}

// TestLoginWithoutSigningKey: a policy that only verifies (an RS256 public
// key) cannot make tokens, so /login answers 501, whatever the
// credentials; tokens made elsewhere with the private key still work.
func TestLoginWithoutSigningKey(t *testing.T) {
	key := testkit.MustRSA(2048)
	pubPath := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(pubPath, testkit.PublicPEM(t, &key.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	p := policyFromINI(t, writeINI(t,
		"jwtauth.algorithm = RS256",
		"jwtauth.public_key_file = "+pubPath,
		"jwtauth.find_groups = example:groupfinder",
	))
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()

	got := postLogin(t, srv.URL, `{"username":"alice","password":"alice"}`)
	if got.status != http.StatusNotImplemented {
		t.Errorf("login with a public key only: status %d, want 501; body %s", got.status, got.raw)
	}
	if _, has := got.body.(map[string]any)["token"]; has {
		t.Errorf("a token in %s", got.raw)
	}
	if got := postLogin(t, srv.URL, `{"username":"alice","password":"wrong"}`); got.status != http.StatusNotImplemented {
		t.Errorf("wrong password with a public key only: status %d, want 501 (no password oracle)", got.status)
	}

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token := testkit.MintSigned(t, signer, userClaims("carol", []string{"admins"}))
	if got := do(t, http.MethodDelete, srv.URL+"/articles/secret", token, ""); got.status != http.StatusOK ||
		!reflect.DeepEqual(got.body, obj("article", "secret", "permission", "delete", "userid", "carol")) {
		t.Errorf("DELETE /articles/secret with an RS256 token: %d %s", got.status, got.raw)
	}
	// An HS256 token is refused: the policy allows RS256 only.
	hs := mint(t, []byte(testSecret), userClaims("carol", []string{"admins"}))
	if got := do(t, http.MethodGet, srv.URL+"/auth", hs, ""); got.status != http.StatusUnauthorized {
		t.Errorf("GET /auth with an HS256 token: %d %s", got.status, got.raw)
	}
}

// ---------------------------------------------------------------------------
// 3. run

// runOnce runs the program to its end with a background context; it must
// end by itself (a start-up failure).
func runOnce(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb testkit.SyncBuffer
	done := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- run(ctx, args, &out, &errb) }()
	select {
	case code = <-done:
	case <-time.After(startupTimeout):
		cancel()
		<-done
		t.Fatalf("run %q did not end by itself; stdout %q, stderr %q", args, out.String(), errb.String())
	}
	return code, out.String(), errb.String()
}

func TestRunSettingsErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.ini")
	for _, tc := range []struct {
		name  string
		lines []string
		want  string // in stderr
	}{
		{"bad leeway", []string{"jwtauth.master_secret = " + testSecret, "jwtauth.leeway = abc"}, "jwtauth.leeway"},
		{"unknown key", []string{"jwtauth.master_secret = " + testSecret, "jwtauth.bogus = 1"}, "jwtauth.bogus"},
		{"short secret", []string{"jwtauth.master_secret = short-secret"}, "jwtauth.master_secret"},
		{"no secret", []string{"jwtauth.find_groups = example:groupfinder"}, "jwtauth.master_secret"},
		{"unknown group finder", []string{"jwtauth.master_secret = " + testSecret, "jwtauth.find_groups = nobody:finder"}, "jwtauth.find_groups"},
		{"bad debug_authorization", []string{"jwtauth.master_secret = " + testSecret, "jwtauth.debug_authorization = maybe"}, "jwtauth.debug_authorization"},
		{"bad algorithm", []string{"jwtauth.master_secret = " + testSecret, "jwtauth.algorithm = none"}, "jwtauth.algorithm"},
		{"multiauth key without a stack", []string{"jwtauth.master_secret = " + testSecret, "multiauth.groupfinder = example:groupfinder"}, "multiauth.groupfinder"},
		{"stack: unknown check", []string{"multiauth.policies = svc", "multiauth.policy.svc.use = basic", "multiauth.policy.svc.check = nobody:check"}, "multiauth.policy.svc.check"},
		{"stack: check argument", []string{"multiauth.policies = svc", "multiauth.policy.svc.use = basic", "multiauth.policy.svc.check = example:basiccheck", "multiauth.policy.svc.check_file = x"}, "multiauth.policy.svc.check"},
		{"stack: check_users in the file", []string{"multiauth.policies = svc", "multiauth.policy.svc.use = basic", "multiauth.policy.svc.check = example:basiccheck", "multiauth.policy.svc.check_users = demo"}, "multiauth.policy.svc.check_users: the -demo-users flag"},
		{"stack: short secret", []string{"multiauth.policies = api", "multiauth.policy.api.use = jwt", "multiauth.policy.api.master_secret = short-secret"}, "multiauth.policy.api.master_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runOnce(t, "-config", writeINI(t, tc.lines...), "-addr", "127.0.0.1:0")
			if code == 0 {
				t.Fatalf("run exited 0; stderr %q", stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not name %s", stderr, tc.want)
			}
			if strings.Contains(stdout, "listening") {
				t.Errorf("run printed %q though the settings are bad", stdout)
			}
			if strings.Contains(stderr, "short-secret") {
				t.Errorf("stderr %q shows the secret", stderr)
			}
		})
	}

	t.Run("missing config file", func(t *testing.T) {
		code, _, stderr := runOnce(t, "-config", missing, "-addr", "127.0.0.1:0")
		if code == 0 {
			t.Fatal("run exited 0")
		}
		if !strings.Contains(stderr, "missing.ini") {
			t.Errorf("stderr %q does not name the file", stderr)
		}
	})
	t.Run("no app:main section", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.ini")
		if err := os.WriteFile(path, []byte("[app:other]\njwtauth.master_secret = "+testSecret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runOnce(t, "-config", path, "-addr", "127.0.0.1:0"); code == 0 || !strings.Contains(stderr, "app:main") {
			t.Errorf("run exited %d; stderr %q", code, stderr)
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		if code, _, stderr := runOnce(t, "-nope"); code == 0 || !strings.Contains(stderr, "nope") {
			t.Errorf("run exited %d; stderr %q", code, stderr)
		}
	})
	t.Run("bad address", func(t *testing.T) {
		path := writeINI(t, "jwtauth.master_secret = "+testSecret)
		if code, _, stderr := runOnce(t, "-config", path, "-addr", "127.0.0.1:notaport"); code == 0 || stderr == "" {
			t.Errorf("run exited %d; stderr %q", code, stderr)
		}
	})
}

// running is a run started by startRun.
type running struct {
	base   string              // http://host:port
	stdout *testkit.SyncBuffer // all of stdout so far
	stderr *testkit.SyncBuffer
	stop   func() int // cancels the context and returns run's status
}

// startRun starts run with args in a goroutine and waits for its
// "listening on" line and the rest of its help, which ends with the curl
// line of DELETE /articles/secret.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	r := &running{stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, pw, r.stderr) }()

	// Read stdout to its end, so that run never blocks on it. The help
	// ends with the curl line of DELETE /articles/secret.
	listening := make(chan string, 1)
	helped := make(chan struct{})
	helpDone := helped // helped is set to nil by the reader once closed
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			r.stdout.Write([]byte(line + "\n"))
			if _, after, ok := strings.Cut(line, "listening on "); ok {
				select {
				case listening <- strings.TrimSpace(after):
				default:
				}
			}
			if strings.Contains(line, "curl -i -X DELETE ") && strings.Contains(line, "/articles/secret") && helped != nil {
				close(helped)
				helped = nil
			}
		}
		io.Copy(io.Discard, pr)
	}()

	var stopped bool
	var code int
	r.stop = func() int {
		if stopped {
			return code
		}
		stopped = true
		cancel()
		select {
		case code = <-done:
		case <-time.After(startupTimeout):
			t.Fatalf("run did not return within %v of the cancellation; stderr %q", startupTimeout, r.stderr.String())
		}
		pw.Close()
		<-drained
		return code
	}
	t.Cleanup(func() { r.stop() })

	select {
	case r.base = <-listening:
	case code := <-done:
		stopped = true
		pw.Close()
		t.Fatalf("run returned %d before listening; stdout %q, stderr %q", code, r.stdout.String(), r.stderr.String())
	case <-time.After(startupTimeout):
		t.Fatalf("no \"listening on\" line within %v; stdout %q, stderr %q", startupTimeout, r.stdout.String(), r.stderr.String())
	}
	select {
	case <-helpDone:
	case <-time.After(startupTimeout):
		t.Fatalf("the help did not end within %v; stdout %q", startupTimeout, r.stdout.String())
	}
	if !strings.HasPrefix(r.base, "http://127.0.0.1:") || strings.HasSuffix(r.base, ":0") {
		t.Fatalf("listening on %q, want http://127.0.0.1:<port>", r.base)
	}
	return r
}

func TestRunServes(t *testing.T) {
	path := writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	)
	r := startRun(t, "-config", path, "-addr", "127.0.0.1:0")

	if got := do(t, http.MethodGet, r.base+"/public", "", ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", nil)) {
		t.Errorf("GET /public: %d %s", got.status, got.raw)
	}
	token := mint(t, []byte(testSecret), userClaims("alice", []string{"editors"}))
	if got := do(t, http.MethodGet, r.base+"/auth", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice")) {
		t.Errorf("GET /auth: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", "", ""); got.status != http.StatusUnauthorized || got.header.Get("WWW-Authenticate") != "JWT" {
		t.Errorf("GET /auth anonymous: %d %q %s", got.status, got.header.Get("WWW-Authenticate"), got.raw)
	}

	// The help names the address and the curl lines; with a configuration
	// file there are no demo users to offer.
	out := r.stdout.String()
	for _, want := range []string{
		"curl -i " + r.base + "/public",
		"curl -i " + r.base + "/auth",
		`-H "Authorization: JWT token=$TOKEN" ` + r.base + "/groups",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Demo users") {
		t.Errorf("stdout offers demo users with a configuration file:\n%s", out)
	}

	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d after the cancellation; stderr %q", code, r.stderr.String())
	}
	// Stopped: the app answers no more. (Something else may answer: a
	// test binary running beside this one can take the freed port; only
	// the app says "userid" at /public.)
	client := &http.Client{Timeout: startupTimeout}
	if resp, err := client.Get(r.base + "/public"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `"userid"`) {
			t.Errorf("the server still answers after run returned")
		}
	}
}

// TestRunDefault runs without -config: the embedded default with its demo
// users, /login (JSON and form), the cookie, the page and Basic.
func TestRunDefault(t *testing.T) {
	r := startRun(t, "-addr", "127.0.0.1:0")
	out := r.stdout.String()
	for _, want := range []string{
		"Demo users",
		"curl -s -X POST " + r.base + "/login",
		`curl -i -H "Authorization: JWT token=$TOKEN" ` + r.base + "/auth",
		"curl -i -u alice:alice " + r.base + "/auth",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	got := postLogin(t, r.base, `{"username":"admin","password":"admin"}`)
	token, _ := got.body.(map[string]any)["token"].(string)
	if got.status != http.StatusOK || token == "" {
		t.Fatalf("login admin: %d %s", got.status, got.raw)
	}
	want := obj("principals", strs("admin", policy.Everyone, policy.Authenticated, "group:admins"))
	if got := do(t, http.MethodGet, r.base+"/groups", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, want) {
		t.Errorf("GET /groups as admin: %d %s", got.status, got.raw)
	}
	if got := doBasic(t, http.MethodGet, r.base+"/groups", "admin", "admin"); got.status != http.StatusOK || !reflect.DeepEqual(got.body, want) {
		t.Errorf("GET /groups as admin with Basic: %d %s", got.status, got.raw)
	}
	// The help's Basic line.
	if got := doBasic(t, http.MethodGet, r.base+"/auth", "alice", "alice"); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", "basic")) {
		t.Errorf("GET /auth as alice with Basic: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", "", ""); got.status != http.StatusUnauthorized || !reflect.DeepEqual(challengeSet(got.header), defaultChallenges) {
		t.Errorf("GET /auth anonymous: %d %q, want 401 and both challenges", got.status, got.header.Values("WWW-Authenticate"))
	}
	// The page's form login: the cookie authenticates alice.
	cookie := formLoginCookie(t, r.base, "alice")
	withCookie := func(req *http.Request) { req.AddCookie(&http.Cookie{Name: "jwt", Value: cookie}) }
	if got := doWith(t, http.MethodGet, r.base+"/auth", withCookie, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", "cookie")) {
		t.Errorf("GET /auth with alice's cookie: %d %s", got.status, got.raw)
	}
	if page := send(t, http.DefaultClient, http.MethodGet, r.base+"/", nil, ""); page.status != http.StatusOK || page.header.Get("Content-Security-Policy") != pageCSP {
		t.Errorf("GET /: %d, Content-Security-Policy %q", page.status, page.header.Get("Content-Security-Policy"))
	}
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
	if strings.Contains(r.stderr.String(), cookie) {
		t.Error("the log shows the cookie's token")
	}
}

// TestRunStackConfig runs with -demo-users on a configuration file with
// the stack: a JWT policy "api" and a Basic policy "svc" with the
// demo users' check, sharing the example's group finder.
func TestRunStackConfig(t *testing.T) {
	path := writeINI(t,
		"multiauth.policies = api svc",
		"multiauth.policy.api.use = jwt",
		"multiauth.policy.api.master_secret = "+testSecret,
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.policy.svc.realm = example",
		"multiauth.groupfinder = example:groupfinder",
	)
	r := startRun(t, "-config", path, "-demo-users", "-addr", "127.0.0.1:0")

	anonymous := do(t, http.MethodGet, r.base+"/auth", "", "")
	wantChallenges := map[string]bool{"JWT": true, `Basic realm="example", charset="UTF-8"`: true}
	if anonymous.status != http.StatusUnauthorized || !reflect.DeepEqual(challengeSet(anonymous.header), wantChallenges) {
		t.Errorf("GET /auth anonymous: %d %q, want 401 and %v", anonymous.status, anonymous.header.Values("WWW-Authenticate"), wantChallenges)
	}

	editor := mint(t, []byte(testSecret), userClaims("alice", []string{"editors"}))
	byToken := func(req *http.Request) { req.Header.Set("Authorization", "JWT token="+editor) }
	byBasic := func(req *http.Request) { req.SetBasicAuth("alice", "alice") }
	for _, tc := range []struct {
		way    string
		auth   func(*http.Request)
		policy string
	}{{"token", byToken, "api"}, {"Basic", byBasic, "svc"}} {
		if got := doWith(t, http.MethodGet, r.base+"/auth", tc.auth, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", tc.policy)) {
			t.Errorf("GET /auth as alice by %s: %d %s", tc.way, got.status, got.raw)
		}
		want := obj("principals", strs("alice", policy.Everyone, policy.Authenticated, "group:editors"))
		if got := doWith(t, http.MethodGet, r.base+"/groups", tc.auth, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, want) {
			t.Errorf("GET /groups as alice by %s: %d %s", tc.way, got.status, got.raw)
		}
		if got := doWith(t, http.MethodPut, r.base+"/articles/1", tc.auth, ""); got.status != http.StatusOK {
			t.Errorf("PUT /articles/1 as alice by %s: %d %s", tc.way, got.status, got.raw)
		}
		if got := doWith(t, http.MethodDelete, r.base+"/articles/secret", tc.auth, ""); got.status != http.StatusForbidden {
			t.Errorf("DELETE /articles/secret as alice by %s: %d %s, want 403", tc.way, got.status, got.raw)
		}
	}
	// The shared group finder rejects badguy, by token or by Basic.
	bad := mint(t, []byte(testSecret), userClaims("badguy", []string{"admins"}))
	if got := do(t, http.MethodGet, r.base+"/auth", bad, ""); got.status != http.StatusForbidden {
		t.Errorf("GET /auth as badguy by token: %d %s, want 403", got.status, got.raw)
	}
	if got := doBasic(t, http.MethodGet, r.base+"/auth", "badguy", "badguy"); got.status != http.StatusForbidden {
		t.Errorf("GET /auth as badguy by Basic: %d %s, want 403", got.status, got.raw)
	}
	// A token of another secret fails; Basic stays possible.
	other := mint(t, []byte("another-secret-of-more-than-32-bytes!!"), userClaims("alice", []string{"admins"}))
	if got := do(t, http.MethodGet, r.base+"/auth", other, ""); got.status != http.StatusUnauthorized ||
		!reflect.DeepEqual(got.body, obj("error", "invalid_token", "error_description", "invalid signature")) {
		t.Errorf("GET /auth with another secret's token: %d %s", got.status, got.raw)
	}
	// With -demo-users, POST /login gives the demo users tokens of the
	// "api" policy, and the help offers them.
	got := postLogin(t, r.base, `{"username":"alice","password":"alice"}`)
	token, _ := got.body.(map[string]any)["token"].(string)
	if got.status != http.StatusOK || token == "" {
		t.Fatalf("POST /login: %d %s, want 200 and a token", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", "api")) {
		t.Errorf("GET /auth with alice's token from /login: %d %s", got.status, got.raw)
	}
	out := r.stdout.String()
	if !strings.Contains(out, "Demo users") || !strings.Contains(out, "curl -s -X POST "+r.base+"/login") || !strings.Contains(out, "curl -i -u alice:alice "+r.base+"/auth") {
		t.Errorf("stdout, with a stack and -demo-users:\n%s", out)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
}

// TestRunBasicOnly: a stack without a JWT policy makes no tokens: /login
// answers 501 to any request, good credentials or bad, and the help has
// no token lines.
func TestRunBasicOnly(t *testing.T) {
	path := writeINI(t,
		"multiauth.policies = svc",
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.groupfinder = example:groupfinder",
	)
	p := policyFromINI(t, path)
	srv := httptest.NewServer(newApp(p, demoUsers, false, testLogger()))
	defer srv.Close()
	if got := postLogin(t, srv.URL, `{"username":"alice","password":"alice"}`); got.status != http.StatusNotImplemented {
		t.Errorf("POST /login without a JWT policy: %d %s, want 501", got.status, got.raw)
	}
	if got := postLogin(t, srv.URL, `{"username":"alice","password":"wrong"}`); got.status != http.StatusNotImplemented {
		t.Errorf("POST /login, wrong password, without a JWT policy: %d %s, want 501", got.status, got.raw)
	}
	if got := doBasic(t, http.MethodGet, srv.URL+"/auth", "alice", "alice"); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice", "policy", "svc")) {
		t.Errorf("GET /auth with Basic: %d %s", got.status, got.raw)
	}
	// The default realm, and no token challenge.
	if got := do(t, http.MethodGet, srv.URL+"/auth", "", ""); got.status != http.StatusUnauthorized ||
		!reflect.DeepEqual(got.header.Values("WWW-Authenticate"), []string{`Basic realm="Realm", charset="UTF-8"`}) {
		t.Errorf("GET /auth anonymous: %d %q", got.status, got.header.Values("WWW-Authenticate"))
	}

	r := startRun(t, "-config", path, "-addr", "127.0.0.1:0")
	out := r.stdout.String()
	if strings.Contains(out, "TOKEN") || !strings.Contains(out, "curl -i -X DELETE "+r.base+"/articles/secret # 401: nobody can log in without -demo-users") {
		t.Errorf("stdout, with Basic only:\n%s", out)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
}

// TestRunEnvironmentOverride: JWTAUTH_MASTER_SECRET wins over the file's.
func TestRunEnvironmentOverride(t *testing.T) {
	envSecret := "the-environment-secret-which-is-longer-than-32-bytes"
	t.Setenv("JWTAUTH_MASTER_SECRET", envSecret)
	path := writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	)
	r := startRun(t, "-config", path, "-addr", "127.0.0.1:0")

	envToken := mint(t, []byte(envSecret), userClaims("alice", []string{"editors"}))
	if got := do(t, http.MethodGet, r.base+"/auth", envToken, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "alice")) {
		t.Errorf("GET /auth with the environment's secret: %d %s", got.status, got.raw)
	}
	fileToken := mint(t, []byte(testSecret), userClaims("alice", []string{"editors"}))
	if got := do(t, http.MethodGet, r.base+"/auth", fileToken, ""); got.status != http.StatusUnauthorized {
		t.Errorf("GET /auth with the file's secret: %d %s, want 401", got.status, got.raw)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
}

// TestRunEnvironmentBadSetting: a bad JWTAUTH_* variable is a settings
// error too.
func TestRunEnvironmentBadSetting(t *testing.T) {
	t.Setenv("JWTAUTH_LEEWAY", "soon")
	path := writeINI(t, "jwtauth.master_secret = "+testSecret)
	code, _, stderr := runOnce(t, "-config", path, "-addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(stderr, "jwtauth.leeway") {
		t.Errorf("run exited %d; stderr %q", code, stderr)
	}
}

// ---------------------------------------------------------------------------
// 4. debug_authorization

func TestRunDebugAuthorization(t *testing.T) {
	for _, debug := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[debug], func(t *testing.T) {
			lines := []string{
				"jwtauth.master_secret = " + testSecret,
				"jwtauth.find_groups = example:groupfinder",
			}
			if debug {
				lines = append(lines, "jwtauth.debug_authorization = true")
			}
			r := startRun(t, "-config", writeINI(t, lines...), "-addr", "127.0.0.1:0")
			if got := do(t, http.MethodPut, r.base+"/articles/1", "", ""); got.status != http.StatusUnauthorized {
				t.Errorf("PUT /articles/1 anonymous: %d %s", got.status, got.raw)
			}
			if got := do(t, http.MethodGet, r.base+"/articles/1", "", ""); got.status != http.StatusOK {
				t.Errorf("GET /articles/1 anonymous: %d %s", got.status, got.raw)
			}
			if code := r.stop(); code != 0 {
				t.Errorf("run returned %d", code)
			}
			stderr := r.stderr.String()
			for _, want := range []string{"ACLDenied permission 'edit'", "ACLAllowed permission 'view'"} {
				if got := strings.Contains(stderr, want); got != debug {
					t.Errorf("debug %v: %q in stderr is %v:\n%s", debug, want, got, stderr)
				}
			}
		})
	}
}

// TestRunDefaultEnvironment: without -config, the JWTAUTH_* variables still
// override the embedded default (as run does with maps.Copy), so the
// secret can be fixed across restarts; MULTIAUTH_* variables override the
// stack's keys.
func TestRunDefaultEnvironment(t *testing.T) {
	envSecret := "the-environment-secret-which-is-longer-than-32-bytes"
	t.Setenv("JWTAUTH_MASTER_SECRET", envSecret)
	t.Setenv("MULTIAUTH_POLICY_BASIC_REALM", "elsewhere")
	r := startRun(t, "-addr", "127.0.0.1:0")
	token := mint(t, []byte(envSecret), userClaims("bob", nil))
	if got := do(t, http.MethodGet, r.base+"/auth", token, ""); got.status != http.StatusOK || !reflect.DeepEqual(got.body, obj("userid", "bob", "policy", "jwt")) {
		t.Errorf("GET /auth with the environment's secret: %d %s", got.status, got.raw)
	}
	want := map[string]bool{"JWT": true, `Basic realm="elsewhere", charset="UTF-8"`: true}
	if got := do(t, http.MethodGet, r.base+"/auth", "", ""); got.status != http.StatusUnauthorized || !reflect.DeepEqual(challengeSet(got.header), want) {
		t.Errorf("GET /auth anonymous: %d %q, want %v", got.status, got.header.Values("WWW-Authenticate"), want)
	}
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
}

// ---------------------------------------------------------------------------
// 5. The help's curl lines, run

// shellWords splits a line of the help as sh would: single quotes keep
// their text, double quotes expand $NAME from vars, a backslash outside
// quotes escapes the next character. It stops at an unquoted "#" that
// begins a word (the comment, returned) or an unquoted "|" (rest is what
// follows it).
func shellWords(t *testing.T, line string, vars map[string]string) (words []string, comment, rest string) {
	t.Helper()
	var word strings.Builder
	inWord, quote := false, rune(0)
	rs := []rune(line)
	expand := func(i int) int { // rs[i] == '$'; returns the index after the name
		j := i + 1
		for j < len(rs) && (rs[j] == '_' || rs[j] >= 'A' && rs[j] <= 'Z' || rs[j] >= 'a' && rs[j] <= 'z' || j > i+1 && rs[j] >= '0' && rs[j] <= '9') {
			j++
		}
		name := string(rs[i+1 : j])
		v, ok := vars[name]
		if !ok {
			t.Fatalf("the help's line %q uses $%s, which the test does not set", line, name)
		}
		word.WriteString(v)
		return j
	}
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				word.WriteRune(c)
			}
			i++
		case quote == '"':
			switch c {
			case '"':
				quote = 0
				i++
			case '$':
				i = expand(i)
			default:
				word.WriteRune(c)
				i++
			}
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
			i++
		case c == '#' && !inWord:
			return words, strings.TrimSpace(string(rs[i+1:])), ""
		case c == '|':
			if inWord {
				words = append(words, word.String())
			}
			return words, "", strings.TrimSpace(string(rs[i+1:]))
		default:
			inWord = true
			switch c {
			case '\'', '"':
				quote = c
				i++
			case '\\':
				if i+1 < len(rs) {
					word.WriteRune(rs[i+1])
				}
				i += 2
			case '$':
				i = expand(i)
			default:
				word.WriteRune(c)
				i++
			}
		}
	}
	if quote != 0 {
		t.Fatalf("the help's line %q has an unclosed quote", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, "", ""
}

// curl sends the request of a curl command's words (-i, -s, -X, -H, -u, -d
// and one URL, all the help uses) as curl would (-d labels its body
// application/x-www-form-urlencoded) and returns the answer.
func curl(t *testing.T, words []string) response {
	t.Helper()
	if len(words) == 0 || words[0] != "curl" {
		t.Fatalf("not a curl command: %q", words)
	}
	method, url, body := "", "", ""
	var auth []func(*http.Request)
	for i := 1; i < len(words); i++ {
		w := words[i]
		arg := func() string {
			if i+1 >= len(words) {
				t.Fatalf("curl %q: %s without its argument", words, w)
			}
			i++
			return words[i]
		}
		switch {
		case w == "-i" || w == "-s":
		case w == "-X":
			method = arg()
		case w == "-H":
			name, value, ok := strings.Cut(arg(), ":")
			if !ok {
				t.Fatalf("curl %q: a header without a colon", words)
			}
			auth = append(auth, func(r *http.Request) { r.Header.Set(name, strings.TrimSpace(value)) })
		case w == "-u":
			user, password, _ := strings.Cut(arg(), ":")
			auth = append(auth, func(r *http.Request) { r.SetBasicAuth(user, password) })
		case w == "-d":
			body = arg()
			if method == "" {
				method = http.MethodPost
			}
			// As curl does, unless a -H gives another one (the
			// header funcs run after this one).
			auth = slices.Insert(auth, 0, func(r *http.Request) {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			})
		case strings.HasPrefix(w, "http://") && url == "":
			url = w
		default:
			t.Fatalf("curl %q: %q is not an option the test knows", words, w)
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	return doWith(t, method, url, func(r *http.Request) {
		for _, f := range auth {
			f(r)
		}
	}, body)
}

// sedToken runs the help's sed script, s/.*"token":"\([^"]*\)".*/\1/, on
// the body of /login's answer.
func sedToken(t *testing.T, rest, body string) string {
	t.Helper()
	words, _, _ := shellWords(t, rest, nil)
	if len(words) != 2 || words[0] != "sed" {
		t.Fatalf("the token line pipes into %q, want sed and a script", rest)
	}
	script, ok := strings.CutPrefix(words[1], "s/")
	re, repl, ok2 := strings.Cut(strings.TrimSuffix(script, "/"), "/")
	if !ok || !ok2 || !strings.HasSuffix(script, "/") {
		t.Fatalf("sed script %q, want s/RE/REPL/", words[1])
	}
	// A basic regular expression's \( \) are a group.
	re = strings.NewReplacer(`\(`, "(", `\)`, ")").Replace(re)
	repl = strings.ReplaceAll(repl, `\1`, "${1}")
	return regexp.MustCompile(re).ReplaceAllString(strings.TrimSuffix(body, "\n"), repl)
}

// statusOf is the status a help line's comment promises ("401 and the
// challenges", "200 for an admin only"); 200 for a line without one.
func statusOf(comment string) int {
	if len(comment) >= 3 {
		if n, err := strconv.Atoi(comment[:3]); err == nil {
			return n
		}
	}
	return http.StatusOK
}

// checkHelp runs each command line of the help of r: a TOKEN=$(curl ...
// /login ...) line sets TOKEN to what its sed prints, for alice; a line
// that promises a 200 for an admin only is run with admin's token; every
// other line with alice's (the token made elsewhere, when the help has no
// token line). Each must answer the status its comment promises. It
// returns the command lines, their comments cut off and their spaces
// squeezed, with the base URL written BASE.
func checkHelp(t *testing.T, r *running, alice, admin string) []string {
	t.Helper()
	var cmds []string
	vars := map[string]string{"TOKEN": alice}
	for _, line := range strings.Split(r.stdout.String(), "\n") {
		line = strings.TrimSpace(line)
		if inner, ok := strings.CutPrefix(line, "TOKEN=$("); ok {
			words, _, rest := shellWords(t, inner, vars)
			got := curl(t, words)
			if got.status != http.StatusOK {
				t.Fatalf("the help's token line answers %d %s", got.status, got.raw)
			}
			vars["TOKEN"] = sedToken(t, strings.TrimSuffix(rest, ")"), got.raw)
			if vars["TOKEN"] == "" || strings.ContainsAny(vars["TOKEN"], `{}"\ `) {
				t.Fatalf("the help's token line sets TOKEN to %q", vars["TOKEN"])
			}
			cmds = append(cmds, strings.Join(strings.Fields(strings.ReplaceAll(line, r.base, "BASE")), " "))
			continue
		}
		if !strings.HasPrefix(line, "curl ") {
			continue
		}
		lineVars := vars
		cmd, comment, _ := strings.Cut(line, " # ")
		if strings.Contains(comment, "admin only") && vars["TOKEN"] != "" {
			lineVars = map[string]string{"TOKEN": admin}
		}
		words, _, _ := shellWords(t, line, lineVars)
		want := statusOf(comment)
		if got := curl(t, words); got.status != want {
			t.Errorf("the help's line %q answers %d, want %d; %s", line, got.status, want, got.raw)
		}
		cmds = append(cmds, strings.Join(strings.Fields(strings.ReplaceAll(cmd, r.base, "BASE")), " "))
	}
	return cmds
}

// TestRunHelpByMode runs the program in each mode of -config and
// -demo-users, asks POST /login for alice's token, and runs every command
// line of the help: each answers as its comment says, and they are
// exactly the lines of the mode.
func TestRunHelpByMode(t *testing.T) {
	ecKey := testkit.MustEC(elliptic.P256())
	pubPath := filepath.Join(t.TempDir(), "public.pem")
	if err := os.WriteFile(pubPath, testkit.PublicPEM(t, &ecKey.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	ecSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ecKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secretToken := func(sub, group string) string {
		return mint(t, []byte(testSecret), userClaims(sub, []string{group}))
	}
	ecToken := func(sub, group string) string {
		return testkit.MintSigned(t, ecSigner, userClaims(sub, []string{group}))
	}
	jwtOnly := []string{"jwtauth.master_secret = " + testSecret, "jwtauth.find_groups = example:groupfinder"}
	publicOnly := []string{"jwtauth.algorithm = ES256", "jwtauth.public_key_file = " + pubPath, "jwtauth.find_groups = example:groupfinder"}
	stack := []string{
		"multiauth.policies = api svc",
		"multiauth.policy.api.use = jwt",
		"multiauth.policy.api.master_secret = " + testSecret,
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.groupfinder = example:groupfinder",
	}
	cookieStack := []string{
		"multiauth.policies = api web svc",
		"multiauth.policy.api.use = jwt",
		"multiauth.policy.web.use = jwt_cookie",
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.groupfinder = example:groupfinder",
		"jwtauth.master_secret = " + testSecret,
	}
	const (
		pageLine     = "The page: open BASE/ in a browser, sign in there as a demo user and try the routes."
		noCookieLine = "The page: BASE/ in a browser tries the routes; its sign-in form answers 501, as no policy of this configuration sets a cookie (jwt_cookie)."
	)
	basicOnly := []string{
		"multiauth.policies = svc",
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.groupfinder = example:groupfinder",
	}
	tokenLines := []string{
		`curl -i -H "Authorization: JWT token=$TOKEN" BASE/auth`,
		`curl -i -H "Authorization: JWT token=$TOKEN" BASE/groups`,
		`curl -i -H "Authorization: JWT token=$TOKEN.broken" BASE/auth`,
	}
	basicLines := []string{
		"curl -i -u alice:alice BASE/auth",
		"curl -i -u alice:alice BASE/groups",
	}
	tokenArticles := []string{
		"curl -i BASE/articles/1",
		`curl -i -X PUT -H "Authorization: JWT token=$TOKEN" BASE/articles/1`,
		`curl -i -X DELETE -H "Authorization: JWT token=$TOKEN" BASE/articles/secret`,
	}
	loginLine := `TOKEN=$(curl -s -X POST BASE/login -d '{"username":"alice","password":"alice"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')`
	head := []string{"curl -i BASE/public", "curl -i BASE/auth"}
	lines := func(parts ...[]string) []string { return slices.Concat(parts...) }

	for _, tc := range []struct {
		name  string
		args  []string // besides -addr; nil for the embedded default
		ini   []string
		login int // POST /login's answer to alice
		// tokens makes alice's and admin's tokens elsewhere; nil when
		// /login makes them or there is no JWT policy.
		tokens func(sub, group string) string
		want   []string // the help's command lines
		say    []string // in the help
		notSay []string // not in the help
	}{
		{
			name: "embedded default", login: http.StatusOK,
			want: lines([]string{loginLine}, head, tokenLines, basicLines, tokenArticles),
			say:  []string{"Demo users", pageLine, "Secure unless cookie_secure = false: browsers treat http://127.0.0.1 and\nhttp://localhost as secure contexts"},
		},
		{
			name: "cookie stack, -demo-users", args: []string{"-demo-users"}, ini: cookieStack, login: http.StatusOK,
			want: lines([]string{loginLine}, head, tokenLines, basicLines, tokenArticles),
			say:  []string{"Demo users", pageLine},
		},
		{
			name: "cookie stack", ini: cookieStack, login: http.StatusUnauthorized, tokens: secretToken,
			want:   lines(head, tokenLines, tokenArticles),
			say:    []string{"The page: BASE/ in a browser tries the routes; its sign-in form knows no users without -demo-users."},
			notSay: []string{"Demo users", pageLine},
		},
		{
			name: "secret, -demo-users", args: []string{"-demo-users"}, ini: jwtOnly, login: http.StatusOK,
			want:   lines([]string{loginLine}, head, tokenLines, tokenArticles),
			say:    []string{"Demo users", noCookieLine},
			notSay: []string{pageLine},
		},
		{
			name: "secret", ini: jwtOnly, login: http.StatusUnauthorized, tokens: secretToken,
			want:   lines(head, tokenLines, tokenArticles),
			say:    []string{"POST /login knows no users without -demo-users", "a token made elsewhere, signed with this configuration's key", `"Authorization: JWT token=$TOKEN"`},
			notSay: []string{"Demo users", "BASE/login"},
		},
		{
			name: "public key", ini: publicOnly, login: http.StatusNotImplemented, tokens: ecToken,
			want:   lines(head, tokenLines, tokenArticles),
			say:    []string{"This configuration cannot sign", "POST /login answers 501, tokens come from elsewhere"},
			notSay: []string{"Demo users", "BASE/login"},
		},
		{
			name: "public key, -demo-users", args: []string{"-demo-users"}, ini: publicOnly, login: http.StatusNotImplemented, tokens: ecToken,
			want:   lines(head, tokenLines, tokenArticles),
			say:    []string{"This configuration cannot sign", "POST /login answers 501, tokens come from elsewhere"},
			notSay: []string{"Demo users", "BASE/login"},
		},
		{
			name: "stack", ini: stack, login: http.StatusUnauthorized, tokens: secretToken,
			want:   lines(head, tokenLines, tokenArticles),
			say:    []string{"POST /login knows no users without -demo-users", "Basic: the check example:basiccheck knows no users without -demo-users"},
			notSay: []string{"Demo users", "BASE/login", "-u "},
		},
		{
			name: "stack, -demo-users", args: []string{"-demo-users"}, ini: stack, login: http.StatusOK,
			want: lines([]string{loginLine}, head, tokenLines, basicLines, tokenArticles),
			say:  []string{"Demo users"},
		},
		{
			name: "Basic only", ini: basicOnly, login: http.StatusNotImplemented,
			want:   lines(head, []string{"curl -i BASE/articles/1", "curl -i -X PUT BASE/articles/1", "curl -i -X DELETE BASE/articles/secret"}),
			say:    []string{"Basic: the check example:basiccheck knows no users without -demo-users", "401: nobody can log in without -demo-users"},
			notSay: []string{"Demo users", "TOKEN", "-u "},
		},
		{
			name: "Basic only, -demo-users", args: []string{"-demo-users"}, ini: basicOnly, login: http.StatusNotImplemented,
			want:   lines(head, basicLines, []string{"curl -i BASE/articles/1", "curl -i -X PUT -u alice:alice BASE/articles/1", "curl -i -X DELETE -u admin:admin BASE/articles/secret"}),
			say:    []string{"Demo users"},
			notSay: []string{"TOKEN"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Concat(tc.args, []string{"-addr", "127.0.0.1:0"})
			if tc.ini != nil {
				args = append(args, "-config", writeINI(t, tc.ini...))
			}
			r := startRun(t, args...)

			got := postLogin(t, r.base, `{"username":"alice","password":"alice"}`)
			if got.status != tc.login {
				t.Fatalf("POST /login as alice: %d %s, want %d", got.status, got.raw, tc.login)
			}
			var alice, admin string
			switch {
			case tc.login == http.StatusOK:
				// alice's token from /login is the one the help's token
				// line sets; admin's, for the DELETE line.
				alice, _ = got.body.(map[string]any)["token"].(string)
				if got := do(t, http.MethodGet, r.base+"/auth", alice, ""); got.status != http.StatusOK || got.body.(map[string]any)["userid"] != "alice" {
					t.Errorf("GET /auth with alice's token from /login: %d %s", got.status, got.raw)
				}
				got := postLogin(t, r.base, `{"username":"admin","password":"admin"}`)
				admin, _ = got.body.(map[string]any)["token"].(string)
			case tc.tokens != nil:
				alice, admin = tc.tokens("alice", "editors"), tc.tokens("admin", "admins")
			}
			if got := checkHelp(t, r, alice, admin); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("the help's command lines:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			out := strings.ReplaceAll(r.stdout.String(), r.base, "BASE")
			for _, s := range tc.say {
				if !strings.Contains(out, s) {
					t.Errorf("the help lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.notSay {
				if strings.Contains(out, s) {
					t.Errorf("the help has %q:\n%s", s, out)
				}
			}
			if strings.Contains(out, testSecret) {
				t.Error("the help shows the secret")
			}
			if code := r.stop(); code != 0 {
				t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
			}
			if strings.Contains(r.stderr.String(), testSecret) {
				t.Error("the log shows the secret")
			}
		})
	}
}

// TestRunScopes: with jwtauth.scope_principals = true, the root ACL grants
// view to the scope articles:read and edit to articles:write; a refused
// edit's 403 names the scope that would grant it. Without the setting a
// scope grants nothing.
func TestRunScopes(t *testing.T) {
	claims := func(scope string) map[string]any {
		c := userClaims("client-1", nil)
		c["scope"] = scope
		return c
	}
	writer := mint(t, []byte(testSecret), claims("articles:read articles:write"))
	reader := mint(t, []byte(testSecret), claims("articles:read"))

	r := startRun(t, "-config", writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
		"jwtauth.scope_principals = true",
	), "-addr", "127.0.0.1:0")
	if got := do(t, http.MethodGet, r.base+"/groups", writer, ""); got.status != http.StatusOK ||
		!reflect.DeepEqual(got.body, obj("principals", strs("client-1", policy.Everyone, policy.Authenticated, "scope:articles:read", "scope:articles:write"))) {
		t.Errorf("GET /groups: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodPut, r.base+"/articles/1", writer, ""); got.status != http.StatusOK {
		t.Errorf("PUT with articles:write: %d %s", got.status, got.raw)
	}
	got := do(t, http.MethodPut, r.base+"/articles/1", reader, "")
	if want := `JWT error="insufficient_scope", scope="articles:write"`; got.status != http.StatusForbidden || got.header.Get("WWW-Authenticate") != want {
		t.Errorf("PUT with articles:read: %d %q; want 403 %q", got.status, got.header.Get("WWW-Authenticate"), want)
	}
	if got := do(t, http.MethodDelete, r.base+"/articles/1", writer, ""); got.status != http.StatusForbidden {
		t.Errorf("DELETE with articles:write: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/articles/secret", writer, ""); got.status != http.StatusForbidden {
		t.Errorf("GET the secret article with scopes: %d %s", got.status, got.raw)
	}

	off := startRun(t, "-config", writeINI(t,
		"jwtauth.master_secret = "+testSecret,
		"jwtauth.find_groups = example:groupfinder",
	), "-addr", "127.0.0.1:0")
	if got := do(t, http.MethodPut, off.base+"/articles/1", writer, ""); got.status != http.StatusForbidden {
		t.Errorf("PUT with articles:write, scopes not principals: %d %s", got.status, got.raw)
	}
}
