package basic_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

// quiet is a logger for the tests that do not read the log.
var quiet = slog.New(slog.DiscardHandler)

// b64 is the standard, padded base64 of s.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// nonCanonical is b64(s), of a length not a multiple of 3, with a padding
// bit of its last character set: the lenient decoder reads it as s.
func nonCanonical(s string) string {
	enc := []byte(b64(s))
	i := len(enc) - 1
	for enc[i] == '=' {
		i--
	}
	enc[i]++ // 'A'..'Y', 'a'..'y', '0'..'8' stay in the alphabet
	if got, err := base64.StdEncoding.DecodeString(string(enc)); err != nil || string(got) != s {
		panic("nonCanonical: " + string(enc))
	}
	return string(enc)
}

// TestIdentify: each Authorization header (or none, or two) gives the
// outcome, reason, authenticated and claimed userid and principals that
// the package doc lists, through every method of the policy.
func TestIdentify(t *testing.T) {
	everyone := []string{policy.Everyone}
	tests := []struct {
		name       string
		headers    []string
		want       string // ok, no credentials, invalid, rejected
		reason     error  // for invalid
		userid     string
		claimed    string
		hasClaim   bool
		principals []string
	}{
		{"good credentials", []string{basicHeader("alice", "alice-secret")}, "ok", nil, "alice", "alice", true,
			[]string{"alice", policy.Everyone, policy.Authenticated, "group:editors"}},
		{"two groups, in order", []string{basicHeader("admin", "admin-secret")}, "ok", nil, "admin", "admin", true,
			[]string{"admin", policy.Everyone, policy.Authenticated, "group:admins", "group:editors"}},
		{"a user without groups", []string{basicHeader("bob", "bob-secret")}, "ok", nil, "bob", "bob", true,
			[]string{"bob", policy.Everyone, policy.Authenticated}},
		{"scheme in lower case", []string{"basic " + b64("bob:bob-secret")}, "ok", nil, "bob", "bob", true,
			[]string{"bob", policy.Everyone, policy.Authenticated}},
		{"scheme in upper case, two spaces", []string{"BASIC  " + b64("bob:bob-secret")}, "ok", nil, "bob", "bob", true,
			[]string{"bob", policy.Everyone, policy.Authenticated}},
		{"colons in the password", []string{basicHeader("carol", "with:colons:in:it")}, "ok", nil, "carol", "carol", true,
			[]string{"carol", policy.Everyone, policy.Authenticated}},
		{"UTF-8 username and password", []string{basicHeader("émile", "pässwörd")}, "ok", nil, "émile", "émile", true,
			[]string{"émile", policy.Everyone, policy.Authenticated, "group:editors"}},

		{"wrong password", []string{basicHeader("alice", "wrong")}, "invalid", basic.ErrBadPassword, "", "alice", true, everyone},
		{"empty password", []string{basicHeader("alice", "")}, "invalid", basic.ErrBadPassword, "", "alice", true, everyone},
		{"another user's password", []string{basicHeader("alice", "admin-secret")}, "invalid", basic.ErrBadPassword, "", "alice", true, everyone},
		{"unknown user", []string{basicHeader("mallory", "alice-secret")}, "invalid", basic.ErrBadPassword, "", "mallory", true, everyone},
		{"empty username", []string{basicHeader("", "alice-secret")}, "invalid", basic.ErrBadPassword, "", "", true, everyone},
		{"a colon moved into the password", []string{"Basic " + b64("ali:ce:alice-secret")}, "invalid", basic.ErrBadPassword, "", "ali", true, everyone},
		{"case of the username", []string{basicHeader("Alice", "alice-secret")}, "invalid", basic.ErrBadPassword, "", "Alice", true, everyone},

		{"reserved system prefix", []string{basicHeader("system.admin", "system-secret")}, "rejected", nil, "", "system.admin", true, everyone},
		{"Everyone", []string{basicHeader(policy.Everyone, "x")}, "rejected", nil, "", policy.Everyone, true, everyone},
		{"Authenticated", []string{basicHeader(policy.Authenticated, "")}, "rejected", nil, "", policy.Authenticated, true, everyone},
		// A username holds no colon: "group:admins" is the user "group",
		// and no Basic username can be a group, role or scope.
		{"a group name", []string{basicHeader("group:admins", "group-secret")}, "invalid", basic.ErrBadPassword, "", "group", true, everyone},
		{"a role name", []string{basicHeader("role:x", "x")}, "invalid", basic.ErrBadPassword, "", "role", true, everyone},

		{"no header", nil, "no credentials", nil, "", "", false, everyone},
		{"a JWT header", []string{"JWT token=eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}, "no credentials", nil, "", "", false, everyone},
		{"a Bearer header", []string{"Bearer abc"}, "no credentials", nil, "", "", false, everyone},
		{"a scheme that starts with Basic", []string{"Basically " + b64("alice:alice-secret")}, "no credentials", nil, "", "", false, everyone},
		{"a Unicode look-alike of the scheme", []string{"Baſic " + b64("alice:alice-secret")}, "no credentials", nil, "", "", false, everyone},
		{"an empty header", []string{""}, "no credentials", nil, "", "", false, everyone},

		{"the scheme alone", []string{"Basic"}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"the scheme and spaces", []string{"Basic   "}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"not base64", []string{"Basic alice:alice-secret"}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"base64url", []string{"Basic " + base64.URLEncoding.EncodeToString([]byte("bob:>>>?"))}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"unpadded", []string{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("bob:bob-secret"))}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"non-canonical padding bits", []string{"Basic " + nonCanonical("bob:bob-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"too much padding", []string{"Basic " + b64("bob:bob-secret") + "=="}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"trailing data", []string{"Basic " + b64("bob:bob-secret") + " x"}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"two tokens", []string{"Basic " + b64("bob:bob-secret") + b64("bob:bob-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"an auth-param", []string{"Basic token=" + b64("bob:bob-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"a line break inside", []string{"Basic " + b64("bob:bob-secret")[:4] + "\r\n" + b64("bob:bob-secret")[4:]}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"no colon", []string{"Basic " + b64("alice")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"nothing decoded", []string{"Basic ===="}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"NUL in the username", []string{"Basic " + b64("ali\x00ce:alice-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"tab in the password", []string{"Basic " + b64("alice:alice\tsecret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"DEL in the password", []string{"Basic " + b64("alice:alice-secret\x7f")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"C1 control in the username", []string{"Basic " + b64("ali\u0085ce:alice-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"CR LF in the password", []string{"Basic " + b64("alice:alice-secret\r\nX-Admin: 1")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"Latin-1 username", []string{"Basic " + b64("\xe9mile:p\xe4ssw\xf6rd")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"a lone surrogate", []string{"Basic " + b64("\xed\xa0\x80:x")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"a huge header", []string{"Basic " + b64("alice:"+strings.Repeat("a", basic.MaxHeaderBytes))}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"two headers, both Basic", []string{basicHeader("alice", "alice-secret"), basicHeader("admin", "admin-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"two headers, one Basic", []string{"JWT token=abc", basicHeader("alice", "alice-secret")}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"two headers, one Basic and empty", []string{basicHeader("alice", "alice-secret"), ""}, "invalid", policy.ErrMalformedHeader, "", "", false, everyone},
		{"two headers, neither Basic", []string{"JWT token=abc", "Bearer abc"}, "no credentials", nil, "", "", false, everyone},
	}
	p, _ := newPolicy(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := requestWith(tt.headers...)
			userid, err := p.AuthenticatedUserID(r)
			if got := outcome(t, err); got != tt.want {
				t.Fatalf("AuthenticatedUserID: %q (%v), want %s", userid, err, tt.want)
			}
			if tt.reason != nil && !errors.Is(err, tt.reason) {
				t.Errorf("error %q, want the reason %q", err, tt.reason)
			}
			if userid != tt.userid {
				t.Errorf("userid %q, want %q", userid, tt.userid)
			}
			if claimed, ok := p.UnauthenticatedUserID(r); claimed != tt.claimed || ok != tt.hasClaim {
				t.Errorf("UnauthenticatedUserID: %q %v, want %q %v", claimed, ok, tt.claimed, tt.hasClaim)
			}
			principals, perr := p.EffectivePrincipals(r)
			if !slices.Equal(principals, tt.principals) {
				t.Errorf("principals %q, want %q", principals, tt.principals)
			}
			if (perr != nil) != (tt.want == "invalid") || (perr != nil && perr.Error() != err.Error()) {
				t.Errorf("EffectivePrincipals' error %v, want one only for invalid credentials", perr)
			}
			id := p.Identify(r)
			if id.UserID != tt.userid || id.Policy != "" || id.Claims() != nil || (id.Err == nil) != (err == nil) {
				t.Errorf("Identify: %+v", id)
			}
		})
	}
}

// TestHTTP serves real requests, made with http.Client's SetBasicAuth
// and with raw headers, through policy.Authenticate: the handler sees
// the user, and the challenge is 401 with the Basic realm, or 400 for a
// header that cannot be read.
func TestHTTP(t *testing.T) {
	p, _ := newPolicy(t)
	srv := httptest.NewServer(policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userid, ok := policy.UserIDFrom(r.Context())
		if !ok {
			p.Challenge(w, r)
			return
		}
		io.WriteString(w, userid+" "+strings.Join(policy.PrincipalsFrom(r.Context()), ","))
	})))
	defer srv.Close()

	tests := []struct {
		name       string
		set        func(r *http.Request)
		wantStatus int
		wantBody   string // the handler's, or the JSON error's
	}{
		{"good credentials", func(r *http.Request) { r.SetBasicAuth("alice", "alice-secret") }, 200,
			"alice alice,system.Everyone,system.Authenticated,group:editors"},
		{"UTF-8 credentials", func(r *http.Request) { r.SetBasicAuth("émile", "pässwörd") }, 200,
			"émile émile,system.Everyone,system.Authenticated,group:editors"},
		{"colons in the password", func(r *http.Request) { r.SetBasicAuth("carol", "with:colons:in:it") }, 200,
			"carol carol,system.Everyone,system.Authenticated"},
		{"no credentials", func(r *http.Request) {}, 401, `{"error":"unauthorized"}`},
		{"JWT credentials", func(r *http.Request) { r.Header.Set("Authorization", "JWT token=abc") }, 401, `{"error":"unauthorized"}`},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("alice", "nope") }, 401,
			`{"error":"unauthorized","error_description":"invalid username or password"}`},
		{"unknown user", func(r *http.Request) { r.SetBasicAuth("mallory", "alice-secret") }, 401,
			`{"error":"unauthorized","error_description":"invalid username or password"}`},
		{"reserved prefix", func(r *http.Request) { r.SetBasicAuth("system.admin", "system-secret") }, 401, `{"error":"unauthorized"}`},
		{"malformed base64", func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!!") }, 400,
			`{"error":"invalid_request","error_description":"malformed Authorization header"}`},
		{"missing colon", func(r *http.Request) { r.Header.Set("Authorization", "Basic "+b64("alice")) }, 400,
			`{"error":"invalid_request","error_description":"malformed Authorization header"}`},
		{"control character", func(r *http.Request) { r.SetBasicAuth("alice", "alice-secret\x01") }, 400,
			`{"error":"invalid_request","error_description":"malformed Authorization header"}`},
		{"huge header", func(r *http.Request) { r.SetBasicAuth("alice", strings.Repeat("x", 8000)) }, 400,
			`{"error":"invalid_request","error_description":"malformed Authorization header"}`},
		{"two headers", func(r *http.Request) {
			r.SetBasicAuth("alice", "alice-secret")
			r.Header.Add("Authorization", "JWT token=abc")
		}, 400, `{"error":"invalid_request","error_description":"malformed Authorization header"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.set(req)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || strings.TrimSpace(string(body)) != tt.wantBody {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			wantChallenge := []string(nil)
			if tt.wantStatus != 200 {
				wantChallenge = []string{challenge}
				if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
					t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
				}
			}
			if got := resp.Header.Values("Www-Authenticate"); !slices.Equal(got, wantChallenge) {
				t.Errorf("WWW-Authenticate %q, want %q", got, wantChallenge)
			}
		})
	}
}

// TestCheckOncePerRequest: under policy.Authenticate the check is called
// once per request, however many questions the handlers ask, and again
// for each new request.
func TestCheckOncePerRequest(t *testing.T) {
	var calls atomic.Int64
	check := basic.Passwords(testPasswords, testGroups)
	p, err := basic.New(basic.Config{Logger: quiet, Check: func(u, pw string, r *http.Request) ([]string, bool) {
		calls.Add(1)
		return check(u, pw, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(policy.Authenticate(p)(policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			p.AuthenticatedUserID(r)
			p.UnauthenticatedUserID(r)
			p.EffectivePrincipals(r)
			policy.IdentityFrom(r.Context())
			policy.IdentityOf(r.WithContext(r.Context()), p)
		}
		if _, err := p.AuthenticatedUserID(r); err != nil {
			p.Challenge(w, r)
		}
	}))))
	defer srv.Close()
	for i, creds := range [][2]string{{"alice", "alice-secret"}, {"alice", "wrong"}, {"bob", "bob-secret"}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.SetBasicAuth(creds[0], creds[1])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := calls.Load(); got != int64(i+1) {
			t.Fatalf("after %d requests the check was called %d times", i+1, got)
		}
	}
	// Nor is it called without Basic credentials, or for a reserved name.
	for _, h := range []string{"", "JWT token=abc", "Basic !!", basicHeader("system.admin", "system-secret")} {
		p.Identify(requestWith(h))
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("the check was called %d times, want 3", got)
	}
}

// TestCheckSeesTheRequest: the check gets the username, the password and
// the request as they came; an empty username is a username, and a check
// may accept it.
func TestCheckSeesTheRequest(t *testing.T) {
	type call struct{ user, pass, path string }
	var got []call
	p, err := basic.New(basic.Config{Check: func(u, pw string, r *http.Request) ([]string, bool) {
		got = append(got, call{u, pw, r.URL.Path})
		return []string{"group:anonymous-ish"}, u == ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/some/path", nil)
	r.Header.Set("Authorization", basicHeader("", "a:b: c "))
	id := p.Identify(r)
	if id.Err != nil || id.UserID != "" || !id.HasClaim || !slices.Equal(id.Principals, []string{"", policy.Everyone, policy.Authenticated, "group:anonymous-ish"}) {
		t.Errorf("%+v", id)
	}
	if want := []call{{"", "a:b: c ", "/some/path"}}; !slices.Equal(got, want) {
		t.Errorf("check called with %q, want %q", got, want)
	}
}

// TestRememberForgetChallenge: Remember sets nothing; Forget is the
// challenge, with the realm quoted and charset="UTF-8"; a Challenge
// without credentials is 401 {"error":"unauthorized"}.
func TestRememberForgetChallenge(t *testing.T) {
	p, _ := newPolicy(t)
	r := requestWith()
	if h := p.Remember(r, "alice"); len(h) != 0 {
		t.Errorf("Remember: %v", h)
	}
	if h := p.Forget(r); len(h) != 1 || !slices.Equal(h.Values("WWW-Authenticate"), []string{challenge}) {
		t.Errorf("Forget: %v", h)
	}
	w := httptest.NewRecorder()
	p.Challenge(w, r)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 401 || len(body) != 1 || body["error"] != "unauthorized" {
		t.Errorf("Challenge: %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != challenge {
		t.Errorf("Challenge's WWW-Authenticate %q", got)
	}
}

// TestConfig: the defaults, and each setting New refuses, named.
func TestConfig(t *testing.T) {
	check := basic.Passwords(nil, nil)
	p, err := basic.New(basic.Config{Check: check})
	if err != nil {
		t.Fatal(err)
	}
	if p.Realm() != basic.DefaultRealm || basic.DefaultRealm != "Realm" {
		t.Errorf("default realm %q", p.Realm())
	}
	if got := p.Forget(nil).Get("WWW-Authenticate"); got != `Basic realm="Realm", charset="UTF-8"` {
		t.Errorf("default challenge %q", got)
	}
	for _, tt := range []struct {
		name string
		cfg  basic.Config
		key  string
	}{
		{"no check", basic.Config{}, "check"},
		{"a quote in the realm", basic.Config{Check: check, Realm: `a"b`}, "realm"},
		{"a backslash in the realm", basic.Config{Check: check, Realm: `a\b`}, "realm"},
		{"a line break in the realm", basic.Config{Check: check, Realm: "a\r\nSet-Cookie: x"}, "realm"},
		{"a control in the realm", basic.Config{Check: check, Realm: "a\x00"}, "realm"},
		{"non-ASCII in the realm", basic.Config{Check: check, Realm: "réalm"}, "realm"},
		{"an empty reserved prefix", basic.Config{Check: check, ReservedPrincipalPrefixes: []string{"group:", ""}}, "reserved_principal_prefixes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := basic.New(tt.cfg)
			var ce *policy.ConfigError
			if p != nil || !errors.As(err, &ce) || ce.Key != tt.key || !errors.Is(err, policy.ErrConfig) {
				t.Fatalf("New: %v %v, want a ConfigError for %q", p, err, tt.key)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("%q does not name %q", err, tt.key)
			}
		})
	}
}

// TestReservedPrefixes: the prefixes are configurable as the JWT
// policy's: nil is the default, an empty list reserves system. alone, and
// system. is always reserved. The default's group:, role: and scope: end
// in a colon, which no username holds: a username that reads like one is
// the name before the colon.
func TestReservedPrefixes(t *testing.T) {
	accept := func(string, string, *http.Request) ([]string, bool) { return nil, true }
	for _, tt := range []struct {
		prefixes []string
		rejected []string
		accepted []string
	}{
		{nil, []string{"system.x", "system.", policy.Everyone}, []string{"System.x", "systemx", "team.x", "group", "role"}},
		{[]string{}, []string{"system.x"}, []string{"team.x", "group"}},
		{[]string{"team.", "ops-"}, []string{"system.x", "team.x", "ops-x"}, []string{"team", "ops", "group"}},
	} {
		p, err := basic.New(basic.Config{Check: accept, ReservedPrincipalPrefixes: tt.prefixes, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range tt.rejected {
			if _, err := p.AuthenticatedUserID(requestWith(basicHeader(u, "pw"))); !errors.Is(err, policy.ErrUserRejected) {
				t.Errorf("prefixes %q: %q gave %v, want a user rejected", tt.prefixes, u, err)
			}
		}
		for _, u := range tt.accepted {
			if got, err := p.AuthenticatedUserID(requestWith(basicHeader(u, "pw"))); err != nil || got != u {
				t.Errorf("prefixes %q: %q gave %q %v, want it accepted", tt.prefixes, u, got, err)
			}
		}
		for _, u := range []string{"group:admins", "role:x", "scope:x"} {
			if got, err := p.AuthenticatedUserID(requestWith(basicHeader(u, "pw"))); err != nil || got != strings.TrimSuffix(u, u[strings.IndexByte(u, ':'):]) {
				t.Errorf("prefixes %q: %q gave %q %v, want the name before the colon", tt.prefixes, u, got, err)
			}
		}
	}
}

// TestLogHoldsNoSecret: failures are logged with their reason and the
// client's address, and the log never holds a password, a username or a
// header.
func TestLogHoldsNoSecret(t *testing.T) {
	p, logs := newPolicy(t)
	secrets := []string{"alice-secret", "Sup3rSecretPassw0rd", "system-secret", "s3cr3t\x01", "mallory", "alice", "admin"}
	headers := []string{
		basicHeader("alice", "alice-secret"),
		basicHeader("alice", "Sup3rSecretPassw0rd"),
		basicHeader("mallory", "Sup3rSecretPassw0rd"),
		basicHeader("system.admin", "system-secret"),
		basicHeader("alice", "s3cr3t\x01"),
		"Basic " + b64("alice:Sup3rSecretPassw0rd") + "!",
		"Basic " + b64("aliceSup3rSecretPassw0rd"),
		"Basic " + b64("alice:"+strings.Repeat("Sup3rSecretPassw0rd", 300)),
	}
	for _, h := range headers {
		r := requestWith(h)
		r.RemoteAddr = "192.0.2.7:4242"
		p.Identify(r)
		secrets = append(secrets, strings.TrimPrefix(h, "Basic "))
	}
	// One pair of headers, one of them Basic.
	p.Identify(requestWith(basicHeader("alice", "Sup3rSecretPassw0rd"), "JWT token=abc"))
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"reason=\"invalid username or password\"", "reason=\"malformed Authorization header\"",
		"remote=192.0.2.7:4242", "prefix=system.", "cause=\"more than one Authorization header\""} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	// Every header but the first fails, and so does the pair.
	if n := strings.Count(out, "\n"); n != len(headers) {
		t.Errorf("%d lines logged for %d failures:\n%s", n, len(headers), out)
	}
}

// TestPasswords: the static check accepts each user's own password only,
// gives copies of its groups, and is not changed by later changes to its
// maps.
func TestPasswords(t *testing.T) {
	passwords := map[string]string{"alice": "pw", "empty": ""}
	groups := map[string][]string{"alice": {"group:a", "group:b"}, "ghost": {"group:ghosts"}}
	check := basic.Passwords(passwords, groups)
	passwords["alice"], passwords["mallory"] = "changed", "x"
	groups["alice"][0] = "group:changed"
	for _, tt := range []struct {
		user, pass string
		ok         bool
	}{
		{"alice", "pw", true}, {"alice", "changed", false}, {"alice", "pw ", false}, {"alice", "", false},
		{"empty", "", true}, {"empty", "x", false}, {"mallory", "x", false}, {"ghost", "", false}, {"", "", false},
	} {
		if _, ok := check(tt.user, tt.pass, nil); ok != tt.ok {
			t.Errorf("check(%q, %q): %v", tt.user, tt.pass, ok)
		}
	}
	g, _ := check("alice", "pw", nil)
	if !slices.Equal(g, []string{"group:a", "group:b"}) {
		t.Errorf("groups %q", g)
	}
	g[0] = "mine"
	if g, _ := check("alice", "pw", nil); g[0] != "group:a" {
		t.Errorf("the caller changed the check's groups: %q", g)
	}
	if g, ok := check("empty", "", nil); !ok || g != nil {
		t.Errorf("a user without groups: %q %v", g, ok)
	}
}

// TestConstantTimeEqual compares strings of equal and unequal lengths.
func TestConstantTimeEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"", "", true}, {"a", "a", true}, {"secret", "secret", true},
		{"a", "", false}, {"", "a", false}, {"secret", "secreT", false}, {"secret", "secret\x00", false},
	} {
		if got := basic.ConstantTimeEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("ConstantTimeEqual(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
