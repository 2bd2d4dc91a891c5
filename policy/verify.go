package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// verdict is what one token's verification found.
type verdict struct {
	claims   Claims // the verified claims; nil unless err is nil
	claimed  string // the userid the token claims, verified or not
	hasClaim bool
	err      error // nil or an *InvalidTokenError
}

// verify runs every check on a raw compact JWS, in an order that reports a
// bad signature before anything its payload says: size, structure and
// algorithm, header, signature, payload, then the claims. The claimed userid
// is read from any token whose payload decodes.
func (p *JWT) verify(raw string) verdict {
	if len(raw) > p.cfg.MaxTokenBytes {
		return verdict{err: invalid(ErrTokenTooLarge, nil)}
	}
	sigCanonical, err := canonicalSegments(raw)
	if err != nil {
		return verdict{err: invalid(ErrMalformedToken, err)}
	}
	jws, err := jose.ParseSignedCompact(raw, p.algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return verdict{err: invalid(ErrAlgorithmNotAllowed, err)}
		}
		return verdict{err: invalid(ErrMalformedToken, err)}
	}
	if err := checkHeader(jws.Signatures[0].Header); err != nil {
		return verdict{err: invalid(ErrUnsupportedTokenType, err)}
	}

	var payload []byte
	var sigErr error
	switch {
	case p.cfg.DisableVerifySignature:
		payload = jws.UnsafePayloadWithoutVerification()
	case !sigCanonical:
		// Another spelling of a signature is not the signature.
		sigErr = invalid(ErrInvalidSignature, errors.New("non-canonical base64url"))
	case p.verifyKey == nil:
		sigErr = invalid(ErrNoKey, nil)
	default:
		payload, err = jws.Verify(p.verifyKey)
		if err != nil {
			sigErr = invalid(ErrInvalidSignature, nil)
		}
	}
	if sigErr != nil {
		// The original still reads the claimed userid of a token whose
		// signature fails; its claims are never handed out as verified.
		v := verdict{err: sigErr}
		if c, err := decodeClaims(jws.UnsafePayloadWithoutVerification()); err == nil {
			v.claimed, v.hasClaim = c.String(p.cfg.UserIDClaim)
		}
		return v
	}

	claims, err := decodeClaims(payload)
	if err != nil {
		return verdict{err: invalid(ErrMalformedClaims, err)}
	}
	v := verdict{}
	v.claimed, v.hasClaim = claims.String(p.cfg.UserIDClaim)
	if err := p.validateClaims(claims); err != nil {
		v.err = err
		return v
	}
	if _, present := claims[p.cfg.UserIDClaim]; !present {
		v.err = invalid(ErrMissingUserID, fmt.Errorf("no claim %q", p.cfg.UserIDClaim))
		return v
	}
	if !v.hasClaim {
		v.err = invalid(ErrInvalidUserIDClaim, fmt.Errorf("claim %q", p.cfg.UserIDClaim))
		return v
	}
	v.claims = claims
	return v
}

// checkHeader refuses what a plain signed JWT never needs: nested tokens and
// critical extensions (which no part of this verifier understands).
func checkHeader(h jose.Header) error {
	if cty, _ := h.ExtraHeaders[jose.HeaderContentType].(string); cty == "JWT" || cty == "jwt" {
		return errors.New("nested JWT (cty JWT) is not accepted")
	}
	for _, name := range []jose.HeaderKey{"crit", "b64"} {
		if _, ok := h.ExtraHeaders[name]; ok {
			return fmt.Errorf("header %q is not accepted", name)
		}
	}
	return nil
}

// validateClaims is the claims step, separate from the signature: exp, nbf
// and iat against the clock with the leeway, then aud and iss. Each
// disable_verify_* switch skips one check. Times are compared as float
// seconds, so huge values cannot overflow.
func (p *JWT) validateClaims(c Claims) error {
	now := float64(p.cfg.Now().UnixNano()) / 1e9
	leeway := p.cfg.Leeway.Seconds()

	exp, hasExp, err := c.numericDate("exp")
	if err != nil {
		return invalid(ErrMalformedClaims, err)
	}
	nbf, hasNbf, err := c.numericDate("nbf")
	if err != nil {
		return invalid(ErrMalformedClaims, err)
	}
	iat, hasIat, err := c.numericDate("iat")
	if err != nil {
		return invalid(ErrMalformedClaims, err)
	}
	if hasExp && !p.cfg.DisableVerifyExp && now >= exp+leeway {
		return invalid(ErrTokenExpired, nil)
	}
	if hasNbf && !p.cfg.DisableVerifyNbf && now+leeway < nbf {
		return invalid(ErrTokenNotYetValid, nil)
	}
	if hasIat && !p.cfg.DisableVerifyIat && now+leeway < math.Floor(iat) {
		return invalid(ErrTokenIssuedInFuture, nil)
	}

	if !p.cfg.DisableVerifyAud {
		if err := p.checkAudience(c); err != nil {
			return err
		}
	}
	if p.cfg.Issuer != "" {
		if iss, _ := c.String("iss"); iss != p.cfg.Issuer {
			return invalid(ErrInvalidIssuer, nil)
		}
	}
	return nil
}

// checkAudience: with no audience configured, a token that names one is
// meant for someone else; with audiences configured, the token must name
// one of them.
func (p *JWT) checkAudience(c Claims) error {
	_, present := c["aud"]
	if !present {
		if len(p.cfg.Audience) == 0 {
			return nil
		}
		return invalid(ErrInvalidAudience, errors.New("the token names no audience"))
	}
	aud, ok := c.Strings("aud")
	if !ok {
		return invalid(ErrMalformedClaims, errors.New(`claim "aud" is neither a string nor an array of strings`))
	}
	if len(p.cfg.Audience) == 0 {
		return invalid(ErrInvalidAudience, errors.New("the token names an audience and none is configured"))
	}
	for _, a := range aud {
		if slices.Contains(p.cfg.Audience, a) {
			return nil
		}
	}
	return invalid(ErrInvalidAudience, nil)
}

// canonicalSegments checks that raw is three segments of canonical
// unpadded base64url: only the alphabet (Go's decoder would skip line
// breaks), no impossible length, and zero trailing bits, so that no token
// has two spellings. A header or payload that fails is an error; a
// signature that fails is reported by sigOK, for the signature step.
func canonicalSegments(raw string) (sigOK bool, err error) {
	segment, start := 0, 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '.' {
			if !isBase64URL(raw[i]) {
				return false, errors.New("a character outside base64url")
			}
			continue
		}
		if segment == 2 && i < len(raw) {
			return false, errors.New("more than three segments")
		}
		ok := canonicalTail(raw[start:i])
		if !ok && segment < 2 {
			return false, errors.New("non-canonical base64url")
		}
		sigOK = ok
		segment, start = segment+1, i+1
	}
	if segment != 3 {
		return false, errors.New("fewer than three segments")
	}
	return sigOK, nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// canonicalTail reports whether the unpadded base64url s has a possible
// length and no bits set past its last byte.
func canonicalTail(s string) bool {
	if len(s) == 0 {
		return true
	}
	last := strings.IndexByte(base64URLAlphabet, s[len(s)-1])
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
