package settings_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

func ExampleNewPolicy() {
	// The settings of a Pyramid application, as LoadINI or Load return
	// them; keys without the jwtauth. prefix are not the policy's.
	m := map[string]string{
		"jwtauth.master_secret":   "an HMAC secret of at least 32 bytes",
		"jwtauth.scheme":          "Bearer",
		"jwtauth.userid_in_claim": "email",
		"jwtauth.leeway":          "30",
		"pyramid.reload_all":      "true",
	}
	p, err := settings.NewPolicy(m, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	jwt := p.(*policy.JWT) // without multiauth.policies, the JWT policy
	token, err := jwt.NewToken("alice@example.com", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/", nil)
	policy.SetAuthorization(r, jwt.Scheme(), token)
	fmt.Println(p.AuthenticatedUserID(r))

	// A mistake names the setting at fault.
	m["jwtauth.leeway"] = "half a minute"
	_, err = settings.NewPolicy(m, nil, nil)
	fmt.Println(err)
	m["jwtauth.leeway"] = "30"
	m["jwtauth.lee_way"] = "30"
	_, err = settings.NewPolicy(m, nil, nil)
	fmt.Println(err)
	// Output:
	// alice@example.com <nil>
	// jwtauth.leeway: "half a minute" is not a whole number of seconds
	// jwtauth.lee_way: unknown setting; did you mean jwtauth.leeway?
}
