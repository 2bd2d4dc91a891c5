package policy_test

import (
	"context"
	"errors"
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

// Authenticate gives each request one identity, worked out on its first
// question; handlers, and code below them that has only the context, read
// it there.
func ExampleAuthenticate() {
	secret := []byte("an example secret of at least 32 bytes!!")
	p, err := policy.NewJWT(policy.Config{MasterSecret: secret})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	service := func(ctx context.Context) string { // no *http.Request down here
		userid, ok := policy.UserIDFrom(ctx)
		if !ok {
			return "anonymous"
		}
		return "hello " + userid
	}
	h := policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		fmt.Println(id.Principals, id.Err)
		fmt.Println(service(r.Context()))
	}))

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		panic(err)
	}
	token, err := jwt.Signed(signer).Claims(jwt.Claims{Subject: "alice", Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "JWT token="+token)
	h.ServeHTTP(httptest.NewRecorder(), r)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	// Output:
	// [alice system.Everyone system.Authenticated] <nil>
	// hello alice
	// [system.Everyone] jwtauth: no credentials
	// anonymous
}

// The verifier knows nothing of the Authorization header: a raw token in,
// its verified claims or a typed reason out.
func ExampleVerifier_Verify() {
	secret := []byte("an example secret of at least 32 bytes!!")
	v, err := policy.NewVerifier(policy.Config{MasterSecret: secret})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		panic(err)
	}
	good, err := jwt.Signed(signer).Claims(map[string]any{"sub": "alice", "role": "editor", "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		panic(err)
	}
	t := v.Verify(context.Background(), good)
	fmt.Println(t.UserID, t.Err, t.Claims()["role"])
	expired, err := jwt.Signed(signer).Claims(map[string]any{"sub": "bob", "exp": time.Now().Add(-time.Hour).Unix()}).Serialize()
	if err != nil {
		panic(err)
	}
	t = v.Verify(context.Background(), expired)
	fmt.Println(t.UserID, errors.Is(t.Err, policy.ErrTokenExpired), t.Claims() == nil)

	// Output:
	// alice <nil> editor
	// bob true true
}
