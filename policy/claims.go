package policy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// Claims are a token's claims as decoded JSON: numbers are json.Number,
// objects map[string]any, arrays []any.
type Claims map[string]any

// Clone returns a deep copy of c: its objects and arrays are new, so that
// changing the copy changes nothing else (strings and numbers are values).
func (c Claims) Clone() Claims {
	if c == nil {
		return nil
	}
	return Claims(cloneJSON(map[string]any(c)).(map[string]any))
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = cloneJSON(e)
		}
		return s
	}
	return v
}

// String returns the claim name when it is a JSON string.
func (c Claims) String(name string) (string, bool) {
	s, ok := c[name].(string)
	return s, ok
}

// Strings returns the claim name when it is a JSON string or an array of
// strings (as "aud" may be); ok is false for any other value.
func (c Claims) Strings(name string) (values []string, ok bool) {
	switch v := c[name].(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, isString := e.(string)
			if !isString {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// claimSet is a verified token's claims: its payload, decoded on first
// use and then kept. The verified-token cache holds one per token, so that
// a token whose claims nobody asks for costs the cache no map whose every
// key and value the garbage collector would trace on each cycle, and no
// copy of its payload either: a cached set decodes it from the token, the
// cache's key, when first asked.
type claimSet struct {
	raw    string // the token
	claims atomic.Pointer[Claims]
	// payload is the token's payload as its verification decoded it,
	// kept for the request that verified it (newClaimSet); nil in the
	// cache's sets, which are the smaller for it.
	payload *[]byte
}

// newClaimSet is the claim set of raw for the request that verified it,
// with the payload its verification decoded: one allocation holds both.
func newClaimSet(raw string, payload []byte) *claimSet {
	s := &struct {
		set     claimSet
		payload []byte
	}{claimSet{raw: raw}, payload}
	s.set.payload = &s.payload
	return &s.set
}

// payloadBytes returns the payload the token's signature covers.
func (c *claimSet) payloadBytes() []byte {
	if c.payload != nil {
		return *c.payload // not decoded twice in one request
	}
	// The token verified, so it is three segments of canonical base64url.
	first, last := strings.IndexByte(c.raw, '.'), strings.LastIndexByte(c.raw, '.')
	p, _ := base64.RawURLEncoding.DecodeString(c.raw[first+1 : last])
	return p
}

// errClaimsUndecodable is the error of a claim set whose payload the
// full decode refuses although decodeRegistered accepted it when its token
// was verified.
var errClaimsUndecodable = errors.New("jwtauth: the verified claims do not decode")

// decodeLazily is the full decode of a claim set: decodeClaims. (A test
// replaces it, to make it disagree with decodeRegistered.)
var decodeLazily = decodeClaims

// getErr returns the claims (shared: not to be modified); nil and no
// error for no set. The payload decoded when its token was verified
// (decodeRegistered, which FuzzDecodeRegistered holds to decodeClaims's
// answer), so the error should never be; should the two decoders ever
// disagree, it matches errClaimsUndecodable, and the caller must fail
// safe: nil claims are not "no claims" there (a rule "deny if claim X is
// present" would pass them).
func (c *claimSet) getErr() (Claims, error) {
	if c == nil {
		return nil, nil
	}
	if p := c.claims.Load(); p != nil {
		return *p, nil
	}
	claims, err := decodeLazily(c.payloadBytes())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errClaimsUndecodable, err)
	}
	c.claims.CompareAndSwap(nil, &claims)
	return *c.claims.Load(), nil
}

// decodeClaims reads a JWT payload strictly: one JSON object and nothing
// after it, without duplicate member names at any depth, invalid UTF-8 or
// lone surrogate escapes, each of which lets two readers of the same
// token see two sets of claims (a parser differential).
func decodeClaims(payload []byte) (Claims, error) {
	return strictjson.DecodeObject(payload)
}

// numericDate reads the claim name as an RFC 7519 NumericDate: a JSON number
// of seconds since the epoch, fractions allowed. present is false when the
// claim is absent. Any other JSON type, or a number too large for a float64,
// is an error; the float keeps huge values from overflowing.
func (c Claims) numericDate(name string) (seconds float64, present bool, err error) {
	v, present := c[name]
	if !present {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, true, fmt.Errorf("claim %q is not a number", name)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, true, fmt.Errorf("claim %q is out of range", name)
	}
	return f, true, nil
}

// jsonObject encodes claims, which must encode as a JSON object.
func jsonObject(claims any) ([]byte, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: cannot encode claims: %w", err)
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("jwtauth: claims must encode as a JSON object")
	}
	return b, nil
}

// readTimes reads exp, nbf and iat as NumericDates: JSON numbers only.
func readTimes(c Claims) (t tokenTimes, err error) {
	if t.exp, t.hasExp, err = c.numericDate("exp"); err != nil {
		return t, invalid(ErrMalformedClaims, err)
	}
	if t.nbf, t.hasNbf, err = c.numericDate("nbf"); err != nil {
		return t, invalid(ErrMalformedClaims, err)
	}
	if t.iat, t.hasIat, err = c.numericDate("iat"); err != nil {
		return t, invalid(ErrMalformedClaims, err)
	}
	return t, nil
}
