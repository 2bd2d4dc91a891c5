package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"hash"
	"math/big"
	"strings"
)

// floorInput is what the floor is given of a token, worked out before the
// timer starts: the signing input, the decoded signature (DER for ECDSA)
// and, for HMAC, the payload segment still in base64url.
type floorInput struct {
	signingInput []byte
	sig          []byte
	payload      string
}

func floorInputOf(k *keyset, t token) floorInput {
	dot := strings.LastIndexByte(t.raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(t.raw[dot+1:])
	if err != nil {
		panic(err)
	}
	if k.alg == "ES256" {
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if sig, err = asn1.Marshal(struct{ R, S *big.Int }{r, s}); err != nil {
			panic(err)
		}
	}
	first := strings.IndexByte(t.raw, '.')
	return floorInput{signingInput: []byte(t.raw[:dot]), sig: sig, payload: t.raw[first+1 : dot]}
}

// floor returns the standard library's check of one token: the signature
// alone; for HMAC also the payload's base64url and JSON decoding, into a
// map. It is not safe for concurrent use.
func floor(k *keyset) func(in *floorInput) bool {
	switch k.alg {
	case "HS256":
		mac := hmac.New(sha256.New, k.verify.([]byte))
		var sum [sha256.Size]byte
		var buf []byte
		return func(in *floorInput) bool {
			if !hmacOK(mac, sum[:0], in) {
				return false
			}
			n := base64.RawURLEncoding.DecodedLen(len(in.payload))
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			n, err := base64.RawURLEncoding.Decode(buf[:n], []byte(in.payload))
			if err != nil {
				return false
			}
			var claims map[string]any
			return json.Unmarshal(buf[:n], &claims) == nil && claims["sub"] != nil
		}
	case "RS256":
		pub := k.verify.(*rsa.PublicKey)
		return func(in *floorInput) bool {
			h := sha256.Sum256(in.signingInput)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], in.sig) == nil
		}
	case "ES256":
		pub := k.verify.(*ecdsa.PublicKey)
		return func(in *floorInput) bool {
			h := sha256.Sum256(in.signingInput)
			return ecdsa.VerifyASN1(pub, h[:], in.sig)
		}
	case "EdDSA":
		pub := k.verify.(ed25519.PublicKey)
		return func(in *floorInput) bool {
			return ed25519.Verify(pub, in.signingInput, in.sig)
		}
	}
	panic("no floor for " + k.alg)
}

func hmacOK(mac hash.Hash, sum []byte, in *floorInput) bool {
	mac.Reset()
	mac.Write(in.signingInput)
	return hmac.Equal(mac.Sum(sum), in.sig)
}
