package basic_test

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

// The users of the tests' check, with their passwords and groups.
var (
	testPasswords = map[string]string{
		"alice":        "alice-secret",
		"admin":        "admin-secret",
		"bob":          "bob-secret",
		"émile":        "pässwörd",
		"carol":        "with:colons:in:it",
		"system.admin": "system-secret", // never asked: a reserved prefix
		// Never reached: a username holds no colon, so that this is the
		// user "group" with the password "admins:group-secret".
		"group:admins": "group-secret",
	}
	testGroups = map[string][]string{
		"alice": {"group:editors"},
		"admin": {"group:admins", "group:editors"},
		"émile": {"group:editors"},
	}
)

// newPolicy returns a policy with the tests' users, realm "Test", logging
// at Debug into the returned buffer.
func newPolicy(t testing.TB) (*basic.Policy, *testkit.SyncBuffer) {
	t.Helper()
	logs := &testkit.SyncBuffer{}
	p, err := basic.New(basic.Config{
		Realm:  "Test",
		Check:  basic.Passwords(testPasswords, testGroups),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

// basicHeader is the Authorization header value of user and pass.
func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// requestWith returns a GET request carrying the given Authorization
// headers, raw.
func requestWith(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	return r
}

// outcome names which of the four outcomes err is, and fails the test
// when it matches more than one of the three errors.
func outcome(t testing.TB, err error) string {
	t.Helper()
	var names []string
	for _, e := range []struct {
		name string
		err  error
	}{
		{"no credentials", policy.ErrNoCredentials},
		{"invalid", policy.ErrInvalidCredentials},
		{"rejected", policy.ErrUserRejected},
	} {
		if errors.Is(err, e.err) {
			names = append(names, e.name)
		}
	}
	switch {
	case err == nil:
		return "ok"
	case len(names) != 1:
		t.Fatalf("error %q matches %v, not exactly one of the three errors", err, names)
	}
	return names[0]
}

const challenge = `Basic realm="Test", charset="UTF-8"`
