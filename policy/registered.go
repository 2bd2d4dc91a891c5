package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// registered are the claims a verifier decides by, read from the payload
// without building the others (the map of every claim is built only when
// someone asks for it: claimSet). The payload is still read whole, as
// strictly as decodeClaims reads it, so that a payload either decodes to
// the same claims for every reader or is refused.
type registered struct {
	// userID is the userid claim (Config.UserIDClaim) when it is a string
	// (hasUserID); hasUserIDClaim tells whether the claim is there at all.
	userID                    string
	hasUserID, hasUserIDClaim bool
	// iss and jti, when they are strings ("" otherwise).
	iss, jti string
	// aud: hasAud tells whether there is one, audOK whether it is a string
	// (aud1) or an array of strings (auds, audArray).
	aud1                    string
	auds                    []string
	hasAud, audOK, audArray bool
	times                   tokenTimes
	timeErrs                [3]timeError // of exp, nbf, iat
	other                   Claims       // the members other checks read as decoded JSON
}

// The roles of a member: which fields of registered it fills.
const (
	roleUserID = 1 << iota
	roleIss
	roleJti
	roleAud
	roleExp
	roleNbf
	roleIat
	// roleOther: decoded as decodeClaims decodes it, into other, for the
	// checks that read a Claims (cnf, the scopes, the profile's claims).
	roleOther
)

// timeError is what is wrong with a NumericDate claim.
type timeError uint8

const (
	timeOK timeError = iota
	timeNotNumber
	timeOutOfRange
)

var timeNames = [3]string{"exp", "nbf", "iat"}

// roles are the roles of the member name, for this verifier.
func (v *Verifier) roles(name []byte) (r int) {
	switch string(name) {
	case "iss":
		r = roleIss
	case "jti":
		r = roleJti
	case "aud":
		r = roleAud
	case "exp":
		r = roleExp
	case "nbf":
		r = roleNbf
	case "iat":
		r = roleIat
	case confirmationClaim:
		r = roleOther
	case scopeClaim, scpClaim:
		if v.cfg.ScopePrincipals {
			r = roleOther
		}
	}
	if v.cfg.Profile == ProfileRFC9068 {
		for _, rc := range rfc9068Claims {
			if string(name) == rc.name {
				r |= roleOther
			}
		}
	}
	if string(name) == v.cfg.UserIDClaim {
		r |= roleUserID
	}
	return r
}

// decodeRegistered reads payload into c, as strictly as decodeClaims:
// its error is the one decodeClaims would return.
func (v *Verifier) decodeRegistered(payload []byte, c *registered) error {
	return strictjson.Members(payload, func(name []byte, d *jsontext.Decoder) error {
		roles := v.roles(name)
		if roles == 0 {
			return d.SkipValue()
		}
		if roles&roleOther != 0 {
			val, err := strictjson.ReadValue(d)
			if err != nil {
				return err
			}
			if c.other == nil {
				c.other = Claims{}
			}
			c.other[string(name)] = val
			c.setValue(roles, val)
			return nil
		}
		switch d.PeekKind() {
		case '"':
			tok, err := d.ReadToken()
			if err != nil {
				return err
			}
			c.setString(roles, tok.String())
		case '0':
			num, err := d.ReadValue()
			if err != nil {
				return err
			}
			c.setNumber(roles, num)
		case '[':
			if roles&roleAud == 0 {
				c.setOther(roles)
				return d.SkipValue()
			}
			if _, err := d.ReadToken(); err != nil {
				return err
			}
			var auds []string
			allStrings := true
			for d.PeekKind() != ']' {
				if d.PeekKind() != '"' {
					allStrings = false
					if err := d.SkipValue(); err != nil {
						return err
					}
					continue
				}
				tok, err := d.ReadToken()
				if err != nil {
					return err
				}
				auds = append(auds, tok.String())
			}
			if _, err := d.ReadToken(); err != nil {
				return err
			}
			c.setArray(roles, auds, allStrings)
		default:
			c.setOther(roles)
			return d.SkipValue()
		}
		return nil
	})
}

// setValue fills the roles of a member decoded as decodeClaims decodes it.
func (c *registered) setValue(roles int, v any) {
	switch v := v.(type) {
	case string:
		c.setString(roles, v)
	case json.Number:
		c.setNumber(roles, []byte(v))
	case []any:
		auds := make([]string, 0, len(v))
		allStrings := true
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				allStrings = false
				continue
			}
			auds = append(auds, s)
		}
		c.setArray(roles, auds, allStrings)
	default:
		c.setOther(roles)
	}
}

func (c *registered) setString(roles int, s string) {
	if roles&roleUserID != 0 {
		c.userID, c.hasUserID, c.hasUserIDClaim = s, true, true
	}
	if roles&roleIss != 0 {
		c.iss = s
	}
	if roles&roleJti != 0 {
		c.jti = s
	}
	if roles&roleAud != 0 {
		c.aud1, c.hasAud, c.audOK = s, true, true
	}
	c.setTimes(roles, timeNotNumber, 0)
}

func (c *registered) setNumber(roles int, num []byte) {
	c.setOther(roles &^ (roleExp | roleNbf | roleIat))
	if roles&(roleExp|roleNbf|roleIat) == 0 {
		return
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || math.IsInf(f, 0) {
		c.setTimes(roles, timeOutOfRange, 0)
		return
	}
	c.setTimes(roles, timeOK, f)
}

func (c *registered) setArray(roles int, auds []string, allStrings bool) {
	if roles&roleAud != 0 {
		c.auds, c.hasAud, c.audOK, c.audArray = auds, true, allStrings, true
		roles &^= roleAud
	}
	c.setOther(roles)
}

// setOther fills the roles of a member of a type none of them takes.
func (c *registered) setOther(roles int) {
	if roles&roleUserID != 0 {
		c.hasUserIDClaim = true
	}
	if roles&roleAud != 0 {
		c.hasAud = true
	}
	c.setTimes(roles, timeNotNumber, 0)
}

func (c *registered) setTimes(roles int, e timeError, f float64) {
	if roles&roleExp != 0 {
		c.times.exp, c.times.hasExp, c.timeErrs[0] = f, true, e
	}
	if roles&roleNbf != 0 {
		c.times.nbf, c.times.hasNbf, c.timeErrs[1] = f, true, e
	}
	if roles&roleIat != 0 {
		c.times.iat, c.times.hasIat, c.timeErrs[2] = f, true, e
	}
}

// timesErr is readTimes's error for c: of exp, nbf, then iat.
func (c *registered) timesErr() error {
	for i, e := range c.timeErrs {
		switch e {
		case timeNotNumber:
			return invalid(ErrMalformedClaims, fmt.Errorf("claim %q is not a number", timeNames[i]))
		case timeOutOfRange:
			return invalid(ErrMalformedClaims, fmt.Errorf("claim %q is out of range", timeNames[i]))
		}
	}
	return nil
}

// audience tells whether aud, a string or an array of strings, holds one
// of want.
func (c *registered) audience(want []string) bool {
	if !c.audArray {
		return slices.Contains(want, c.aud1)
	}
	for _, a := range c.auds {
		if slices.Contains(want, a) {
			return true
		}
	}
	return false
}
