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
func (p *JWT) Encode(claims any) (string, error) { return p.v.Encode(claims) }

// NewToken makes a token for userid with the policy's verifier (see
// Verifier.NewToken).
func (p *JWT) NewToken(userid string, extra map[string]any) (string, error) {
	return p.v.NewToken(userid, extra)
}

// CanSign tells whether the verifier has a signing key (a master secret or
// a private key), so that Encode and NewToken can make tokens.
func (v *Verifier) CanSign() bool { return v.signingKey != nil }

// CanSign tells whether the policy can make tokens (Verifier.CanSign).
func (p *JWT) CanSign() bool { return p.v.CanSign() }

// Encode signs claims (any value that encodes as a JSON object) with the
// verifier's signing key and algorithm and returns the compact token,
// whose typ header is Config.TokenType when one is configured (so that the
// verifier accepts its own tokens), JWT otherwise. It fails with
// ErrNoSigningKey when there is only a public key.
func (v *Verifier) Encode(claims any) (string, error) {
	if v.signingKey == nil {
		return "", ErrNoSigningKey
	}
	typ := jose.ContentType("JWT")
	if v.cfg.TokenType != "" {
		typ = jose.ContentType(v.cfg.TokenType) // the type the verifier requires
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(v.cfg.Algorithm), Key: v.signingKey},
		(&jose.SignerOptions{}).WithType(typ),
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
// they are configured, a random jti (JTIBytes) when a revocation store or
// ProfileRFC9068 is, then the extra claims, which may replace any of these
// but the userid claim (with ProfileRFC9068, whose policy has Issuer, as
// one with a signing key must, give it client_id: a token without it does
// not verify).
func (v *Verifier) NewToken(userid string, extra map[string]any) (string, error) {
	if _, ok := extra[v.cfg.UserIDClaim]; ok {
		return "", fmt.Errorf("jwtauth: extra claims must not set the userid claim %q", v.cfg.UserIDClaim)
	}
	now := v.cfg.Now().Unix()
	claims := map[string]any{"iat": now}
	if v.cfg.Expiration > 0 {
		claims["exp"] = now + int64(v.cfg.Expiration.Seconds())
	}
	switch len(v.cfg.Audience) {
	case 0:
	case 1:
		claims["aud"] = v.cfg.Audience[0]
	default:
		claims["aud"] = v.cfg.Audience
	}
	if v.cfg.Issuer != "" {
		claims["iss"] = v.cfg.Issuer
	}
	if v.cfg.Revocation != nil || v.cfg.Profile == ProfileRFC9068 {
		claims["jti"] = newJTI() // so that the token can be revoked alone; RFC 9068 requires one
	}
	maps.Copy(claims, extra)
	claims[v.cfg.UserIDClaim] = userid
	return v.Encode(claims)
}

// SetAuthorization puts token on an outgoing request in pyramid_jwtauth's
// form, "Authorization: <scheme> token=<token>", which this policy reads
// for schemes of any name. (For "Bearer", RFC 6750's form
// "Bearer <token>" is more usual; set the header directly for it.)
func SetAuthorization(r *http.Request, scheme, token string) {
	r.Header.Set("Authorization", scheme+" token="+token)
}

// UnverifiedClaims decodes the payload of the compact JWS raw of an
// allowed algorithm without checking anything else (neither its signature
// nor its revocation), for display and debugging only: nothing in them is
// to be trusted.
func (v *Verifier) UnverifiedClaims(raw string) (Claims, bool) {
	if len(raw) > v.cfg.MaxTokenBytes {
		return nil, false
	}
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		return nil, false
	}
	c, err := decodeClaims(jws.UnsafePayloadWithoutVerification())
	return c, err == nil
}
