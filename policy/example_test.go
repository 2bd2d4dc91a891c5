package policy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/policy"
)

// An application configures the policy with its HMAC secret and a group
// finder, then asks each request who made it.
func ExampleNewJWT() {
	secret := []byte("an example secret of at least 32 bytes!!")
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: secret,
		GroupFinder: func(userid string, r *http.Request, claims policy.Claims) ([]string, bool) {
			if userid == "alice" {
				return []string{"group:editors"}, true
			}
			return nil, true
		},
	})
	if err != nil {
		panic(err)
	}

	// A client's token, made here with go-jose (p.NewToken makes the same).
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
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

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "JWT token="+token)
	userid, err := p.AuthenticatedUserID(r)
	fmt.Println(userid, err)
	principals, _ := p.EffectivePrincipals(r)
	fmt.Println(principals)

	// Without a token there is no user, and the challenge asks for one.
	anon := httptest.NewRequest("GET", "/", nil)
	_, err = p.AuthenticatedUserID(anon)
	fmt.Println(err)
	w := httptest.NewRecorder()
	p.Challenge(w, anon)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	// Output:
	// alice <nil>
	// [alice system.Everyone system.Authenticated group:editors]
	// jwtauth: no credentials
	// 401 JWT
}
