package testkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DPoPKey is a DPoP client's ES256 key pair and its RFC 7638 thumbprint,
// computed by go-jose, for the cnf.jkt of the tokens bound to it.
type DPoPKey struct {
	Key *ecdsa.PrivateKey
	JKT string // base64url
}

// NewDPoPKey generates a P-256 DPoP key.
func NewDPoPKey(t testing.TB) DPoPKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return DPoPKey{Key: k, JKT: base64.RawURLEncoding.EncodeToString(sum)}
}

// Proof signs a DPoP proof (RFC 9449) with go-jose: typ dpop+jwt, the
// public key as jwk, and the claims jti (random), htm method, htu, iat
// now, ath (base64url SHA-256) of token unless token is "", and nonce
// unless "".
func (k DPoPKey) Proof(t testing.TB, method, htu, token, nonce string) string {
	t.Helper()
	return k.ProofWith(t, method, htu, token, nonce, time.Now(), "", nil)
}

// ProofWith is [DPoPKey.Proof] with iat at now, the header typ instead of
// dpop+jwt unless typ is "", and claims over the defaults: a claim there
// replaces the default one, or adds itself, and a nil value deletes it.
// It is for proofs that are wrong in one way.
func (k DPoPKey) ProofWith(t testing.TB, method, htu, token, nonce string, now time.Time, typ string, claims map[string]any) string {
	t.Helper()
	if typ == "" {
		typ = "dpop+jwt"
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.Key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]any{"jti": rand.Text(), "htm": method, "htu": htu, "iat": now.Unix()}
	if token != "" {
		ath := sha256.Sum256([]byte(token))
		all["ath"] = base64.RawURLEncoding.EncodeToString(ath[:])
	}
	if nonce != "" {
		all["nonce"] = nonce
	}
	for name, v := range claims {
		if v == nil {
			delete(all, name)
		} else {
			all[name] = v
		}
	}
	return MintSigned(t, signer, all)
}
