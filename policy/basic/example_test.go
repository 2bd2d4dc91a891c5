package basic_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

// An application checks its users' passwords (here static ones, with
// basic.Passwords; a store of users compares password hashes, and any
// check compares in constant time, as with basic.ConstantTimeEqual) and
// serves its handlers through policy.Authenticate, which asks the check
// once per request.
func ExampleNew() {
	p, err := basic.New(basic.Config{
		Realm: "Example",
		Check: basic.Passwords(
			map[string]string{"alice": "alice", "bob": "bob"},
			map[string][]string{"alice": {"group:editors"}},
		),
	})
	if err != nil {
		panic(err)
	}
	handler := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		if !id.Authenticated() {
			p.Challenge(w, r)
			return
		}
		fmt.Fprintln(w, "hello", id.UserID, id.Principals)
	}))

	serve := func(r *http.Request) {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), strings.TrimSpace(string(body)))
	}

	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("alice", "alice")
	serve(r)

	// A wrong password and no credentials are challenged.
	r = httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("alice", "guess")
	serve(r)
	serve(httptest.NewRequest("GET", "/", nil))

	// Output:
	// 200  hello alice [alice system.Everyone system.Authenticated group:editors]
	// 401 Basic realm="Example", charset="UTF-8" {"error":"unauthorized","error_description":"invalid username or password"}
	// 401 Basic realm="Example", charset="UTF-8" {"error":"unauthorized"}
}

// A check of its own reads the application's users, and compares in
// constant time.
func ExampleCheck() {
	users := map[string]struct {
		password string // in a real store, a password hash
		groups   []string
	}{
		"admin": {"admin", []string{"group:admins"}},
	}
	check := func(username, password string, r *http.Request) ([]string, bool) {
		u, ok := users[username]
		if !basic.ConstantTimeEqual(password, u.password) || !ok {
			return nil, false
		}
		return u.groups, true
	}
	p, err := basic.New(basic.Config{Check: check})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("admin", "admin")
	fmt.Println(p.AuthenticatedUserID(r))
	fmt.Println(p.EffectivePrincipals(r))
	// Output:
	// admin <nil>
	// [admin system.Everyone system.Authenticated group:admins] <nil>
}
