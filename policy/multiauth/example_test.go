package multiauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// An application accepts its own tokens (scheme JWT) and a partner's
// (scheme Bearer, another secret), with one group finder for both; the
// identity says which policy authenticated the request.
func ExampleNew() {
	own := []byte("the application's own secret, 32 bytes")
	partner := []byte("the partner's secret, also 32 bytes long")
	jwtPolicy, err := policy.NewJWT(policy.Config{MasterSecret: own})
	if err != nil {
		panic(err)
	}
	bearerPolicy, err := policy.NewJWT(policy.Config{MasterSecret: partner, Schemes: []string{"Bearer"}})
	if err != nil {
		panic(err)
	}
	stack, err := multiauth.New(multiauth.Config{
		Policies: []multiauth.Named{{Name: "app", Policy: jwtPolicy}, {Name: "partner", Policy: bearerPolicy}},
		GroupFinder: func(userid string, r *http.Request, claims policy.Claims) ([]string, bool) {
			if userid == "alice" {
				return []string{"group:editors"}, true
			}
			return nil, true
		},
		OnSelected: func(r *http.Request, name, userid string) { fmt.Println("selected", name, userid) },
	})
	if err != nil {
		panic(err)
	}
	defer stack.Close()

	// A partner's token, made here with go-jose.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: partner}, nil)
	if err != nil {
		panic(err)
	}
	token, err := jwt.Signed(signer).Claims(jwt.Claims{
		Subject: "alice",
		Expiry:  jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).Serialize()
	if err != nil {
		panic(err)
	}

	h := policy.Authenticate(stack)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		fmt.Println(id.UserID, id.Policy, id.Principals)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), r)

	// Without credentials, the challenge names both schemes.
	w := httptest.NewRecorder()
	stack.Challenge(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code, w.Header().Values("WWW-Authenticate"))

	// Output:
	// selected partner alice
	// alice partner [alice system.Everyone system.Authenticated group:editors]
	// 401 [JWT Bearer]
}
