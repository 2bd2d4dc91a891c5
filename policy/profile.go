package policy

import (
	"errors"
	"strings"
)

// Profile is a profile of access tokens that a policy holds its tokens to
// (Config.Profile): what a token must carry beyond what the other settings
// check.
type Profile string

// The profiles.
const (
	// ProfileNone, the default, holds tokens to the other settings alone.
	ProfileNone Profile = ""
	// ProfileRFC9068 holds tokens to RFC 9068's JWT profile for OAuth 2.0
	// access tokens (section 2): the typ header at+jwt (or
	// application/at+jwt, in any case), and the claims iss, exp, aud, sub,
	// client_id, iat and jti, with their JSON types (iss, sub, client_id
	// and jti strings; exp and iat numbers; aud a string or an array of
	// strings). A token that lacks one is invalid credentials naming it
	// (ErrMissingClaim), one of the wrong type too (ErrInvalidClaim), and
	// a wrong typ is ErrWrongTokenType. It needs Audience, and Issuer
	// unless every key set is bound to an issuer (KeySets whose Issuer is
	// not "", or an IssuerResolver), since section 4 requires iss to match
	// the authorization server's exactly. It cannot be combined with
	// DisableVerifyExp, DisableVerifyAud or DisableVerifySignature, nor
	// with a TokenType other than at+jwt (section 4's checks are not to be
	// turned off).
	ProfileRFC9068 Profile = "rfc9068"
)

// rfc9068Type is the typ of RFC 9068 section 2.1, without "application/".
const rfc9068Type = "at+jwt"

// rfc9068Claims are the claims RFC 9068 section 2.2 requires, in its
// order, each with whether it is a string (the others are exp and iat,
// NumericDates, and aud, a string or an array of strings).
var rfc9068Claims = []struct {
	name     string
	isString bool
}{
	{"iss", true}, {"exp", false}, {"aud", false}, {"sub", true}, {"client_id", true}, {"iat", false}, {"jti", true},
}

// checkProfile checks the profile settings of cfg, and sets the typ it
// requires as cfg.TokenType when none is set.
func checkProfile(cfg *Config) error {
	switch cfg.Profile {
	case ProfileNone:
		return nil
	case ProfileRFC9068:
	default:
		return configErr("profile", "%q is not a profile (the profile is %s, or none)", string(cfg.Profile), ProfileRFC9068)
	}
	const with = "cannot be combined with profile = rfc9068"
	switch {
	case cfg.TokenType != "" && !strings.EqualFold(mediaType(cfg.TokenType), rfc9068Type):
		return configErr("token_type", "%q %s, which requires the typ at+jwt (leave token_type unset)", cfg.TokenType, with)
	case cfg.DisableVerifyExp:
		return configErr("disable_verify_exp", "%s, which requires exp to be verified", with)
	case cfg.DisableVerifyAud:
		return configErr("disable_verify_aud", "%s, which requires aud to be verified", with)
	case cfg.DisableVerifySignature:
		return configErr("disable_verify_signature", "%s, which requires the signature to be verified", with)
	case len(cfg.Audience) == 0:
		return configErr("audience", "required by profile = rfc9068: a token's aud must name this resource server, and a token without aud is refused")
	case cfg.Issuer == "" && !issuerBound(cfg):
		return configErr("issuer", "required by profile = rfc9068, whose section 4 requires a token's iss to match its authorization server's issuer exactly, unless every key set is bound to its issuer (oidc_issuer; jwks_file or jwks_url with issuer; an issuer resolver)")
	}
	if cfg.TokenType == "" {
		cfg.TokenType = rfc9068Type
	}
	return nil
}

// issuerBound tells whether cfg verifies every token with a key set bound
// to one issuer, which refuses a token whose iss is not that issuer's
// exactly: cfg has key sets or an issuer resolver (whose sets are bound
// to the iss they were resolved for), and no set for any issuer. The
// static keys of MasterSecret, PublicKey and PrivateKey are bound to none.
func issuerBound(cfg *Config) bool {
	if len(cfg.KeySets) == 0 && cfg.IssuerResolver == nil {
		return false
	}
	for _, s := range cfg.KeySets {
		if s.Issuer() == "" {
			return false
		}
	}
	return true
}

// checkProfileClaims holds a token's claims to the profile: each claim it
// requires is present, of its JSON type. The types of exp and iat were
// checked already (readTimes), and aud's is checked with it (checkAudience,
// which the profile keeps on).
func (v *Verifier) checkProfileClaims(c Claims) error {
	if v.cfg.Profile != ProfileRFC9068 {
		return nil
	}
	for _, rc := range rfc9068Claims {
		value, present := c[rc.name]
		if !present {
			return claimInvalid(rc.name, ErrMissingClaim, nil)
		}
		if _, isString := value.(string); rc.isString && !isString {
			return claimInvalid(rc.name, ErrInvalidClaim, errors.New("not a string ("+jsonKind(value)+")"))
		}
	}
	return nil
}
