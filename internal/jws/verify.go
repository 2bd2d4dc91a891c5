package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"math/big"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Verify is the signature step with one key: the signature go-jose decoded
// from raw (the compact JWS it parsed as jws, which passed CheckCompact) is
// checked over raw's signing input, the bytes before its last '.', by the
// standard library's crypto for the header's alg, which must be alg (the
// key's). An RSA-PSS signature (PS256, PS384, PS512) must use a salt as
// long as the hash, as RFC 7518 section 3.5 asks. It returns the payload.
//
// The checks are those of go-jose's Verify, without its re-work (it
// decodes the header again and re-encodes the payload to rebuild the
// signing input): a key of the algorithm's type (an EC key on the
// algorithm's curve, an HMAC secret at least as long as the hash), an
// ECDSA signature of exactly twice the curve's size (r‖s, RFC 7518 section
// 3.4), an HMAC compared in constant time.
func Verify(jws *jose.JSONWebSignature, raw string, key any, alg string) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, fail(ErrSignature, errors.New("not one signature"))
	}
	sig := jws.Signatures[0]
	if sig.Header.Algorithm != alg {
		return nil, fail(ErrSignature, errAlgMismatch)
	}
	dot := strings.LastIndexByte(raw, '.')
	if dot < 0 {
		return nil, errMalformed("not a compact JWS")
	}
	if err := verifySignature(raw[:dot], sig.Signature, key, alg); err != nil {
		return nil, fail(ErrSignature, err)
	}
	return jws.UnsafePayloadWithoutVerification(), nil
}

var (
	errBadSignature = errors.New("the signature does not verify")
	errKeyType      = errors.New("a key of another type than the algorithm's")
	// The backstops: the callers check keys and algorithms first (policy's
	// checkKey, CheckKey), and Verify checks them again.
	errAlgMismatch    = errors.New("the header's alg is not the key's")
	errShortSecret    = errors.New("an HMAC secret shorter than the hash")
	errWrongCurve     = errors.New("an EC key on another curve than the algorithm's")
	errEd25519KeySize = errors.New("an Ed25519 key of the wrong size")
)

// verifySignature checks sig over input with key, for alg.
func verifySignature(input string, sig []byte, key any, alg string) error {
	switch alg {
	case "HS256", "HS384", "HS512":
		var m *MAC // nil for a plain secret, verified with a hash of its own
		var secret []byte
		switch k := key.(type) {
		case *MAC:
			if k.alg != alg {
				return errAlgMismatch
			}
			m, secret = k, k.secret
		case []byte:
			secret = k
		default:
			return errKeyType
		}
		h, size := hashOf(alg)
		if len(secret) < size {
			// RFC 7518 section 3.2: a key at least as long as the hash.
			return errShortSecret
		}
		var mac hash.Hash
		if m != nil {
			mac = m.get()
		} else {
			mac = hmac.New(h.New, secret)
		}
		writeString(mac, input)
		var sum [sha512.Size]byte
		ok := hmac.Equal(mac.Sum(sum[:0]), sig)
		if m != nil {
			m.hashes.Put(mac)
		}
		if !ok {
			return errBadSignature
		}
		return nil
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		pub, ok := key.(*rsa.PublicKey)
		if !ok || pub == nil {
			return errKeyType
		}
		h, _ := hashOf(alg)
		var digest [sha512.Size]byte
		d := sum(h, input, digest[:0])
		if alg[0] == 'P' {
			return rsa.VerifyPSS(pub, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
		}
		return rsa.VerifyPKCS1v15(pub, h, d, sig)
	case "ES256", "ES384", "ES512":
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub == nil {
			return errKeyType
		}
		want := curveOf(alg)
		if pub.Curve != want {
			return errWrongCurve
		}
		size := (want.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return errors.New("an ECDSA signature of the wrong size")
		}
		h, _ := hashOf(alg)
		var digest [sha512.Size]byte
		d := sum(h, input, digest[:0])
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, d, r, s) {
			return errBadSignature
		}
		return nil
	case "EdDSA":
		pub, ok := key.(ed25519.PublicKey)
		if !ok {
			return errKeyType
		}
		if len(pub) != ed25519.PublicKeySize {
			return errEd25519KeySize
		}
		buf := inputBuffer(input)
		ok = ed25519.Verify(pub, *buf, sig)
		inputs.Put(buf)
		if !ok {
			return errBadSignature
		}
		return nil
	}
	return errors.New("an unsupported algorithm")
}

// MAC is an HMAC secret for one algorithm, with the keyed hashes made of
// it kept for reuse: Verify takes one where it takes the secret, and
// spares the making of a keyed hash (five allocations and the pads) on
// each token. A MAC is safe for concurrent use.
type MAC struct {
	secret []byte
	alg    string
	hashes sync.Pool // of hash.Hash, keyed with secret, for alg
}

// NewMAC returns the MAC of secret for alg (HS256, HS384 or HS512); it
// does not copy secret, which must not change.
func NewMAC(alg string, secret []byte) *MAC { return &MAC{secret: secret, alg: alg} }

// get returns a keyed hash of m, reset.
func (m *MAC) get() hash.Hash {
	if h, ok := m.hashes.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	h, _ := hashOf(m.alg)
	return hmac.New(h.New, m.secret)
}

// hashOf is the hash of alg, and its size.
func hashOf(alg string) (crypto.Hash, int) {
	switch alg[2:] {
	case "384":
		return crypto.SHA384, sha512.Size384
	case "512":
		return crypto.SHA512, sha512.Size
	}
	return crypto.SHA256, sha256.Size
}

// sum appends the hash h of s to b.
func sum(h crypto.Hash, s string, b []byte) []byte {
	d := h.New()
	writeString(d, s)
	return d.Sum(b)
}

// inputs keep the buffers of signing inputs: the hashes take bytes, and
// the token is a string.
var inputs = sync.Pool{New: func() any { return new([]byte) }}

func inputBuffer(s string) *[]byte {
	b := inputs.Get().(*[]byte)
	*b = append((*b)[:0], s...)
	return b
}

// writeString writes s to h through a pooled buffer.
func writeString(h hash.Hash, s string) {
	b := inputBuffer(s)
	h.Write(*b)
	inputs.Put(b)
}
