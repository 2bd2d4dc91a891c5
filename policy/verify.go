package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/jws"
)

// VerifiedToken is what verifying one token found.
type VerifiedToken struct {
	// UserID is the userid the token claims (its userid claim), read from
	// any token whose payload decodes, verified or not; HasUserID tells
	// whether it claims one. It is verified only when Err is nil.
	UserID    string
	HasUserID bool
	// Err is nil for a token that verified, or an *InvalidTokenError
	// (matching ErrInvalidCredentials and the reason).
	Err error

	claims *claimSet // the verified claims; nil unless Err is nil
	// scopes are the principals of the token's scopes, with
	// Config.ScopePrincipals (scopePrincipals); nil without.
	scopes []string
	// jkt is the token's cnf.jkt, the thumbprint of the DPoP key it is
	// bound to ("" for an unbound token), read once (confirmationKey).
	jkt string
	// jti and the times of a verified token, for its revocation check.
	jti   string
	times tokenTimes
	// unchecked: the revocation store could not be asked, and the policy
	// fails open; such a token is never re-issued.
	unchecked bool
	// notRevoked: the record of a cached token's revocation check.
	notRevoked *atomic.Uint64
}

// Claims returns a copy of the token's verified claims, decoded when first
// asked for; nil when it failed, and nil when they do not decode in full
// (see Identity.Claims).
func (t VerifiedToken) Claims() Claims {
	claims, err := t.claims.getErr()
	if err != nil {
		return nil
	}
	return claims.Clone()
}

// Verify runs every check on the raw compact JWS, in an order that reports
// a bad signature before anything its payload says: size, structure and
// algorithm, header, signature, payload, then the claims. A token verified
// before under the same keys is answered from the cache, its times checked
// again.
func (v *Verifier) Verify(ctx context.Context, raw string) VerifiedToken {
	return v.verify(ctx, raw, true)
}

// verify is Verify; lookUp is false when the caller looked the token up in
// the cache already (Known). A token that verifies, from the cache or not,
// is then held to the revocation store, if any.
func (v *Verifier) verify(ctx context.Context, raw string, lookUp bool) VerifiedToken {
	return v.notRevoked(ctx, v.verifyToken(ctx, raw, lookUp))
}

// verifyToken is verify before the revocation check.
func (v *Verifier) verifyToken(ctx context.Context, raw string, lookUp bool) VerifiedToken {
	if len(raw) > v.cfg.MaxTokenBytes {
		return VerifiedToken{Err: invalid(ErrTokenTooLarge, nil)}
	}
	if lookUp {
		if t, ok := v.cached(raw); ok {
			return t
		}
	}
	token, sigCanonical, err := parseJWS(raw, v.algs, &v.headers)
	if err != nil {
		return VerifiedToken{Err: err}
	}
	if err := v.checkType(token.Signatures[0].Header); err != nil {
		return VerifiedToken{Err: err}
	}

	// The claims are decoded once, before the signature is checked: the
	// bytes the signature covers are the same, and even a token whose
	// signature fails names its user (as in the original) and, with key
	// sets, its issuer. Only the claims the checks read are decoded (the
	// whole payload is held to the strict rules all the same); the map of
	// all of them is built when someone asks for it.
	payload := token.UnsafePayloadWithoutVerification()
	var claims registered
	decodeErr := v.decodeRegistered(payload, &claims)
	var used keysUsed
	switch {
	case v.cfg.DisableVerifySignature:
	case !sigCanonical:
		// Another spelling of a signature is not the signature.
		err = invalid(ErrInvalidSignature, errors.New("non-canonical base64url"))
	default:
		var keys []Key
		if keys, used, err = v.tokenKeys(ctx, token, &claims, decodeErr); err == nil {
			err = verifySignature(token, raw, keys)
		}
	}
	if err != nil {
		// Its claims are never handed out as verified.
		t := VerifiedToken{Err: err}
		if decodeErr == nil {
			t.UserID, t.HasUserID = claims.userID, claims.hasUserID
		}
		return t
	}
	if decodeErr != nil {
		return VerifiedToken{Err: invalid(ErrMalformedClaims, decodeErr)}
	}
	t := VerifiedToken{}
	t.UserID, t.HasUserID = claims.userID, claims.hasUserID
	times, err := v.validateClaims(&claims)
	if err != nil {
		t.Err = err
		return t
	}
	if !claims.hasUserIDClaim {
		t.Err = invalid(ErrMissingUserID, fmt.Errorf("no claim %q", v.cfg.UserIDClaim))
		return t
	}
	if !t.HasUserID {
		t.Err = invalid(ErrInvalidUserIDClaim, fmt.Errorf("claim %q", v.cfg.UserIDClaim))
		return t
	}
	if v.cfg.ScopePrincipals {
		if t.scopes, err = scopePrincipals(claims.other); err != nil {
			t.Err = err
			return t
		}
	}
	if t.jkt, err = confirmationKey(claims.other); err != nil {
		t.Err = err
		return t
	}
	t.claims = newClaimSet(raw, payload)
	t.jti = RevocationID(claims.iss, claims.jti)
	t.times = times
	t.notRevoked = v.remember(raw, t, times, used)
	return t
}

// tokenKeys returns the keys that may verify jws, those of the key set its
// (as yet unverified) iss picks (the static keys for any iss), and the set
// they come from.
func (v *Verifier) tokenKeys(ctx context.Context, token *jose.JSONWebSignature, claims *registered, decodeErr error) ([]Key, keysUsed, error) {
	var iss string
	if decodeErr == nil {
		iss = claims.iss
	} else if !v.keys.staticOnly {
		// Without its iss, no key set can be picked.
		return nil, keysUsed{}, invalid(ErrMalformedClaims, decodeErr)
	}
	return v.keysFor(ctx, iss, token.Signatures[0].Header.KeyID)
}

// parseJWS is the structural step (jws.Parse): raw must be a compact JWS
// in canonical base64url, of an allowed algorithm, with a header this
// verifier accepts. sigCanonical tells whether the signature segment is
// canonical, for the signature step.
func parseJWS(raw string, algs []jose.SignatureAlgorithm, headers *jws.HeaderMemo) (*jose.JSONWebSignature, bool, error) {
	parsed, sigCanonical, err := jws.Parse(raw, algs, headers)
	if err != nil {
		return nil, false, jwsInvalid(err)
	}
	return parsed, sigCanonical, nil
}

// jwsInvalid is the invalid-credentials error of an error of the jws
// steps: its kind gives the reason, its detail the cause.
func jwsInvalid(err error) *InvalidTokenError {
	reason := ErrMalformedToken
	switch {
	case errors.Is(err, jws.ErrAlgorithm):
		reason = ErrAlgorithmNotAllowed
	case errors.Is(err, jws.ErrHeader):
		reason = ErrUnsupportedTokenType
	}
	return invalid(reason, jws.Detail(err))
}

// checkType holds the token's typ header to the token_type setting, when
// there is one.
func (v *Verifier) checkType(h jose.Header) error {
	if v.cfg.TokenType == "" {
		return nil
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(mediaType(typ), mediaType(v.cfg.TokenType)) {
		return invalid(ErrWrongTokenType, fmt.Errorf("typ %q", typ))
	}
	return nil
}

// mediaType drops the "application/" that RFC 7515 section 4.1.9 lets a
// typ leave out.
func mediaType(t string) string {
	if len(t) > len("application/") && strings.EqualFold(t[:len("application/")], "application/") {
		return t[len("application/"):]
	}
	return t
}

// verifySignature is the signature step: the keys bound to the token's
// algorithm are chosen, by kid when the token names one (a set with no key
// of that kid falls back to its keys without a kid), and by being the only
// one when it names none; jws.Verify checks the signature with each in
// turn (an RSA-PSS signature with a salt as long as the hash).
func verifySignature(token *jose.JSONWebSignature, raw string, keys []Key) error {
	h := token.Signatures[0].Header
	// One pass counts the keys of each kind, without copying any; the
	// candidates are then the keys of one kind, in the set's order.
	var byAlg, byKid, noKid int
	for i := range keys {
		k := &keys[i]
		if k.Algorithm != h.Algorithm {
			continue
		}
		byAlg++
		switch {
		case k.ID == "":
			noKid++
		case k.ID == h.KeyID:
			byKid++
		}
	}
	kind := candidateAll
	n := byAlg
	switch {
	case h.KeyID != "" && byKid > 0:
		kind, n = candidateByKid, byKid
	case h.KeyID != "":
		kind, n = candidateNoKid, noKid
	case byAlg > 1:
		return invalid(ErrNoKey, fmt.Errorf("the token names no kid and %d keys fit", byAlg))
	}
	if n == 0 {
		return invalid(ErrNoKey, nil)
	}
	for i := range keys {
		k := &keys[i]
		if k.Algorithm != h.Algorithm ||
			kind == candidateByKid && (k.ID == "" || k.ID != h.KeyID) ||
			kind == candidateNoKid && k.ID != "" {
			continue
		}
		if _, err := jws.Verify(token, raw, k.verifying(), k.Algorithm); err == nil {
			return nil
		}
	}
	return invalid(ErrInvalidSignature, nil)
}

// The kinds of candidate keys of verifySignature.
const (
	candidateAll = iota
	candidateByKid
	candidateNoKid
)

// tokenTimes are a token's exp, nbf and iat, read once.
type tokenTimes struct {
	exp, nbf, iat          float64
	hasExp, hasNbf, hasIat bool
}

// checkTimes holds a token's times against the clock, with the leeway.
// Times are compared as float seconds, so huge values cannot overflow.
func (v *Verifier) checkTimes(t tokenTimes) error {
	now := float64(v.cfg.Now().UnixNano()) / 1e9
	leeway := v.cfg.Leeway.Seconds()
	switch {
	case t.hasExp && !v.cfg.DisableVerifyExp && now >= t.exp+leeway:
		return invalid(ErrTokenExpired, nil)
	case t.hasNbf && !v.cfg.DisableVerifyNbf && now+leeway < t.nbf:
		return invalid(ErrTokenNotYetValid, nil)
	case t.hasIat && !v.cfg.DisableVerifyIat && now+leeway < math.Floor(t.iat):
		return invalid(ErrTokenIssuedInFuture, nil)
	}
	return nil
}

// validateClaims is the claims step, separate from the signature: the
// types of exp, nbf and iat, the claims of Config.Profile, exp, nbf and
// iat against the clock with the leeway, then aud and iss. Each
// disable_verify_* switch skips one check (the types of exp, nbf and iat
// are checked always; disable_verify_aud skips aud whatever it holds).
func (v *Verifier) validateClaims(c *registered) (tokenTimes, error) {
	t := c.times
	if err := c.timesErr(); err != nil {
		return t, err
	}
	if err := v.checkProfileClaims(c.other); err != nil {
		return t, err
	}
	if err := v.checkTimes(t); err != nil {
		return t, err
	}
	if !v.cfg.DisableVerifyAud {
		if err := v.checkAudience(c); err != nil {
			return t, err
		}
	}
	if v.cfg.Issuer != "" && c.iss != v.cfg.Issuer {
		return t, invalid(ErrInvalidIssuer, nil)
	}
	return t, nil
}

// checkAudience: with no audience configured, a token that names one is
// meant for someone else; with audiences configured, the token must name
// one of them.
func (v *Verifier) checkAudience(c *registered) error {
	if !c.hasAud {
		if len(v.cfg.Audience) == 0 {
			return nil
		}
		return invalid(ErrInvalidAudience, errors.New("the token names no audience"))
	}
	if !c.audOK {
		return invalid(ErrMalformedClaims, errors.New(`claim "aud" is neither a string nor an array of strings`))
	}
	if len(v.cfg.Audience) == 0 {
		return invalid(ErrInvalidAudience, errors.New("the token names an audience and none is configured"))
	}
	if c.audience(v.cfg.Audience) {
		return nil
	}
	return invalid(ErrInvalidAudience, nil)
}
