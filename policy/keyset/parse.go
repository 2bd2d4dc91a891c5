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

// MaxKeys bounds the keys read from one set; the rest are skipped.
const MaxKeys = 100

// SkippedKey is a key ParseJWKS left out of a set, and why.
type SkippedKey struct {
	// KeyID is the key's kid, as the set wrote it ("" for a key without
	// one, or a note about the set).
	KeyID string
	// Reason says why; it never holds key material.
	Reason string
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

// ParseJWKS reads a JSON Web Key Set, the one parser of this module: the
// sets of NewFile, NewURL and NewOIDC read theirs with it, and its keys
// can make a policy.NewStaticKeySet. It keeps the keys it can use, and
// lists the others in skipped, with the reason:
//
//   - a key must be for signatures (use, key_ops), asymmetric (a symmetric
//     "oct" key is never kept: a key set is public), and sound and strong
//     enough (policy.KeyFromJWK);
//   - its alg must be one of algorithms (nil: policy.KeySetAlgorithms()).
//     A key without alg gets the one algorithm of algorithms that suits
//     it, and is skipped when none or several do;
//   - a private key is skipped, unless allowPrivate (a file of one's own),
//     when its public half is kept;
//   - a key whose kid another JWK of the set has too is skipped, and the
//     rest of the set is kept: which of them a token means cannot be told,
//     and refusing the whole set would keep the last good set serving,
//     keys the provider has since retired among them. Every JWK's kid
//     counts, that of a JWK skipped for another reason, or past MaxKeys,
//     too: a usable key is never kept beside an unusable one of its kid.
//     The kid that counts is the "kid" member exactly, as go-jose reads
//     it;
//   - keys past the first MaxKeys are skipped.
//
// policy.NewStaticKeySet has another rule for the same case: it refuses
// keys that share a kid, since they are the application's own, a mistake
// to report at once rather than a provider's set to keep serving from.
//
// A set without a usable key is an error, as is a body that is not a JSON
// Web Key Set. Neither the errors nor skipped hold key material.
func ParseJWKS(data []byte, algorithms []string, allowPrivate bool) (keys []policy.Key, skipped []SkippedKey, err error) {
	if algorithms == nil {
		algorithms = policy.KeySetAlgorithms()
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || set.Keys == nil {
		return nil, nil, errors.New("not a JSON Web Key Set")
	}
	// The kid of every JWK, go-jose's for those it parses.
	kids := make([]string, len(set.Keys))
	for i, raw := range set.Keys {
		kids[i] = exactKid(raw)
	}
	if len(set.Keys) > MaxKeys {
		skipped = append(skipped, SkippedKey{Reason: fmt.Sprintf("the set holds %d keys; all after the first %d are skipped", len(set.Keys), MaxKeys)})
		set.Keys = set.Keys[:MaxKeys]
	}
	for i, raw := range set.Keys {
		var m jwkMeta
		if json.Unmarshal(raw, &m) != nil {
			skipped = append(skipped, SkippedKey{Reason: "not a JSON Web Key"})
			continue
		}
		k, err := parseKey(raw, &m, algorithms, allowPrivate)
		if err != nil {
			skipped = append(skipped, SkippedKey{m.Kid, err.Error()})
			continue
		}
		keys = append(keys, k)
		kids[i] = k.ID
	}
	perKid := map[string]int{}
	for _, kid := range kids {
		perKid[kid]++
	}
	keys = slices.DeleteFunc(keys, func(k policy.Key) bool {
		if k.ID != "" && perKid[k.ID] > 1 {
			skipped = append(skipped, SkippedKey{k.ID, "another JWK of the set has the same kid; every key of that kid is skipped"})
			return true
		}
		return false
	})
	if len(keys) == 0 {
		return nil, skipped, fmt.Errorf("the key set holds no usable key (%d skipped)", len(skipped))
	}
	return keys, skipped, nil
}

// exactKid is the "kid" member of a JWK, matched exactly as go-jose
// matches it (encoding/json into a struct would match "KID" too); "" when
// there is none, or raw is not a JSON object.
func exactKid(raw json.RawMessage) string {
	var members map[string]json.RawMessage
	var kid string
	if json.Unmarshal(raw, &members) != nil || json.Unmarshal(members["kid"], &kid) != nil {
		return ""
	}
	return kid
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
