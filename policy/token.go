package policy

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/go-jose/go-jose/v4"
)

// Encode signs claims (any value that encodes as a JSON object) with the
// policy's signing key and algorithm and returns the compact token:
// pyramid_jwtauth's encode_jwt. It fails with ErrNoSigningKey when the
// policy has only a public key.
func (p *JWT) Encode(claims any) (string, error) {
	if p.signingKey == nil {
		return "", ErrNoSigningKey
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(p.cfg.Algorithm), Key: p.signingKey},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("jwtauth: cannot sign: %w", err)
	}
	payload, err := jsonObject(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("jwtauth: cannot sign: %w", err)
	}
	return jws.CompactSerialize()
}

// NewToken makes a token for userid: the userid claim, iat now, exp after
// the configured expiration (none when it is negative), aud and iss when
// they are configured, then the extra claims, which may replace any of
// these but the userid claim.
func (p *JWT) NewToken(userid string, extra map[string]any) (string, error) {
	if _, ok := extra[p.cfg.UserIDClaim]; ok {
		return "", fmt.Errorf("jwtauth: extra claims must not set the userid claim %q", p.cfg.UserIDClaim)
	}
	now := p.cfg.Now().Unix()
	claims := map[string]any{"iat": now}
	if p.cfg.Expiration > 0 {
		claims["exp"] = now + int64(p.cfg.Expiration.Seconds())
	}
	switch len(p.cfg.Audience) {
	case 0:
	case 1:
		claims["aud"] = p.cfg.Audience[0]
	default:
		claims["aud"] = p.cfg.Audience
	}
	if p.cfg.Issuer != "" {
		claims["iss"] = p.cfg.Issuer
	}
	maps.Copy(claims, extra)
	claims[p.cfg.UserIDClaim] = userid
	return p.Encode(claims)
}

// SetAuthorization puts token on an outgoing request in pyramid_jwtauth's
// form, "Authorization: <scheme> token=<token>", which this policy reads
// for schemes of any name. (For "Bearer", RFC 6750's form
// "Bearer <token>" is more usual; set the header directly for it.)
func SetAuthorization(r *http.Request, scheme, token string) {
	r.Header.Set("Authorization", scheme+" token="+token)
}

// unverifiedClaims decodes the payload of a compact JWS without checking
// its signature.
func unverifiedClaims(token string, algs []jose.SignatureAlgorithm) (Claims, bool) {
	jws, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		return nil, false
	}
	c, err := decodeClaims(jws.UnsafePayloadWithoutVerification())
	return c, err == nil
}
