package testkit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"testing"

	"filippo.io/edwards25519"
)

// Encoding is one 32-byte encoding of an Ed25519 point, and what it is.
type Encoding struct {
	Name  string
	Bytes []byte
}

// torsionGenerator is a point of order 8 of edwards25519, the first of the
// small-order encodings that libsodium refuses (the blocklist of its
// has_small_order, crypto_core/ed25519/ref10/ed25519_ref10.c) and that
// filippo.io/edwards25519's own TestMultByCofactor uses (with the sign bit
// set). Its multiples are the eight points of small order.
const torsionGenerator = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"

// fieldP is 2^255 - 19.
var fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// SmallOrderEd25519 returns every encoding of the eight Ed25519 points of
// small order that Go's verifier decodes: each point's canonical encoding;
// with the sign bit set where x = 0 (the identity and the point of order
// 2); and with y + p for y where y + p < 2^255 (y = 0 and y = 1), with
// either sign bit. There are fourteen. The points are derived here, with
// filippo.io/edwards25519, as the multiples [k]T of a point T of order 8;
// the encodings beyond the canonical ones are made bit by bit.
func SmallOrderEd25519(t testing.TB) []Encoding {
	t.Helper()
	gen, err := hex.DecodeString(torsionGenerator)
	if err != nil {
		t.Fatal(err)
	}
	T, err := new(edwards25519.Point).SetBytes(gen)
	if err != nil {
		t.Fatalf("the torsion generator does not decode: %v", err)
	}
	id := edwards25519.NewIdentityPoint()
	four := new(edwards25519.Point).Add(T, T)
	four.Add(four, four)
	if new(edwards25519.Point).MultByCofactor(T).Equal(id) != 1 || four.Equal(id) == 1 {
		t.Fatal("the torsion generator is not of order 8")
	}

	var out []Encoding
	add := func(name string, enc []byte, want *edwards25519.Point) {
		if slices.ContainsFunc(out, func(e Encoding) bool { return bytes.Equal(e.Bytes, enc) }) {
			return // the sign bit of a point with x != 0 flipped is its negation's encoding
		}
		if p, err := new(edwards25519.Point).SetBytes(enc); err != nil || p.Equal(want) != 1 {
			t.Fatalf("%s (%x) does not decode to the point", name, enc)
		}
		out = append(out, Encoding{name, enc})
	}
	P := edwards25519.NewIdentityPoint()
	for k := range 8 {
		canonical := P.Bytes()
		sign := canonical[31] & 0x80
		add(fmt.Sprintf("[%d]T canonical", k), canonical, P)
		// The sign bit flipped: for x = 0, a non-canonical encoding of
		// the same point (which Go decodes); for x != 0, -[k]T.
		flipped := slices.Clone(canonical)
		flipped[31] ^= 0x80
		if q, err := new(edwards25519.Point).SetBytes(flipped); err == nil && q.Equal(P) == 1 {
			add(fmt.Sprintf("[%d]T sign bit set, x = 0", k), flipped, P)
		}
		// y + p, when it fits in 255 bits.
		y := new(big.Int).SetBytes(reversed(canonical[:31], canonical[31]&0x7f))
		if yp := new(big.Int).Add(y, fieldP); yp.BitLen() <= 255 {
			enc := reversed(yp.FillBytes(make([]byte, 32)))
			enc[31] |= sign
			add(fmt.Sprintf("[%d]T y+p", k), enc, P)
			enc = slices.Clone(enc)
			enc[31] ^= 0x80
			neg := new(edwards25519.Point).Negate(P)
			add(fmt.Sprintf("[%d]T y+p, sign bit flipped", k), enc, neg)
		}
		P = new(edwards25519.Point).Add(P, T)
	}
	if len(out) != 14 {
		t.Fatalf("%d small-order encodings, want 14", len(out))
	}
	return out
}

// reversed returns the bytes of b (and then extra) in reverse order: a
// little-endian encoding made big-endian, or back.
func reversed(b []byte, extra ...byte) []byte {
	r := append(slices.Clone(b), extra...)
	slices.Reverse(r)
	return r
}

// NotOnCurveEd25519 returns a 32-byte encoding whose y has no x on
// edwards25519: x^2 = (y^2 - 1) / (d y^2 + 1) (RFC 8032, section 5.1.3) is
// not a square. It is found with math/big, and checked against
// filippo.io/edwards25519.
func NotOnCurveEd25519(t testing.TB) []byte {
	t.Helper()
	p := fieldP
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p))
	d.Mod(d, p)
	for y := int64(2); y < 100; y++ {
		yy := new(big.Int).Mul(big.NewInt(y), big.NewInt(y))
		u := new(big.Int).Sub(yy, big.NewInt(1))
		v := new(big.Int).Add(new(big.Int).Mul(d, yy), big.NewInt(1))
		x2 := new(big.Int).Mul(u, new(big.Int).ModInverse(v, p))
		x2.Mod(x2, p)
		if new(big.Int).ModSqrt(x2, p) != nil {
			continue
		}
		enc := reversed(big.NewInt(y).FillBytes(make([]byte, 32)))
		if _, err := new(edwards25519.Point).SetBytes(enc); err == nil {
			t.Fatalf("y = %d: edwards25519 decodes a point math/big says is not on the curve", y)
		}
		return enc
	}
	t.Fatal("no y under 100 is off the curve")
	return nil
}

// IdentityEd25519 is the Ed25519 public key that is the identity point
// (y = 1): with it, IdentitySignature verifies every message.
func IdentityEd25519() ed25519.PublicKey {
	k := make(ed25519.PublicKey, ed25519.PublicKeySize)
	k[0] = 1
	return k
}

// IdentitySignature is the Ed25519 signature R = identity, S = 0: under a
// public key of small order A, it verifies every message whose
// challenge k = H(R || A || M) makes [k]A the identity (every message,
// when A is the identity).
func IdentitySignature() []byte {
	sig := make([]byte, ed25519.SignatureSize)
	sig[0] = 1
	return sig
}

// ForgedEdDSA is a compact JWS of header and payload (JSON texts) carrying
// IdentitySignature, made by hand.
func ForgedEdDSA(header, payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(IdentitySignature())
}
