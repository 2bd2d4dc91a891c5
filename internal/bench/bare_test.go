package bench

import (
	"runtime"
	"testing"

	"github.com/go-jose/go-jose/v4"
	golangjwt "github.com/golang-jwt/jwt/v5"
)

// BenchmarkBare measures the libraries alone, without HTTP, on cold tokens:
// go-jose's ParseSignedCompact and Verify (no claims are decoded or
// checked), its ParseSignedCompact alone (the least that any verifier that
// lets go-jose parse every token, as this project does, must run besides
// the signature check), golang-jwt's whole ParseWithClaims as the
// reference, and the floor. It shows what of the cold cost is the JOSE
// library's.
func BenchmarkBare(b *testing.B) {
	for _, alg := range algs {
		k := keys()[alg]
		allowed := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
		parser, keyFunc := golangJWTParser(k)
		for _, c := range []struct {
			impl   string
			verify func(raw string) error
		}{
			{"go-jose", func(raw string) error {
				jws, err := jose.ParseSignedCompact(raw, allowed)
				if err == nil {
					_, err = jws.Verify(k.verify)
				}
				return err
			}},
			{"go-jose-parse", func(raw string) error {
				_, err := jose.ParseSignedCompact(raw, allowed)
				return err
			}},
			{"golang-jwt", func(raw string) error {
				_, err := parser.ParseWithClaims(raw, golangjwt.MapClaims{}, keyFunc)
				return err
			}},
		} {
			b.Run("alg="+alg+"/work=bare/impl="+c.impl, func(b *testing.B) {
				toks := coldTokens(alg, min(b.N, floorColdMax))
				b.ReportAllocs()
				runtime.GC() // the garbage of minting the tokens is not the contender's
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c.verify(toks[i%len(toks)].raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("alg="+alg+"/work=bare/impl=floor", func(b *testing.B) {
			benchFloor(b, alg, "cold")
		})
	}
}

// TestBareRefuses checks that the bare go-jose contender tells a good
// signature from a bad one, so that its row measures a real check.
func TestBareRefuses(t *testing.T) {
	for _, alg := range algs {
		k := keys()[alg]
		c := checkTokensOf(k)
		allowed := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
		for raw, want := range map[string]bool{c.good.raw: true, c.wrongKey.raw: false} {
			jws, err := jose.ParseSignedCompact(raw, allowed)
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			if _, err := jws.Verify(k.verify); (err == nil) != want {
				t.Errorf("%s: Verify = %v, want success %v", alg, err, want)
			}
		}
	}
}
