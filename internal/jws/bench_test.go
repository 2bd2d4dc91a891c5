package jws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkSteps times the structural and signature steps on one ES256
// token and an HS256 one, go-jose's parse included.
func BenchmarkSteps(b *testing.B) {
	t := &testing.T{}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	secret := make([]byte, 32)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
		pub any
	}{{jose.HS256, secret, secret}, {jose.ES256, ec, &ec.PublicKey}} {
		raw := sign(t, tc.alg, tc.key, nil)
		algs := []jose.SignatureAlgorithm{tc.alg}
		b.Run(string(tc.alg)+"/CheckCompact", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CheckCompact(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(tc.alg)+"/Parse", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse(raw, algs, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		parsed, _, _ := Parse(raw, algs, nil)
		b.Run(string(tc.alg)+"/Verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(parsed, raw, tc.pub, string(tc.alg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
