package keyset

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// maxKeys bounds the keys read from one set; the rest are skipped.
const maxKeys = 100

// skipped is a key left out of a set, and why; reason holds no key
// material.
type skipped struct {
	kid    string
	reason string
}

// jwkMeta is what is read of a JWK before go-jose parses it, to refuse
// symmetric and private keys early. encoding/json matches member names
// regardless of case (go-jose does not), so it errs towards refusing; the
// kid that counts is the one go-jose reads.
type jwkMeta struct {
	Kid  string          `json:"kid"`
	Kty  string          `json:"kty"`
	K    json.RawMessage `json:"k"`
	D    json.RawMessage `json:"d"`
	P    json.RawMessage `json:"p"`
	Q    json.RawMessage `json:"q"`
	Dp   json.RawMessage `json:"dp"`
	Dq   json.RawMessage `json:"dq"`
	Qi   json.RawMessage `json:"qi"`
	Priv json.RawMessage `json:"priv"`
}

func (m *jwkMeta) private() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.Dp != nil || m.Dq != nil || m.Qi != nil || m.Priv != nil
}

// parseSet reads a JSON Web Key Set, keeping the keys it can use: each with
// one algorithm of algs, for signatures only (use, key_ops), asymmetric and
// strong enough (policy.KeyFromJWK). Two keys with one kid are both
// skipped. A key without alg gets the one algorithm of algs that suits its
// type, and is skipped when none or several do. A private key is skipped
// unless allowPrivate, when its public half is kept. A set without a usable
// key is an error.
func parseSet(body []byte, algs []string, allowPrivate bool) ([]policy.Key, []skipped, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil {
		return nil, nil, errors.New("not a JSON Web Key Set")
	}
	var skips []skipped
	if len(set.Keys) > maxKeys {
		skips = append(skips, skipped{reason: fmt.Sprintf("the set holds %d keys; all after the first %d are skipped", len(set.Keys), maxKeys)})
		set.Keys = set.Keys[:maxKeys]
	}
	var keys []policy.Key
	perKid := map[string]int{}
	for _, raw := range set.Keys {
		var m jwkMeta
		if json.Unmarshal(raw, &m) != nil {
			skips = append(skips, skipped{reason: "not a JSON Web Key"})
			continue
		}
		k, err := parseKey(raw, &m, algs, allowPrivate)
		if err != nil {
			skips = append(skips, skipped{m.Kid, err.Error()})
			continue
		}
		keys = append(keys, k)
		perKid[k.ID]++
	}
	// Two keys with one kid (as go-jose read it) are both skipped: which
	// of them a token means cannot be told.
	keys = slices.DeleteFunc(keys, func(k policy.Key) bool {
		if k.ID != "" && perKid[k.ID] > 1 {
			skips = append(skips, skipped{k.ID, "another key of the set has the same kid; both are skipped"})
			return true
		}
		return false
	})
	if len(keys) == 0 {
		return nil, skips, fmt.Errorf("the key set holds no usable key (%d skipped)", len(skips))
	}
	return keys, skips, nil
}

// parseKey reads one JWK into a policy.Key.
func parseKey(raw json.RawMessage, m *jwkMeta, algs []string, allowPrivate bool) (policy.Key, error) {
	if strings.EqualFold(m.Kty, "oct") || m.K != nil {
		return policy.Key{}, errors.New("a symmetric (oct) key is never accepted in a key set")
	}
	if m.private() && !allowPrivate {
		return policy.Key{}, errors.New("the key holds private parameters: published, it lets anyone sign")
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return policy.Key{}, errors.New("not a JSON Web Key of a supported type")
	}
	defaultAlg := ""
	if jwk.Algorithm == "" {
		pub := jwk.Public().Key
		fits := slices.DeleteFunc(slices.Clone(algs), func(a string) bool {
			return policy.Key{Algorithm: a, Material: pub}.Check() != nil
		})
		switch len(fits) {
		case 0:
			return policy.Key{}, errors.New("the key names no alg, and no allowed algorithm suits it")
		case 1:
			defaultAlg = fits[0]
		default:
			return policy.Key{}, fmt.Errorf("the key names no alg, and several allowed algorithms suit it (%s)", strings.Join(fits, ", "))
		}
	}
	k, err := policy.KeyFromJWK(raw, defaultAlg, false)
	if err != nil {
		return policy.Key{}, err
	}
	if !slices.Contains(algs, k.Algorithm) {
		return policy.Key{}, fmt.Errorf("the key's alg %s is not allowed", k.Algorithm)
	}
	return k, nil
}
