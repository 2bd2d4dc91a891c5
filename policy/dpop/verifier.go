package dpop

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/jws"
	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// Defaults of Config.
const (
	// DefaultMaxAge is how old a proof's iat may be (RFC 9449 leaves it to
	// the server; 5 minutes).
	DefaultMaxAge = 300 * time.Second
	// DefaultMaxProofBytes caps the DPoP header before any parsing.
	DefaultMaxProofBytes = 8192
	// MaxJTIBytes is the longest jti accepted, in bytes.
	MaxJTIBytes = 256
	// MinRSABits is the smallest RSA modulus accepted in a proof's jwk,
	// as of a key configured for tokens.
	MinRSABits = jws.MinRSABits
)

// DefaultAlgorithms are the algorithms a Verifier accepts when
// Config.Algorithms is empty.
var DefaultAlgorithms = []string{"ES256", "EdDSA", "RS256", "PS256"}

// algorithms are the asymmetric JWS algorithms a proof may use.
var algorithms = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
}

// Config configures a Verifier. The zero Config is usable: the default
// algorithms and max age, no leeway, no nonces, an in-memory replay cache,
// the scheme and host of the request itself.
type Config struct {
	// Algorithms are the JWS algorithms a proof may be signed with
	// (DefaultAlgorithms when empty): ES256, ES384, ES512, EdDSA, RS256,
	// RS384, RS512, PS256, PS384, PS512. "none", the HS* algorithms and
	// any other name are a configuration error.
	Algorithms []string
	// MaxAge is how old a proof's iat may be (DefaultMaxAge when 0), and
	// how long its jti is remembered.
	MaxAge time.Duration
	// Leeway is the clock skew allowed, both ways: a proof may be MaxAge +
	// Leeway old and issued up to Leeway in the future.
	Leeway time.Duration
	// MaxProofBytes caps the DPoP header's length (DefaultMaxProofBytes
	// when 0).
	MaxProofBytes int
	// Replay remembers the proofs accepted (nil: a MemoryReplayCache of
	// DefaultMemoryReplayEntries, on Now; for one instance only).
	Replay ReplayCache
	// Nonces, when set, makes a current server nonce required in every
	// proof (ErrUseNonce otherwise).
	Nonces *NonceSource
	// TrustedProxies are the networks of the reverse proxies whose
	// forwarded headers (Forwarded, else X-Forwarded-Proto and
	// X-Forwarded-Host) tell the scheme and host the client used; a
	// request from any other address is taken as it came (TargetURI).
	TrustedProxies []netip.Prefix
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Verifier verifies DPoP proofs (RFC 9449 section 4.3). It is safe for
// concurrent use.
type Verifier struct {
	algs     []jose.SignatureAlgorithm
	algNames string // space-separated, for challenges
	maxAge   time.Duration
	leeway   time.Duration
	maxBytes int
	replay   ReplayCache
	nonces   *NonceSource
	proxies  []netip.Prefix
	now      func() time.Time
}

// NewVerifier returns a Verifier of cfg. Its errors match ErrConfig.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{
		maxAge: cfg.MaxAge, leeway: cfg.Leeway, maxBytes: cfg.MaxProofBytes,
		replay: cfg.Replay, nonces: cfg.Nonces, proxies: slices.Clone(cfg.TrustedProxies), now: cfg.Now,
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	for _, name := range names {
		alg := jose.SignatureAlgorithm(name)
		if !slices.Contains(algorithms, alg) {
			return nil, fmt.Errorf("%w: %q is not an asymmetric signature algorithm a DPoP proof may use", ErrConfig, name)
		}
		if !slices.Contains(v.algs, alg) {
			v.algs = append(v.algs, alg)
		}
	}
	v.algNames = joinAlgs(v.algs)
	switch {
	case v.maxAge < 0 || v.leeway < 0 || v.maxBytes < 0:
		return nil, fmt.Errorf("%w: MaxAge, Leeway and MaxProofBytes cannot be negative", ErrConfig)
	case v.maxAge == 0:
		v.maxAge = DefaultMaxAge
	}
	if v.maxBytes == 0 {
		v.maxBytes = DefaultMaxProofBytes
	}
	for _, p := range v.proxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: an invalid trusted proxy prefix", ErrConfig)
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.replay == nil {
		v.replay = NewMemoryReplayCache(0, v.now)
	}
	return v, nil
}

func joinAlgs(algs []jose.SignatureAlgorithm) string {
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, " ")
}

// Algorithms returns the algorithms the verifier accepts, space-separated,
// as a challenge's algs parameter wants them.
func (v *Verifier) Algorithms() string { return v.algNames }

// Nonces returns the nonce source of the verifier (nil without one).
func (v *Verifier) Nonces() *NonceSource { return v.nonces }

// Proof is what a proof that verified says.
type Proof struct {
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url without padding: what the access token's cnf.jkt must be
	// (CheckBinding).
	Thumbprint string
	// Key is the proof's public key (its jwk header).
	Key jose.JSONWebKey
	// Algorithm is the proof's alg.
	Algorithm string
	// JTI, Method (htm), URI (htu, as the proof wrote it), IssuedAt (iat)
	// and Nonce ("" for none) are the proof's claims.
	JTI      string
	Method   string
	URI      string
	IssuedAt time.Time
	Nonce    string
}

// CheckBinding returns nil when the proof's key is the one of thumbprint
// jkt (an access token's cnf.jkt), comparing in constant time, and an error
// matching ErrThumbprintMismatch (and ErrInvalidProof) otherwise.
func (p Proof) CheckBinding(jkt string) error {
	if jkt == "" || !ThumbprintsEqual(p.Thumbprint, jkt) {
		return fail(ErrThumbprintMismatch, "")
	}
	return nil
}

// ThumbprintsEqual compares two thumbprints in constant time (for equal
// lengths; the length is no secret).
func ThumbprintsEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the public key of
// key (a public or private key go-jose knows, or a *jose.JSONWebKey),
// base64url without padding: a token's cnf.jkt for that key.
func Thumbprint(key any) (string, error) {
	jwk, ok := key.(*jose.JSONWebKey)
	if !ok {
		if k, isJWK := key.(jose.JSONWebKey); isJWK {
			jwk = &k
		} else {
			jwk = &jose.JSONWebKey{Key: key}
		}
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: no thumbprint for the key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// AccessTokenHash is a proof's ath for accessToken:
// base64url(SHA-256(accessToken)).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Verify verifies the DPoP proof of request r, for the access token it
// presents ("" for none: then ath is not required), with every check of RFC
// 9449 section 4.3: exactly one DPoP header, within MaxProofBytes; then as
// VerifyProof, for r's method and target URI (TargetURI, with
// Config.TrustedProxies). One call per request: the error, when there is
// one, matches ErrInvalidProof and one reason.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, accessToken string) (Proof, error) {
	values := r.Header.Values("DPoP")
	switch {
	case len(values) == 0:
		return Proof{}, fail(ErrMissingProof, "")
	case len(values) > 1:
		return Proof{}, fail(ErrMultipleProofs, "")
	}
	if len(values[0]) > v.maxBytes {
		return Proof{}, fail(ErrProofTooLarge, "")
	}
	uri, err := TargetURI(r, v.proxies)
	if err != nil {
		return Proof{}, &ProofError{Reason: ErrURIMismatch, Cause: err}
	}
	return v.VerifyProof(ctx, values[0], r.Method, uri, accessToken)
}

// VerifyProof verifies one proof (a DPoP header's value) for a request of
// method and target URI uri (absolute; its query and fragment are
// ignored), presenting accessToken ("" for none). The checks, in order:
//
//  1. the size, then a compact JWS in canonical base64url (no JSON
//     serialization), its header strict JSON without crit, b64 or null
//     members;
//  2. typ dpop+jwt (case-insensitive, "application/" allowed, as for any
//     media type: RFC 7515 section 4.1.9);
//  3. alg among the verifier's algorithms;
//  4. jwk a public key of the algorithm's type (curve; RSA of at least
//     2048 bits), without any private or symmetric member, and, when it
//     says, meant for alg, for signatures;
//  5. the signature, with that jwk and nothing else (RSA-PSS with a salt
//     as long as the hash);
//  6. the claims, strict JSON: jti (a string of 1 to MaxJTIBytes bytes),
//     htm, htu (strings) and iat (a number) required;
//  7. htm equal to method, case-sensitively;
//  8. htu equal to uri after NormalizeURI;
//  9. iat no older than MaxAge + Leeway, and no later than Leeway ahead;
//  10. with an access token, ath equal to AccessTokenHash(accessToken);
//  11. with Config.Nonces, a current nonce (ErrUseNonce);
//  12. the jti not seen before for that key (ReplayKey), remembered
//     until the proof is too old anyway.
func (v *Verifier) VerifyProof(ctx context.Context, proof, method, uri, accessToken string) (Proof, error) {
	if len(proof) > v.maxBytes {
		return Proof{}, fail(ErrProofTooLarge, "")
	}
	sigCanonical, err := jws.CheckCompact(proof)
	switch {
	case err != nil:
		return Proof{}, &ProofError{Reason: ErrMalformedProof, Cause: jws.Detail(err)}
	case !sigCanonical:
		return Proof{}, fail(ErrMalformedProof, "non-canonical base64url")
	case proof[0] == '.' || strings.Contains(proof, ".."):
		return Proof{}, fail(ErrMalformedProof, "an empty segment")
	}
	headerSegment := proof[:strings.IndexByte(proof, '.')]
	if err := jws.CheckHeaderJSON(headerSegment); err != nil {
		return Proof{}, &ProofError{Reason: ErrMalformedProof, Cause: jws.Detail(err)}
	}
	alg, err := v.checkRawHeader(headerSegment)
	if err != nil {
		return Proof{}, err
	}
	parsed, err := jws.ParseCompact(proof, v.algs)
	switch {
	case errors.Is(err, jws.ErrAlgorithm):
		return Proof{}, fail(ErrAlgorithmNotAllowed, "")
	case errors.Is(err, jws.ErrHeader):
		return Proof{}, &ProofError{Reason: ErrMalformedProof, Cause: jws.Detail(err)}
	case err != nil:
		// The raw header checks passed: a jwk go-jose refuses is the
		// likely cause; otherwise the proof is malformed.
		if rawJWKInvalid(headerSegment) {
			return Proof{}, fail(ErrInvalidKey, "the jwk is not a usable public key")
		}
		return Proof{}, fail(ErrMalformedProof, "not a JWS")
	}
	h := parsed.Signatures[0].Header
	if h.Algorithm != string(alg) {
		return Proof{}, fail(ErrAlgorithmNotAllowed, "")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return Proof{}, fail(ErrInvalidKey, "no public jwk")
	}
	// The proof's own key, held to what a configured key is held to.
	if err := jws.CheckKey(jwk.Key, string(alg)); err != nil {
		return Proof{}, &ProofError{Reason: ErrInvalidKey, Cause: err}
	}
	payload, err := jws.Verify(parsed, proof, jwk.Key, string(alg))
	if err != nil {
		return Proof{}, &ProofError{Reason: ErrInvalidSignature, Cause: jws.Detail(err)}
	}

	c, err := readClaims(payload)
	if err != nil {
		return Proof{}, err
	}
	if c.htm != method {
		return Proof{}, fail(ErrMethodMismatch, "")
	}
	htu, err := NormalizeURI(c.htu)
	if err != nil {
		return Proof{}, fail(ErrMalformedClaim, "htu: "+err.Error())
	}
	want, err := NormalizeURI(uri)
	if err != nil {
		return Proof{}, fail(ErrURIMismatch, "the request URI: "+err.Error())
	}
	if htu != want {
		return Proof{}, fail(ErrURIMismatch, "")
	}
	now := v.now()
	nowSec := float64(now.UnixNano()) / 1e9
	switch {
	case c.iat < nowSec-(v.maxAge+v.leeway).Seconds():
		return Proof{}, fail(ErrProofExpired, "")
	case c.iat > nowSec+v.leeway.Seconds():
		return Proof{}, fail(ErrProofInFuture, "")
	}
	if accessToken != "" {
		if !c.hasAth {
			return Proof{}, fail(ErrMissingClaim, "no ath claim")
		}
		if subtle.ConstantTimeCompare([]byte(c.ath), []byte(AccessTokenHash(accessToken))) != 1 {
			return Proof{}, fail(ErrAccessTokenHash, "")
		}
	}
	if v.nonces != nil {
		switch {
		case !c.hasNonce:
			return Proof{}, fail(ErrUseNonce, "the proof has no nonce")
		case !v.nonces.Valid(c.nonce):
			return Proof{}, fail(ErrUseNonce, "the proof's nonce is not current")
		}
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return Proof{}, fail(ErrInvalidKey, "no thumbprint")
	}
	iat := time.Unix(0, int64(c.iat*1e9)) // bounded above: within MaxAge + Leeway of now
	// The proof is refused from iat + MaxAge + Leeway on: remembered until
	// then, and a second more for the rounding of iat.
	until := iat.Add(v.maxAge + v.leeway + time.Second)
	first, err := v.replay.FirstUse(ctx, ReplayKey(jkt, c.jti), until)
	switch {
	case err != nil:
		return Proof{}, &ProofError{Reason: ErrReplayUnavailable, Cause: err}
	case !first:
		return Proof{}, fail(ErrProofReplayed, "")
	}
	return Proof{
		Thumbprint: jkt, Key: *jwk, Algorithm: string(alg),
		JTI: c.jti, Method: c.htm, URI: c.htu, IssuedAt: iat, Nonce: c.nonce,
	}, nil
}

// privateMembers are the JWK members of private or symmetric key material
// (RFC 7518 section 6; "priv" of ML-DSA keys).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// checkRawHeader reads the header segment (which jws.CheckHeaderJSON
// accepted) as strict JSON, since go-jose's reader takes the last of
// duplicate members and parses a private jwk as well as a public one, and
// checks what it says before go-jose parses it: typ dpop+jwt, an allowed
// alg, and a jwk object without private members, whose alg (if any) is the
// header's and whose use (if any) is sig. The header's crit and b64 are
// refused by jws.ParseCompact after it.
func (v *Verifier) checkRawHeader(segment string) (jose.SignatureAlgorithm, error) {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return "", fail(ErrMalformedProof, "the header is not base64url")
	}
	h, err := strictjson.DecodeObject(raw)
	if err != nil {
		return "", fail(ErrMalformedProof, "the header is not strict JSON")
	}
	typ, _ := h["typ"].(string)
	if !isDPoPType(typ) {
		return "", fail(ErrWrongType, "")
	}
	algName, _ := h["alg"].(string)
	alg := jose.SignatureAlgorithm(algName)
	if !slices.Contains(v.algs, alg) {
		return "", fail(ErrAlgorithmNotAllowed, "")
	}
	jwkValue, present := h["jwk"]
	if !present {
		return "", fail(ErrInvalidKey, "no jwk header")
	}
	jwk, ok := jwkValue.(map[string]any)
	if !ok {
		return "", fail(ErrInvalidKey, "the jwk header is not an object")
	}
	for _, m := range privateMembers {
		if _, private := jwk[m]; private {
			return "", fail(ErrInvalidKey, "the jwk holds private or symmetric key material")
		}
	}
	if a, present := jwk["alg"]; present && a != algName {
		return "", fail(ErrInvalidKey, "the jwk is meant for another algorithm")
	}
	if u, present := jwk["use"]; present && u != "sig" {
		return "", fail(ErrInvalidKey, "the jwk is not meant for signatures")
	}
	if ops, present := jwk["key_ops"]; present {
		list, _ := ops.([]any)
		if !slices.Contains(list, any("verify")) {
			return "", fail(ErrInvalidKey, "the jwk's key_ops lack verify")
		}
	}
	return alg, nil
}

// isDPoPType tells whether typ is dpop+jwt, as a media type: in any case,
// with or without "application/".
func isDPoPType(typ string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, "dpop+jwt")
}

// rawJWKInvalid tells whether go-jose refuses the header's jwk alone (the
// header decoded already once).
func rawJWKInvalid(segment string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return false
	}
	var h struct {
		JWK json.RawMessage `json:"jwk"`
	}
	if json.Unmarshal(raw, &h) != nil || h.JWK == nil {
		return false
	}
	var k jose.JSONWebKey
	return k.UnmarshalJSON(h.JWK) != nil || !k.Valid() || !k.IsPublic()
}

// claims are a proof's claims, read.
type claims struct {
	jti, htm, htu, ath, nonce string
	hasAth, hasNonce          bool
	iat                       float64
}

// readClaims decodes the payload as strict JSON and reads the claims of a
// proof, each of its JSON type.
func readClaims(payload []byte) (claims, error) {
	var c claims
	m, err := strictjson.DecodeObject(payload)
	if err != nil {
		return c, fail(ErrMalformedProof, "the claims are not strict JSON")
	}
	str := func(name string, required bool) (string, bool, error) {
		v, present := m[name]
		if !present {
			if required {
				return "", false, fail(ErrMissingClaim, "no "+name+" claim")
			}
			return "", false, nil
		}
		s, ok := v.(string)
		if !ok {
			return "", false, fail(ErrMalformedClaim, name+" is not a string")
		}
		return s, true, nil
	}
	if c.jti, _, err = str("jti", true); err != nil {
		return c, err
	}
	if c.jti == "" || len(c.jti) > MaxJTIBytes {
		return c, fail(ErrMalformedClaim, fmt.Sprintf("jti must be 1 to %d bytes", MaxJTIBytes))
	}
	if c.htm, _, err = str("htm", true); err != nil {
		return c, err
	}
	if c.htu, _, err = str("htu", true); err != nil {
		return c, err
	}
	iat, present := m["iat"]
	if !present {
		return c, fail(ErrMissingClaim, "no iat claim")
	}
	n, ok := iat.(json.Number)
	if !ok {
		return c, fail(ErrMalformedClaim, "iat is not a number")
	}
	if c.iat, err = n.Float64(); err != nil || math.IsInf(c.iat, 0) || math.IsNaN(c.iat) {
		return c, fail(ErrMalformedClaim, "iat is not a usable number")
	}
	if c.ath, c.hasAth, err = str("ath", false); err != nil {
		return c, err
	}
	if c.nonce, c.hasNonce, err = str("nonce", false); err != nil {
		return c, err
	}
	return c, nil
}
