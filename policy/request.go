package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pyramid-go/jwtauth/internal/authheader"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// Identify works out r's identity in one pass, the one way through the
// policy: the token from the Authorization header, the verifier, the proof
// binding (bind: cnf.jkt and the DPoP proof), then the userid's principals
// (the reserved prefixes, the group finder). Every
// method of the policy answers from it, once per request under
// Authenticate (IdentityOf).
func (p *JWT) Identify(r *http.Request) Identity {
	t, presented, raw, underDPoP := p.readToken(r)
	if presented {
		t = p.bind(r, t, raw, underDPoP)
	}
	return p.identity(r, t, presented)
}

// readToken is the token stage: find the token in the Authorization header
// and verify it. presented is false when no header of the policy's schemes
// came; raw is the token read and underDPoP tells whether it came under
// the DPoP scheme, for the binding step. A failure is logged with its
// reason and the client's address, never the token.
func (p *JWT) readToken(r *http.Request) (t VerifiedToken, presented bool, raw string, underDPoP bool) {
	t, looked, ok := p.knownToken(r)
	if ok {
		if t.Err != nil {
			p.logInvalid(r, t.Err) // revoked since it was cached
		}
		// The fast path reads one header: DPoP's, or another scheme's.
		return t, true, looked, p.presentedUnderDPoP(r)
	}
	token, found, underDPoP, err := p.tokenOf(r)
	switch {
	case !found:
		return VerifiedToken{}, false, "", false
	case errors.Is(err, authheader.ErrTooLarge):
		t = VerifiedToken{Err: invalid(ErrTokenTooLarge, nil)}
	case err != nil:
		t = VerifiedToken{Err: invalid(ErrMalformedHeader, err)}
	default:
		return p.verified(r, token, token != looked), true, token, underDPoP
	}
	p.logInvalid(r, t.Err)
	return t, true, "", false
}

// knownToken is the verified-token cache's fast path: a request whose one
// Authorization header carries, in a plain form ("<scheme> <jwt>" or
// "<scheme> token=<jwt>"), a token that verified before is answered
// without reading the header's syntax. It answers what the full path
// would: every cached token is a compact JWS, for which
// authheader.Candidate's contract says that Token reads the same token
// from the header; and the header is held to the same bound. looked is the
// candidate it looked up and missed, which the full path need not look up
// again. With DPoP on, it reads the DPoP scheme too (its proof is checked
// after, on every request).
func (p *JWT) knownToken(r *http.Request) (t VerifiedToken, looked string, ok bool) {
	values := r.Header["Authorization"]
	if p.v.cache == nil || len(values) != 1 || len(values[0]) > p.headerLimit() {
		return VerifiedToken{}, "", false
	}
	for _, s := range p.schemes {
		// Schemes differ, so at most one is the header's.
		if token, ok := authheader.Candidate(values[0], s); ok {
			t, ok = p.v.Known(r.Context(), token)
			return t, token, ok
		}
	}
	return VerifiedToken{}, "", false
}

// isDPoPScheme tells whether p.schemes[i] is the DPoP scheme (the last,
// with DPoP on).
func (p *JWT) isDPoPScheme(i int) bool { return p.proofs != nil && i == len(p.schemes)-1 }

// readableSchemes are the schemes of the tokens a JWT policy reads, which
// a client may send to a policy configured for the other.
var readableSchemes = []string{"Bearer", "JWT"}

// noteOtherScheme logs, once for the policy, a challenged request whose
// Authorization header uses a scheme of JWTs (Bearer or JWT) that is not
// the policy's: an identity provider's client sends Bearer, and a
// JWT-only policy answers it with a bare 401. It is asked when the
// request is challenged, so that a request another policy of a stack
// authenticated is not reported. Neither the header nor the token is
// logged.
func (p *JWT) noteOtherScheme(r *http.Request) {
	for _, v := range r.Header["Authorization"] {
		scheme := authheader.Scheme(v)
		if i := slices.IndexFunc(readableSchemes, func(s string) bool { return strings.EqualFold(s, scheme) }); i >= 0 {
			p.otherScheme.Do(func() {
				p.cfg.Logger.Info("jwtauth: a request used an Authorization scheme this policy does not read; add it to jwtauth.scheme to read it (logged once)",
					"scheme", readableSchemes[i], "schemes", strings.Join(p.cfg.Schemes, " "), "remote", r.RemoteAddr)
			})
			return
		}
	}
}

// headerLimit bounds the whole Authorization header, loosely, before it
// is read; the token itself is bounded by max_token_bytes in verify.
func (p *JWT) headerLimit() int { return 2*p.cfg.MaxTokenBytes + 256 }

// tokenOf finds the request's token for the policy's schemes (the DPoP
// scheme too, with DPoP on: underDPoP). found is false when no
// Authorization header uses them; more than one header when one of them
// does is malformed, since readers could disagree on which counts. The
// whole header is bounded (headerLimit) before it is read.
func (p *JWT) tokenOf(r *http.Request) (token string, found, underDPoP bool, err error) {
	values := r.Header["Authorization"]
	limit := p.headerLimit()
	for _, v := range values {
		for i, s := range p.schemes {
			t, ours, err := authheader.Token(v, s, limit)
			if !ours {
				continue
			}
			if len(values) > 1 {
				return "", true, false, errors.New("more than one Authorization header")
			}
			return t, true, p.isDPoPScheme(i), err
		}
	}
	return "", false, false, nil
}

// AuthenticatedUserID returns the userid of a token that verified and whose
// user the group finder accepted. Otherwise its error matches
// ErrNoCredentials, ErrInvalidCredentials (with the reason) or
// ErrUserRejected.
func (p *JWT) AuthenticatedUserID(r *http.Request) (string, error) {
	id := IdentityOf(r, p)
	return id.UserID, id.Err
}

// UnauthenticatedUserID returns the userid the token claims, without
// verifying it: even a token whose signature or times fail still names its
// user, as in pyramid_jwtauth, as long as it decodes.
func (p *JWT) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := IdentityOf(r, p)
	return id.Claimed, id.HasClaim
}

// EffectivePrincipals returns [userid, Everyone, Authenticated, groups...]
// for an authenticated user and [Everyone] otherwise; the error is set, and
// matches ErrInvalidCredentials, when a presented token failed.
func (p *JWT) EffectivePrincipals(r *http.Request) ([]string, error) {
	return IdentityOf(r, p).PrincipalsAnswer()
}

// Claims returns a copy of the request's verified claims (a deep one: the
// caller may change it); the error is as AuthenticatedUserID's, or, for
// claims that do not decode in full (see Identity.Claims), one matching
// ErrUserRejected, with no claims.
func (p *JWT) Claims(r *http.Request) (Claims, error) {
	return IdentityOf(r, p).claimsErr()
}

// UnverifiedClaims returns the claims of the request's token whatever its
// verification found, for display and debugging only: nothing in them is
// to be trusted. ok is false when there is no token or it does not decode.
func (p *JWT) UnverifiedClaims(r *http.Request) (claims Claims, ok bool) {
	token, found, _, err := p.tokenOf(r)
	if !found || err != nil {
		return nil, false
	}
	return p.v.UnverifiedClaims(token)
}

// Challenge answers 401 with "WWW-Authenticate: <scheme>" (Forget's header,
// without its revocation). A token whose revocation could not be checked
// (ErrRevocationUnavailable) is answered 503 with Retry-After and
// {"error":"temporarily_unavailable"}. When the request
// presented a token that failed, the header also carries RFC 6750's
// error="invalid_token" and a short error_description (the reason, nothing
// from the token); an unreadable Authorization header of the policy's
// scheme is answered 400 with error="invalid_request". The body is JSON
// with the same error and description.
//
// With DPoP on (Config.DPoP), a second header "WWW-Authenticate: DPoP
// algs=..." follows; a bad proof (ErrInvalidDPoPProof) is answered on it
// with error="invalid_dpop_proof" (or "use_dpop_nonce" for a missing or
// stale nonce, "invalid_token" for a proof of another key), and a bad
// token presented under the DPoP scheme with error="invalid_token", the
// policy's own challenge then bare; with nonces, a 401 carries
// DPoP-Nonce (and so does every response to a request the policy
// authenticated with a proof: Admit). A proof whose replay cache could not be asked
// (dpop.ErrReplayUnavailable) is answered 503 as above.
func (p *JWT) Challenge(w http.ResponseWriter, r *http.Request) {
	id := IdentityOf(r, p)
	if errors.Is(id.Err, ErrNoCredentials) {
		p.noteOtherScheme(r)
	}
	if errors.Is(id.Err, ErrRevocationUnavailable) {
		writeUnavailable(w, ErrRevocationUnavailable.Error())
		return
	}
	if errors.Is(id.Err, dpop.ErrReplayUnavailable) {
		writeUnavailable(w, dpop.ErrReplayUnavailable.Error())
		return
	}
	status, code, desc := http.StatusUnauthorized, "", ""
	var ite *InvalidTokenError
	if errors.As(id.Err, &ite) {
		code, desc = "invalid_token", ite.Reason.Error()
		if ite.Reason == ErrMalformedHeader {
			status, code = http.StatusBadRequest, "invalid_request"
		}
	}
	// With DPoP, the error of a bad proof, and of a bad token presented
	// under the DPoP scheme, is the DPoP challenge's (RFC 9449 section
	// 7.1); the policy's own challenge is then bare.
	own, dpopHeader := code, ""
	if p.proofs != nil {
		var moved bool
		dpopHeader, code, desc, moved = p.dpopChallenge(r, id, code, desc)
		if moved {
			own = ""
		}
	}
	w.Header().Set("WWW-Authenticate", p.forget) // Forget's header, without its revocation
	if own != "" {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("%s error=%q, error_description=%q", p.forget, code, desc))
	}
	if dpopHeader != "" {
		w.Header().Add("WWW-Authenticate", dpopHeader)
		if status == http.StatusUnauthorized {
			p.writeDPoPNonce(w)
		}
	}
	body := map[string]string{"error": "unauthorized"}
	if code != "" {
		body = map[string]string{"error": code, "error_description": desc}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// Middleware is Authenticate(p): it gives each request one identity with
// the policy, so that its token is verified once however many handlers
// ask.
func (p *JWT) Middleware(next http.Handler) http.Handler { return Authenticate(p)(next) }
