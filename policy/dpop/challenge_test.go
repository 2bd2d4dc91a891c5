package dpop

import (
	"errors"
	"testing"
)

func TestChallenge(t *testing.T) {
	for _, tc := range []struct{ algs, code, desc, want string }{
		{"ES256 EdDSA", "", "", `DPoP algs="ES256 EdDSA"`},
		{"ES256", "", "ignored without a code", `DPoP algs="ES256"`},
		{"ES256", ErrorInvalidProof, "", `DPoP algs="ES256", error="invalid_dpop_proof"`},
		{"ES256", ErrorUseNonce, "Authorization server requires nonce in DPoP proof", `DPoP algs="ES256", error="use_dpop_nonce", error_description="Authorization server requires nonce in DPoP proof"`},
		{"ES256", ErrorInvalidToken, `say "hi"\` + "\r\n\xff", `DPoP algs="ES256", error="invalid_token", error_description="say \"hi\"\\"`},
		{"", ErrorInvalidProof, "x", `DPoP error="invalid_dpop_proof", error_description="x"`},
		{"", "", "", `DPoP`},
	} {
		if got := Challenge(tc.algs, tc.code, tc.desc); got != tc.want {
			t.Errorf("Challenge(%q, %q, %q) = %s; want %s", tc.algs, tc.code, tc.desc, got, tc.want)
		}
	}
}

func TestErrorCodeAndDescription(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{nil, ""},
		{errors.New("other"), ""},
		{fail(ErrUseNonce, "x"), ErrorUseNonce},
		{fail(ErrThumbprintMismatch, ""), ErrorInvalidToken},
		{fail(ErrProofReplayed, ""), ErrorInvalidProof},
		{fail(ErrWrongType, ""), ErrorInvalidProof},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q; want %q", tc.err, got, tc.code)
		}
	}
	if d := Description(fail(ErrProofReplayed, "more")); d != "DPoP proof replayed" {
		t.Errorf("Description %q", d)
	}
	if Description(errors.New("x")) != "" {
		t.Error("Description of another error")
	}
	e := &ProofError{Reason: ErrURIMismatch, Cause: errors.New("cause")}
	if e.Error() != "dpop: invalid proof: DPoP proof htu does not match the request URI: cause" || !errors.Is(e, ErrInvalidProof) {
		t.Errorf("%v", e)
	}
}
