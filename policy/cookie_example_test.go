package policy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/pyramid-go/jwtauth/policy"
)

// A browser signs in: the login handler's Remember sets the cookie, the
// browser sends it back, and the policy knows the user; a request another
// site's page makes with it is refused.
func ExampleNewCookie() {
	p, err := policy.NewCookie(policy.CookieConfig{
		Config: policy.Config{MasterSecret: []byte("an example secret of at least 32 bytes!!")},
	})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	app := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		userid, err := p.AuthenticatedUserID(r)
		fmt.Println(r.Method, "as", userid, err)
	}))

	// The login handler's answer stores the cookie.
	setCookie := p.Remember(httptest.NewRequest("POST", "/login", nil), "alice").Get("Set-Cookie")
	_, attributes, _ := strings.Cut(setCookie, "; ")
	fmt.Println("Set-Cookie: jwt=...;", attributes)
	cookie, err := http.ParseSetCookie(setCookie)
	if err != nil {
		panic(err)
	}

	// The browser sends it with its next requests.
	r := httptest.NewRequest("PUT", "https://app.example/articles/1", nil)
	r.AddCookie(cookie)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	app.ServeHTTP(httptest.NewRecorder(), r)

	// Another site's page makes the browser send it too: refused.
	r = httptest.NewRequest("PUT", "https://app.example/articles/1", nil)
	r.AddCookie(cookie)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, r)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"error":"csrf"`))
	// Output:
	// Set-Cookie: jwt=...; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax
	// PUT as alice <nil>
	// 403 true
}
