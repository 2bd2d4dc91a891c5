package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// A client attaches a proof with a Prover; the resource server verifies it
// with one call and compares the key with the token's cnf.jkt.
func Example() {
	// The server: one Verifier (ES256 EdDSA RS256 PS256, 300 s, an
	// in-memory replay cache).
	v, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const accessToken = "token-bound-to-the-key" // from Authorization: DPoP <token>
		proof, err := v.Verify(r.Context(), r, accessToken)
		if err == nil {
			err = proof.CheckBinding(tokenJKT) // the verified token's cnf.jkt
		}
		switch {
		case errors.Is(err, dpop.ErrReplayUnavailable):
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		case err != nil:
			w.Header().Set("WWW-Authenticate", dpop.Challenge(v.Algorithms(), dpop.ErrorCode(err), dpop.Description(err)))
			w.WriteHeader(http.StatusUnauthorized)
		default:
			fmt.Fprintln(w, "hello, holder of", proof.Thumbprint == tokenJKT)
		}
	})

	// The client: its key, whose thumbprint the token names.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	prover, err := dpop.NewProver(key, "ES256")
	if err != nil {
		panic(err)
	}
	tokenJKT = prover.Thumbprint()

	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/articles?page=2", nil)
	if err := prover.Attach(req, "token-bound-to-the-key", ""); err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())

	// The same proof again is a replay.
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 hello, holder of true
	// 401 DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_dpop_proof", error_description="DPoP proof replayed"
}

// tokenJKT stands for the cnf.jkt of the access token the server verified.
var tokenJKT string
