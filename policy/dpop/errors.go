package dpop

import (
	"errors"
	"strings"
)

// ErrInvalidProof is the umbrella of every reason a request's DPoP proof
// fails: each error Verifier.Verify returns matches it with errors.Is, and
// also exactly one of the reasons below. Two of them are not the client's
// fault and are to be tested first: ErrReplayUnavailable (answer 503, the
// proof may be good) and ErrUseNonce (answer 401 with
// error="use_dpop_nonce" and a DPoP-Nonce header).
var ErrInvalidProof = errors.New("invalid DPoP proof")

// The reasons a proof fails. Their texts are short and hold nothing from
// the proof or the access token, so that they can be shown to the client in
// the challenge's error_description.
var (
	// ErrMissingProof: the request has no DPoP header field.
	ErrMissingProof = errors.New("no DPoP proof")
	// ErrMultipleProofs: the request has more than one DPoP header field
	// value (RFC 9449 section 4.3, check 1).
	ErrMultipleProofs = errors.New("more than one DPoP proof")
	// ErrProofTooLarge: the DPoP header is longer than Config.MaxProofBytes.
	ErrProofTooLarge = errors.New("DPoP proof too large")
	// ErrMalformedProof: not one compact JWS in canonical base64url, or its
	// header or claims are not strict JSON (duplicate members, invalid
	// UTF-8), or the header holds a member that is refused (crit, b64, a
	// null value).
	ErrMalformedProof = errors.New("malformed DPoP proof")
	// ErrWrongType: the header's typ is not dpop+jwt.
	ErrWrongType = errors.New("DPoP proof typ is not dpop+jwt")
	// ErrAlgorithmNotAllowed: the header's alg is not one of
	// Config.Algorithms.
	ErrAlgorithmNotAllowed = errors.New("DPoP proof algorithm not allowed")
	// ErrInvalidKey: the header's jwk is missing, holds private or
	// symmetric key material, does not fit the algorithm (key type, curve),
	// or is too weak (an RSA modulus under 2048 bits).
	ErrInvalidKey = errors.New("DPoP proof key not acceptable")
	// ErrInvalidSignature: the signature does not verify with the header's
	// jwk.
	ErrInvalidSignature = errors.New("DPoP proof signature invalid")
	// ErrMissingClaim: jti, htm, htu or iat is missing, or ath when an
	// access token is presented.
	ErrMissingClaim = errors.New("DPoP proof claim missing")
	// ErrMalformedClaim: a claim has the wrong JSON type, or jti is empty
	// or longer than MaxJTIBytes, or htu is not an absolute http(s) URI.
	ErrMalformedClaim = errors.New("DPoP proof claim malformed")
	// ErrProofExpired: iat is older than Config.MaxAge and the leeway.
	ErrProofExpired = errors.New("DPoP proof too old")
	// ErrProofInFuture: iat is later than now and the leeway.
	ErrProofInFuture = errors.New("DPoP proof issued in the future")
	// ErrMethodMismatch: htm is not the request's method.
	ErrMethodMismatch = errors.New("DPoP proof htm does not match the request method")
	// ErrURIMismatch: htu is not the request's URI (without query and
	// fragment, after normalization), or the request's own URI cannot be
	// told (an ambiguous forwarded header from a trusted proxy).
	ErrURIMismatch = errors.New("DPoP proof htu does not match the request URI")
	// ErrAccessTokenHash: ath is not base64url(SHA-256(access token)).
	ErrAccessTokenHash = errors.New("DPoP proof ath does not match the access token")
	// ErrUseNonce: the server requires a nonce (Config.Nonces) and the proof
	// has none, or one that is not current. Answer 401 with
	// Challenge(..., ErrorUseNonce, ...) and the header
	// DPoP-Nonce: NonceSource.Current().
	ErrUseNonce = errors.New("DPoP proof needs a current server nonce")
	// ErrProofReplayed: a proof with the same key and jti was accepted
	// before, within the max-age window.
	ErrProofReplayed = errors.New("DPoP proof replayed")
	// ErrReplayUnavailable: the replay cache could not be asked (its error
	// is wrapped too, such as ErrReplayCacheFull). The proof may be good:
	// answer 503 with Retry-After.
	ErrReplayUnavailable = errors.New("DPoP replay cache unavailable")
	// ErrThumbprintMismatch: the proof's key is not the one the access
	// token is bound to (its cnf.jkt), from Proof.CheckBinding.
	ErrThumbprintMismatch = errors.New("DPoP proof key does not match the token binding")
)

// ProofError is the error of a proof that failed. It matches
// ErrInvalidProof and its Reason with errors.Is. Neither its Reason nor its
// Cause holds anything of the proof or the access token.
type ProofError struct {
	// Reason is one of the Err* reasons above; its text is safe to show.
	Reason error
	// Cause says more, for logs: a fixed text of this package, or the
	// replay cache's error. Never text from the proof.
	Cause error
}

// Error returns the reason and, when there is one, the cause.
func (e *ProofError) Error() string {
	var b strings.Builder
	b.WriteString("dpop: invalid proof: ")
	b.WriteString(e.Reason.Error())
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Is makes the error match ErrInvalidProof.
func (e *ProofError) Is(target error) bool { return target == ErrInvalidProof }

// Unwrap returns the reason and the cause.
func (e *ProofError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Cause}
}

// fail is a *ProofError of reason, with a fixed text as its cause ("" for
// none).
func fail(reason error, cause string) error {
	e := &ProofError{Reason: reason}
	if cause != "" {
		e.Cause = errors.New(cause)
	}
	return e
}

// ErrConfig is matched by every error of NewVerifier, NewNonceSource and
// NewProver about their arguments.
var ErrConfig = errors.New("dpop: invalid configuration")
