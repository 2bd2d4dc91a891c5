package policy_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/policy"
)

// A handler reads the verified claims as a struct of the application's
// own, with the fields it needs.
func ExampleClaimsFromAs() {
	secret := []byte("an example secret of at least 32 bytes!!")
	p, err := policy.NewJWT(policy.Config{MasterSecret: secret})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	type userClaims struct {
		Subject string           `json:"sub"`
		Email   string           `json:"email"`
		Roles   []string         `json:"roles"`
		Expiry  *jwt.NumericDate `json:"exp"`
	}
	h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := policy.ClaimsFromAs[userClaims](r.Context())
		switch {
		case errors.Is(err, policy.ErrNoClaims):
			fmt.Println("no claims:", errors.Is(err, policy.ErrNoCredentials))
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println(c.Subject, c.Email, c.Roles, c.Expiry != nil)
		}
	}))

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		panic(err)
	}
	token, err := jwt.Signed(signer).Claims(map[string]any{
		"sub":   "alice",
		"email": "alice@example.com",
		"roles": []string{"editor"},
		"exp":   time.Now().Add(time.Hour).Unix(),
	}).Serialize()
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "JWT token="+token)
	h.ServeHTTP(httptest.NewRecorder(), r)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	// Output:
	// alice alice@example.com [editor] true
	// no claims: true
}
