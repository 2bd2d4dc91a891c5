package policy

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/pyramid-go/jwtauth/internal/authheader"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// DPoPMode tells whether the JWT header policy reads DPoP-bound tokens
// (RFC 9449): Config.DPoP, the setting dpop.
type DPoPMode int

// The DPoP modes.
const (
	// DPoPDisabled (dpop = disabled, the default): the DPoP scheme is not
	// read. A token bound to a key (cnf.jkt) is still never accepted as a
	// bearer token: it is invalid credentials (ErrTokenBound) under every
	// scheme.
	DPoPDisabled DPoPMode = iota
	// DPoPAllowed (dpop = allowed): the scheme DPoP is read beside the
	// policy's own; a bound token must come under it with a proof of its
	// key, an unbound token under the policy's own scheme.
	DPoPAllowed
	// DPoPRequired (dpop = required): as DPoPAllowed, and an unbound token
	// is invalid credentials too (ErrDPoPRequired).
	DPoPRequired
)

// String returns the mode's setting value: disabled, allowed or required.
func (m DPoPMode) String() string {
	switch m {
	case DPoPDisabled:
		return "disabled"
	case DPoPAllowed:
		return "allowed"
	case DPoPRequired:
		return "required"
	}
	return fmt.Sprintf("DPoPMode(%d)", int(m))
}

// DPoPScheme is the Authorization scheme of DPoP-bound tokens (RFC 9449
// section 7.1), read beside the policy's own schemes when DPoP is on.
const DPoPScheme = "DPoP"

// The reasons of a token refused by its binding (RFC 9449 section 7);
// each matches ErrInvalidCredentials in an *InvalidTokenError.
var (
	// ErrInvalidDPoPProof: the request's DPoP proof failed, or its key is
	// not the token's (cnf.jkt). The cause is the dpop package's error,
	// which matches dpop.ErrInvalidProof and its reason (such as
	// dpop.ErrProofReplayed, dpop.ErrUseNonce, dpop.ErrThumbprintMismatch,
	// or dpop.ErrReplayUnavailable, which the challenge answers 503).
	ErrInvalidDPoPProof = errors.New("invalid DPoP proof")
	// ErrTokenBound: a token bound to a key (cnf.jkt) presented as a
	// bearer token, under a scheme other than DPoP (or with DPoP
	// disabled).
	ErrTokenBound = errors.New("token bound to a DPoP key presented without DPoP")
	// ErrTokenNotBound: a token without cnf.jkt presented under the DPoP
	// scheme.
	ErrTokenNotBound = errors.New("token not bound to a DPoP key")
	// ErrDPoPRequired: with DPoPRequired, a token that is not bound to a
	// key.
	ErrDPoPRequired = errors.New("DPoP-bound token required")
)

// confirmationClaim is RFC 7800's confirmation claim, whose member jkt
// (RFC 9449 section 6.1) binds a token to a DPoP key.
const confirmationClaim = "cnf"

// confirmationKey reads the cnf.jkt of a verified token's claims: "" for
// a token without cnf. A cnf that is not an object, whose jkt is not a
// non-empty string, or that confirms by another method than jkt (which
// this policy cannot check, such as mTLS's x5t#S256) is invalid
// credentials naming the claim.
func confirmationKey(c Claims) (string, error) {
	v, present := c[confirmationClaim]
	if !present {
		return "", nil
	}
	cnf, ok := v.(map[string]any)
	if !ok {
		return "", claimInvalid(confirmationClaim, ErrInvalidClaim, fmt.Errorf("not an object (%s)", jsonKind(v)))
	}
	jkt, present := cnf["jkt"]
	if !present {
		return "", claimInvalid(confirmationClaim, ErrInvalidClaim, errors.New("no jkt: a confirmation method this policy cannot check"))
	}
	s, ok := jkt.(string)
	if !ok || s == "" {
		return "", claimInvalid(confirmationClaim, ErrInvalidClaim, errors.New("jkt is not a non-empty string"))
	}
	return s, nil
}

// newDPoP checks the DPoP settings of cfg and builds the proof verifier
// (nil with DPoP disabled). Its Leeway defaults to cfg.Leeway, its clock
// to cfg.Now, its replay cache to cfg.Revocation when that is a
// dpop.ReplayCache (the Redis store, shared by the instances), else a
// dpop.MemoryReplayCache of the policy's own.
func newDPoP(cfg Config) (*dpop.Verifier, error) {
	pc := cfg.DPoPProofs
	switch cfg.DPoP {
	case DPoPAllowed, DPoPRequired:
	case DPoPDisabled:
		if !reflect.ValueOf(pc).IsZero() {
			return nil, configErr(dpopConfigKey(pc), "is set, but dpop is disabled")
		}
		return nil, nil
	default:
		return nil, configErr("dpop", "%v is not disabled, allowed or required", cfg.DPoP)
	}
	for _, s := range cfg.Schemes {
		if strings.EqualFold(s, DPoPScheme) {
			return nil, configErr("scheme", "names %s, which dpop reads for bound tokens: leave it out", DPoPScheme)
		}
	}
	if _, err := dpop.NewVerifier(dpop.Config{Algorithms: pc.Algorithms}); err != nil {
		return nil, configErr("dpop_algorithms", "%w", err)
	}
	switch {
	case pc.MaxAge < 0:
		return nil, configErr("dpop_max_age", "must not be negative")
	case pc.Leeway < 0:
		return nil, configErr("leeway", "must not be negative (of DPoP proofs)")
	case pc.MaxProofBytes < 0:
		return nil, configErr("dpop_max_proof_bytes", "must not be negative")
	}
	for _, p := range pc.TrustedProxies {
		if !p.IsValid() {
			return nil, configErr("dpop_trusted_proxies", "an invalid network prefix")
		}
	}
	if pc.Leeway == 0 {
		pc.Leeway = cfg.Leeway
	}
	if pc.Now == nil {
		pc.Now = cfg.Now
	}
	if pc.Replay == nil {
		if rc, ok := cfg.Revocation.(dpop.ReplayCache); ok {
			pc.Replay = rc
		} else {
			pc.Replay = dpop.NewMemoryReplayCache(0, pc.Now)
		}
	}
	v, err := dpop.NewVerifier(pc)
	if err != nil {
		return nil, configErr("dpop", "%w", err)
	}
	return v, nil
}

// dpopConfigKey names the setting of a DPoPProofs given without DPoP.
func dpopConfigKey(pc dpop.Config) string {
	switch {
	case len(pc.Algorithms) > 0:
		return "dpop_algorithms"
	case pc.MaxAge != 0:
		return "dpop_max_age"
	case pc.Nonces != nil:
		return "dpop_nonce"
	case len(pc.TrustedProxies) > 0:
		return "dpop_trusted_proxies"
	}
	return "dpop"
}

// bind is the proof-binding step, between the verifier and the claims
// (RFC 9449 section 7), for a token t that verified, presented as raw
// under the DPoP scheme (underDPoP) or another: a token bound to a key
// (cnf.jkt) needs the DPoP scheme and a proof of that key, verified on
// every request (a proof is single-use: never cached); a token under the
// DPoP scheme needs to be bound; with DPoPRequired every token does. A
// policy without DPoP (the cookie policy, a header policy with DPoP
// disabled) refuses every bound token.
func (ti *tokenIdentities) bind(r *http.Request, t VerifiedToken, raw string, underDPoP bool) VerifiedToken {
	if t.Err != nil {
		return t
	}
	var reason, cause error
	switch {
	case t.jkt == "" && !underDPoP:
		if ti.cfg.DPoP != DPoPRequired {
			return t
		}
		reason = ErrDPoPRequired
	case !underDPoP:
		reason = ErrTokenBound
	case t.jkt == "":
		reason = ErrTokenNotBound
	default:
		proof, err := ti.proofs.Verify(r.Context(), r, raw)
		if err == nil {
			err = proof.CheckBinding(t.jkt)
		}
		if err == nil {
			return t
		}
		reason, cause = ErrInvalidDPoPProof, err
		if errors.Is(err, dpop.ErrProofReplayed) {
			ti.cfg.Observer.dpopReplay() // the one place of a DPoP replay refusal
		}
	}
	t = VerifiedToken{UserID: t.UserID, HasUserID: t.HasUserID, Err: invalid(reason, cause)}
	if cause != nil {
		// The dpop package's reason holds nothing of the proof or token.
		ti.cfg.Logger.Info("jwtauth: invalid credentials", "reason", reason.Error(), "dpop", dpop.Description(cause), "remote", r.RemoteAddr)
	} else {
		ti.logInvalid(r, t.Err)
	}
	return t
}

// DPoPAlgorithms returns the algorithms the policy accepts in DPoP proofs,
// space-separated (a DPoP challenge's algs), or "" with DPoP disabled: the
// chi adapter's 403 then carries a DPoP challenge too.
func (p *JWT) DPoPAlgorithms() string {
	if p.proofs == nil {
		return ""
	}
	return p.proofs.Algorithms()
}

// presentedUnderDPoP tells whether r's Authorization header is of the
// DPoP scheme, with DPoP on.
func (p *JWT) presentedUnderDPoP(r *http.Request) bool {
	if p.proofs == nil {
		return false
	}
	for _, v := range r.Header["Authorization"] {
		if strings.EqualFold(authheader.Scheme(v), DPoPScheme) {
			return true
		}
	}
	return false
}

// dpopChallenge is the DPoP side of the challenge of id (the policy's own
// error code and description code, desc): the WWW-Authenticate value of
// the DPoP scheme, and the error code and description of the response,
// which move from the policy's own challenge to the DPoP one for a bad
// proof and for a bad token presented under DPoP (RFC 9449 section 7.1).
// moved tells that they did.
func (p *JWT) dpopChallenge(r *http.Request, id Identity, code, desc string) (header, outCode, outDesc string, moved bool) {
	var ite *InvalidTokenError
	switch {
	case errors.As(id.Err, &ite) && ite.Reason == ErrInvalidDPoPProof:
		code, desc, moved = dpop.ErrorCode(ite.Cause), dpop.Description(ite.Cause), true
	case code != "" && p.presentedUnderDPoP(r):
		moved = true
	}
	if !moved {
		return dpop.Challenge(p.proofs.Algorithms(), "", ""), code, desc, false
	}
	return dpop.Challenge(p.proofs.Algorithms(), code, desc), code, desc, true
}

// Admit hands a DPoP client the current server nonce on the responses to
// the requests this policy authenticates, its successes included, when it
// requires nonces (dpop_nonce): such a request, which carries a DPoP
// header, gets DPoP-Nonce before its handler runs (RFC 9449 section 9), so
// that the client learns of a new window from the response it gets rather
// than from a 401 on its next request. In a stack, only the policy that
// authenticated the request hands out its nonce (another's would send the
// client into 401s); a request refused gets the nonces from Challenge. It
// admits every request. Without nonces the policy is no Admitter at all
// (admitsRequests), and costs the requests nothing.
func (p *JWT) Admit(w http.ResponseWriter, r *http.Request, root AuthenticationPolicy) (http.ResponseWriter, bool) {
	if len(r.Header["Dpop"]) > 0 && IdentityOf(r, root).AuthenticatedBy(p) { // DPoP, as net/http keys it
		p.writeDPoPNonce(w)
	}
	return w, true
}

// admitsRequests tells Authenticate whether to ask Admit: only with
// nonces.
func (p *JWT) admitsRequests() bool { return p.proofs != nil && p.proofs.Nonces() != nil }

// writeDPoPNonce sets DPoP-Nonce to the current nonce, with nonces on.
func (p *JWT) writeDPoPNonce(w http.ResponseWriter) {
	if p.proofs != nil && p.proofs.Nonces() != nil {
		w.Header().Set("DPoP-Nonce", p.proofs.Nonces().Current())
	}
}
