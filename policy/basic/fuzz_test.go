package basic_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

// The only texts an error of the policy may have: fixed, none of them
// holding anything the client sent.
var errorTexts = []string{
	policy.ErrNoCredentials.Error(),
	policy.ErrUserRejected.Error(),
	"jwtauth: invalid credentials: invalid username or password",
	"jwtauth: invalid credentials: malformed Authorization header: more than one Authorization header",
	"jwtauth: invalid credentials: malformed Authorization header: Authorization header too large",
	"jwtauth: invalid credentials: malformed Authorization header: no credentials after the scheme",
	"jwtauth: invalid credentials: malformed Authorization header: credentials are not canonical padded base64",
	"jwtauth: invalid credentials: malformed Authorization header: decoded credentials hold no colon",
	"jwtauth: invalid credentials: malformed Authorization header: username or password is not valid UTF-8",
	"jwtauth: invalid credentials: malformed Authorization header: username or password holds a control character",
}

// attrRecorder is a slog handler that keeps the value of every attribute
// logged, to check that none comes from the request but its address.
type attrRecorder struct {
	mu     sync.Mutex
	values []string
}

func (h *attrRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *attrRecorder) WithGroup(string) slog.Handler            { return h }
func (h *attrRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.values = append(h.values, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		h.values = append(h.values, a.Value.String())
		return true
	})
	return nil
}

// loggable are the values a log record of the policy may hold, besides
// the error texts' parts and the client's address.
var loggable = []string{
	"jwtauth: invalid credentials", "jwtauth: user rejected", "Basic",
	"invalid username or password", "malformed Authorization header",
	"the userid starts with a reserved principal prefix", "system.", "group:", "role:", "scope:",
	"more than one Authorization header", "Authorization header too large", "no credentials after the scheme",
	"credentials are not canonical padded base64", "decoded credentials hold no colon",
	"username or password is not valid UTF-8", "username or password holds a control character",
}

// FuzzBasicHeader: any Authorization header, and the header a client
// makes of any username and password, gives exactly one outcome (a user
// or one of the three errors), never a panic; an error's text and the log
// are the policy's fixed texts, never the password; and a username and
// password that RFC 7617 allows come out as they went in.
func FuzzBasicHeader(f *testing.F) {
	for _, seed := range [][3]string{
		{basicHeader("alice", "alice-secret"), "alice", "alice-secret"},
		{basicHeader("alice", "wrong"), "alice", "wrong"},
		{basicHeader("system.admin", "system-secret"), "system.admin", "system-secret"},
		{basicHeader("group:admins", "group-secret"), "group:admins", "group-secret"},
		{basicHeader("", ""), "", ""},
		{"basic " + b64("carol:with:colons:in:it"), "carol", "with:colons:in:it"},
		{basicHeader("émile", "pässwörd"), "émile", "pässwörd"},
		{"Basic " + b64("ali\x00ce:x"), "ali\x00ce", "x"},
		{"Basic " + b64("\xe9mile:x"), "\xe9mile", "x"},
		{"Basic " + b64("alice"), "alice", "\u0085"},
		{"Basic " + nonCanonical("bob:bob-secret"), "bob", "bob-secret"},
		{"Basic !!!!", "a:b", "c"},
		{"Basic", "", "\x7f"},
		{"Basic  YQ==YQ==", "", "Sup3rSecretPassw0rd"},
		{"Basic YWxpY2U6YWxpY2Utc2VjcmV0\r\n", "alice", "alice-secret"},
		{"BASIC\tYWxpY2U6YWxpY2Utc2VjcmV0", "x", "y"},
		{"Baſic YWxpY2U6YWxpY2Utc2VjcmV0", "x", "y"},
		{"JWT token=abc", "x", "y"},
		{"", "x", "y"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	rec := &attrRecorder{}
	var checked struct {
		sync.Mutex
		user, pass string
		calls      int
	}
	p, err := basic.New(basic.Config{
		Realm: "Fuzz",
		Check: func(u, pw string, r *http.Request) ([]string, bool) {
			checked.Lock()
			defer checked.Unlock()
			checked.user, checked.pass, checked.calls = u, pw, checked.calls+1
			return []string{"group:fuzzers"}, strings.HasPrefix(pw, "ok")
		},
		Logger: slog.New(rec),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, user, pass string) {
		// The raw header, alone and beside another one.
		for _, headers := range [][]string{{header}, {header, "JWT token=abc"}} {
			id := identify(t, p, rec, headers)
			if len(headers) == 2 && strings.HasPrefix(strings.ToLower(strings.TrimLeft(header, " \t")), "basic") &&
				id.Err == nil {
				t.Errorf("%q beside another header authenticated %q", header, id.UserID)
			}
		}

		// The header a client makes of user and pass.
		checked.Lock()
		checked.calls = 0
		checked.Unlock()
		h := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		id := identify(t, p, rec, []string{h})
		if id.Err != nil && pass != "" && !slices.ContainsFunc(errorTexts, func(s string) bool { return strings.Contains(s, pass) }) &&
			strings.Contains(id.Err.Error(), pass) {
			t.Errorf("the error %q holds the password", id.Err)
		}
		userPass := user + ":" + pass
		u, rest, _ := strings.Cut(userPass, ":")
		allowed := utf8.ValidString(userPass) && strings.IndexFunc(userPass, unicode.IsControl) < 0 && len(h) <= basic.MaxHeaderBytes
		reserved := slices.ContainsFunc([]string{"system.", "group:", "role:", "scope:"}, func(pre string) bool { return strings.HasPrefix(u, pre) })
		checked.Lock()
		defer checked.Unlock()
		switch {
		case !allowed:
			if !errors.Is(id.Err, policy.ErrMalformedHeader) || id.HasClaim || checked.calls != 0 {
				t.Errorf("%q %q: %+v, want a malformed header", user, pass, id)
			}
		case id.Claimed != u || !id.HasClaim:
			t.Errorf("%q %q: claimed %q, want %q", user, pass, id.Claimed, u)
		case reserved:
			if !errors.Is(id.Err, policy.ErrUserRejected) || checked.calls != 0 {
				t.Errorf("%q %q: %+v, want a user rejected", user, pass, id)
			}
		case checked.calls != 1 || checked.user != u || checked.pass != rest:
			t.Errorf("%q %q: the check got %q %q (%d calls), want %q %q", user, pass, checked.user, checked.pass, checked.calls, u, rest)
		case strings.HasPrefix(rest, "ok") != (id.Err == nil):
			t.Errorf("%q %q: %+v", user, pass, id)
		case id.Err == nil && !slices.Equal(id.Principals, []string{u, policy.Everyone, policy.Authenticated, "group:fuzzers"}):
			t.Errorf("principals %q", id.Principals)
		case id.Err != nil && !errors.Is(id.Err, basic.ErrBadPassword):
			t.Errorf("%q %q: %v, want a bad password", user, pass, id.Err)
		}
	})
}

// identify identifies a request with headers, checks that exactly one
// outcome came out with an error of the policy's fixed texts, and that
// nothing but them and the address was logged.
func identify(t *testing.T, p *basic.Policy, rec *attrRecorder, headers []string) policy.Identity {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header["Authorization"] = headers
	rec.mu.Lock()
	rec.values = nil
	rec.mu.Unlock()
	r = policy.WithIdentity(r, p) // so that Challenge asks no second time
	id := policy.IdentityOf(r, p)
	n := 0
	for _, e := range []error{policy.ErrNoCredentials, policy.ErrInvalidCredentials, policy.ErrUserRejected} {
		if errors.Is(id.Err, e) {
			n++
		}
	}
	switch {
	case id.Err == nil && (id.UserID != id.Claimed || !id.HasClaim || len(id.Principals) < 3):
		t.Errorf("%q: authenticated %+v", headers, id)
	case id.Err != nil && (n != 1 || id.UserID != "" || !slices.Equal(id.Principals, []string{policy.Everyone})):
		t.Errorf("%q: %+v, not exactly one of the three errors", headers, id)
	case id.Err != nil && !slices.Contains(errorTexts, id.Err.Error()):
		t.Errorf("%q: the error %q is none of the policy's", headers, id.Err)
	}
	w := &discard{}
	p.Challenge(w, r)
	if w.status != 400 && w.status != 401 {
		t.Errorf("%q: challenged with %d", headers, w.status)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, v := range rec.values {
		if v != r.RemoteAddr && !slices.Contains(loggable, v) {
			t.Errorf("%q: logged %q", headers, v)
		}
	}
	return id
}

// discard is a ResponseWriter that keeps the status alone.
type discard struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discard) Write(b []byte) (int, error) { return d.body.Write(b) }
func (d *discard) WriteHeader(status int)      { d.status = status }
