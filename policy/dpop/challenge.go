package dpop

import (
	"errors"
	"strings"
)

// The error codes of a DPoP challenge (RFC 9449 sections 7.1 and 12.2,
// RFC 6750 section 3.1).
const (
	// ErrorInvalidProof: the DPoP proof is missing or failed.
	ErrorInvalidProof = "invalid_dpop_proof"
	// ErrorUseNonce: the proof must carry the nonce of the DPoP-Nonce
	// header of the response.
	ErrorUseNonce = "use_dpop_nonce"
	// ErrorInvalidToken: the access token failed, or is not bound to the
	// proof's key.
	ErrorInvalidToken = "invalid_token"
)

// Challenge returns the value of a WWW-Authenticate header of the DPoP
// scheme: `DPoP algs="ES256 EdDSA"`, and, when code is not "",
// `, error="<code>"` and, when description is not "",
// `, error_description="<description>"`. algs is space-separated (as
// Verifier.Algorithms gives it). Quotes and backslashes are escaped, and
// characters that a quoted-string cannot hold (controls, non-ASCII) are
// dropped, so that the value is always one valid header.
func Challenge(algs, code, description string) string {
	var b strings.Builder
	b.WriteString("DPoP")
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quote(value))
		b.WriteByte('"')
		sep = ", "
	}
	if algs != "" {
		param("algs", algs)
	}
	if code != "" {
		param("error", code)
		if description != "" {
			param("error_description", description)
		}
	}
	return b.String()
}

// quote escapes s for a quoted-string, keeping printable ASCII only (RFC
// 6750 section 3 limits error_description to it).
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ErrorCode is the challenge's error code for an error of Verify or
// Proof.CheckBinding: ErrorUseNonce for ErrUseNonce, ErrorInvalidToken for
// ErrThumbprintMismatch (the token is bound to another key), and
// ErrorInvalidProof for any other ErrInvalidProof; "" for nil or an error
// of another kind. ErrReplayUnavailable is ErrorInvalidProof too, but it
// is to be answered 503, not 401: test it first.
func ErrorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUseNonce):
		return ErrorUseNonce
	case errors.Is(err, ErrThumbprintMismatch):
		return ErrorInvalidToken
	case errors.Is(err, ErrInvalidProof):
		return ErrorInvalidProof
	}
	return ""
}

// Description is a short error_description for an error of Verify or
// Proof.CheckBinding: its reason's text, which holds nothing of the proof
// or token; "" for an error that is not a *ProofError.
func Description(err error) string {
	if pe, ok := errors.AsType[*ProofError](err); ok {
		return pe.Reason.Error()
	}
	return ""
}
