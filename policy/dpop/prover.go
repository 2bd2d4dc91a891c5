package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/pyramid-go/jwtauth/internal/jws"
)

// Prover makes DPoP proofs with one key, for a client (RFC 9449 section
// 4.2): a Go client of a DPoP-protected API, or a test that calls one. It
// is safe for concurrent use.
type Prover struct {
	signer     jose.Signer
	alg        jose.SignatureAlgorithm
	thumbprint string
	// Now is the clock of the proofs' iat (nil: time.Now).
	Now func() time.Time
}

// NewProver returns a Prover signing with key (an *ecdsa.PrivateKey,
// *rsa.PrivateKey, ed25519.PrivateKey, or any crypto.Signer of those key
// types, an HSM's too) under alg, one of the algorithms of Config (""
// picks ES256, ES384 or ES512 by curve, EdDSA, or PS256 for RSA). Its
// errors match ErrConfig.
func NewProver(key crypto.Signer, alg string) (*Prover, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no key", ErrConfig)
	}
	a := jose.SignatureAlgorithm(alg)
	if a == "" {
		a = defaultAlgorithm(key.Public())
	}
	if !slices.Contains(algorithms, a) {
		return nil, fmt.Errorf("%w: %q is not an algorithm a DPoP proof may use", ErrConfig, alg)
	}
	if err := jws.CheckKey(key.Public(), string(a)); err != nil {
		return nil, fmt.Errorf("%w: the key does not suit %s: %w", ErrConfig, a, err)
	}
	var material any
	switch k := key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
		material = k
	default:
		material = cryptosigner.Opaque(key)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: a, Key: material}, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	jkt, err := Thumbprint(key.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Prover{signer: signer, alg: a, thumbprint: jkt}, nil
}

// defaultAlgorithm is the algorithm NewProver picks for a public key.
func defaultAlgorithm(pub crypto.PublicKey) jose.SignatureAlgorithm {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return jose.ES384
		case elliptic.P521():
			return jose.ES512
		}
		return jose.ES256
	case ed25519.PublicKey:
		return jose.EdDSA
	case *rsa.PublicKey:
		return jose.PS256
	}
	return ""
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the prover's key,
// base64url: the cnf.jkt of the access tokens bound to it.
func (p *Prover) Thumbprint() string { return p.thumbprint }

// Algorithm returns the algorithm the prover signs with.
func (p *Prover) Algorithm() string { return string(p.alg) }

// JTIBytes is the number of random bytes of a proof's jti: 128 bits.
const JTIBytes = 16

// Proof returns a fresh proof for a request of method to uri (its query
// and fragment are left out of htu), with ath for accessToken when it is
// not "" and nonce when it is not "": a random jti, iat now.
func (p *Prover) Proof(method, uri, accessToken, nonce string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("dpop: the request URI is not absolute")
	}
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	jti := make([]byte, JTIBytes)
	rand.Read(jti) // never fails (crypto/rand)
	c := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"htm": method,
		"htu": htu.String(),
		"iat": now().Unix(),
	}
	if accessToken != "" {
		c["ath"] = AccessTokenHash(accessToken)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: signing the proof: %w", err)
	}
	return jws.CompactSerialize()
}

// Attach gives req a fresh proof in its DPoP header (replacing any) for
// its method and URL, and, when accessToken is not "", the header
// Authorization: DPoP <accessToken> and the proof's ath; nonce is the
// server's last DPoP-Nonce ("" for none). The URL's host is req.Host when
// it is set, as the server will see it.
func (p *Prover) Attach(req *http.Request, accessToken, nonce string) error {
	if req.URL == nil {
		return fmt.Errorf("dpop: the request has no URL")
	}
	u := *req.URL
	if req.Host != "" {
		u.Host = req.Host
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet // as net/http sends it
	}
	proof, err := p.Proof(method, u.String(), accessToken, nonce)
	if err != nil {
		return err
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("DPoP", proof)
	if accessToken != "" {
		req.Header.Set("Authorization", "DPoP "+accessToken)
	}
	return nil
}
