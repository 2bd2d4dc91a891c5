package policy_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/authheader"
	"github.com/pyramid-go/jwtauth/policy"
)

// The policies FuzzVerifyRequest questions: HS256 with a 45-byte secret, a
// fixed clock and a silent logger, reading the JWT scheme or Bearer. The seed
// corpus in testdata/fuzz/FuzzVerifyRequest holds tokens signed with
// fuzzSecret at fuzzNow; see the test's doc.
var (
	fuzzSecret = []byte("jwtauth fuzz secret 0123456789abcdef01234567")
	fuzzNow    = time.Unix(1_700_000_000, 0)

	fuzzPolicies = sync.OnceValues(func() (*policy.JWT, *policy.JWT) {
		return fuzzPolicy("JWT", 0), fuzzPolicy("Bearer", 0)
	})
	// fuzzUncached are the same policies without the verified-token cache.
	fuzzUncached = sync.OnceValues(func() (*policy.JWT, *policy.JWT) {
		return fuzzPolicy("JWT", policy.NoCache), fuzzPolicy("Bearer", policy.NoCache)
	})

	// fuzzBoth is a policy that reads both schemes, with its cache.
	fuzzBoth = sync.OnceValue(func() *policy.JWT { return fuzzPolicy("JWT Bearer", 0) })
)

// fuzzPolicy is a policy of the schemes (separated by spaces).
func fuzzPolicy(schemes string, cacheSize int) *policy.JWT {
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: fuzzSecret,
		Schemes:      strings.Fields(schemes),
		CacheSize:    cacheSize,
		Now:          func() time.Time { return fuzzNow },
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	return p
}

// fuzzClaimsReasons are the reasons found after the signature verified: a
// token failing for one of them must really carry a good signature.
var fuzzClaimsReasons = []error{
	policy.ErrMalformedClaims,
	policy.ErrTokenExpired,
	policy.ErrTokenNotYetValid,
	policy.ErrTokenIssuedInFuture,
	policy.ErrInvalidAudience,
	policy.ErrInvalidIssuer,
	policy.ErrInvalidUserIDClaim,
	policy.ErrMissingUserID,
}

// fuzzReasons are the exported reasons of an *InvalidTokenError: those
// found before the signature verified, and fuzzClaimsReasons.
var fuzzReasons = slices.Concat([]error{
	policy.ErrMalformedHeader,
	policy.ErrTokenTooLarge,
	policy.ErrMalformedToken,
	policy.ErrAlgorithmNotAllowed,
	policy.ErrInvalidSignature,
	policy.ErrNoKey,
	policy.ErrUnsupportedTokenType,
}, fuzzClaimsReasons)

// FuzzVerifyRequest runs the whole request path on an arbitrary
// Authorization header (and a second one when second is not empty), asking
// each of the policy's questions. No input may panic; each answer must be
// a success or one of the documented errors, agree with the other answers,
// and a success must be a token that go-jose verifies independently with
// the secret, whose sub is the userid. The challenge is 401 or 400 and never
// echoes the token's signature.
//
// The seed corpus (testdata/fuzz/FuzzVerifyRequest) holds valid tokens
// signed with fuzzSecret and the attacks of jwt-security.md that fit in a
// header: alg none, 4-5 segments, JSON serialization, padding, whitespace,
// odd times, crit, b64, duplicate header keys, nested JWTs, jku/x5u/jwk,
// hostile kids, other schemes, quoted forms, and a huge run of dots.
func FuzzVerifyRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, authz, second string, bearer bool) {
		pJWT, pBearer := fuzzPolicies()
		uJWT, uBearer := fuzzUncached()
		p, uncached, scheme := pJWT, uJWT, "JWT"
		if bearer {
			p, uncached, scheme = pBearer, uBearer, "Bearer"
		}
		request := func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Add("Authorization", authz)
			if second != "" {
				r.Header.Add("Authorization", second)
			}
			return r
		}
		r := request()
		in := fmt.Sprintf("%s policy, Authorization %q", scheme, r.Header.Values("Authorization"))

		// The cache changes no answer: the headers asked three times (a
		// good token is cached the second time, and the third is answered
		// by the fast path) get the answer of a policy without a cache.
		wantUID, wantErr := uncached.AuthenticatedUserID(request())
		for i := range 3 {
			if u, e := p.AuthenticatedUserID(request()); u != wantUID || fuzzOutcome(e) != fuzzOutcome(wantErr) {
				t.Fatalf("%s: asked %d times with the cache: %q, %v; without: %q, %v", in, i+1, u, e, wantUID, wantErr)
			}
		}

		// The policy of both schemes answers as the policy of the scheme
		// the request presents: the JWT one's answer, unless it found no
		// credentials (when both find some, there are two headers, which
		// are malformed for both), on the full path and on the fast path.
		jU, jE := uJWT.AuthenticatedUserID(request())
		if errors.Is(jE, policy.ErrNoCredentials) {
			jU, jE = uBearer.AuthenticatedUserID(request())
		}
		for i := range 3 {
			if u, e := fuzzBoth().AuthenticatedUserID(request()); u != jU || fuzzOutcome(e) != fuzzOutcome(jE) {
				t.Fatalf("%s: the policy of both schemes, asked %d times: %q, %v; the policy of the request's scheme: %q, %v", in, i+1, u, e, jU, jE)
			}
		}

		// What the request presents, read with the header parser (fuzzed on
		// its own by FuzzToken).
		values := r.Header.Values("Authorization")
		ours, hdr, tok, tokOK := 0, "", "", false
		for _, v := range values {
			if tk, found, err := authheader.Token(v, scheme, 0); found {
				ours++
				hdr, tok, tokOK = v, tk, err == nil
			}
		}
		sig := fuzzSignature(tok)

		// Every question of one request, under Authenticate's place for
		// its identity, is answered from one working out.
		r = policy.WithIdentity(r, p)
		uid, err := p.AuthenticatedUserID(r)
		var ite *policy.InvalidTokenError
		if err != nil {
			n := 0
			for _, s := range []error{policy.ErrNoCredentials, policy.ErrInvalidCredentials, policy.ErrUserRejected} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s: AuthenticatedUserID error %v matches %d of the three outcomes", in, err, n)
			}
			if uid != "" {
				t.Fatalf("%s: AuthenticatedUserID = %q with the error %v", in, uid, err)
			}
			if sig != "" && strings.Contains(err.Error(), sig) {
				t.Fatalf("%s: the error %q holds the token's signature", in, err)
			}
		}
		if (ours == 0) != errors.Is(err, policy.ErrNoCredentials) {
			t.Fatalf("%s: %d headers of the scheme, but AuthenticatedUserID error %v", in, ours, err)
		}
		if errors.Is(err, policy.ErrInvalidCredentials) {
			if !errors.As(err, &ite) {
				t.Fatalf("%s: %T %v matches ErrInvalidCredentials but is no *InvalidTokenError", in, err, err)
			}
			if !slices.Contains(fuzzReasons, ite.Reason) {
				t.Fatalf("%s: reason %v is not one of the exported reasons", in, ite.Reason)
			}
			fuzzCheckReason(t, in, ite.Reason, len(values), hdr, tok, tokOK)
		}

		// The other questions agree.
		uu, uok := p.UnauthenticatedUserID(r)
		principals, perr := p.EffectivePrincipals(r)
		claims, cerr := p.Claims(r)
		p.UnverifiedClaims(r)
		switch {
		case err == nil:
			if uu != uid || !uok {
				t.Fatalf("%s: UnauthenticatedUserID = %q, %v; authenticated %q", in, uu, uok, uid)
			}
			if want := []string{uid, policy.Everyone, policy.Authenticated}; !slices.Equal(principals, want) || perr != nil {
				t.Fatalf("%s: EffectivePrincipals = %q, %v; want %q", in, principals, perr, want)
			}
		case errors.Is(err, policy.ErrInvalidCredentials):
			if !slices.Equal(principals, []string{policy.Everyone}) || perr != err {
				t.Fatalf("%s: EffectivePrincipals = %q, %v; want [Everyone] and %v", in, principals, perr, err)
			}
		default:
			if errors.Is(err, policy.ErrNoCredentials) && (uok || uu != "") {
				t.Fatalf("%s: no credentials, but UnauthenticatedUserID = %q, %v", in, uu, uok)
			}
			if !slices.Equal(principals, []string{policy.Everyone}) || perr != nil {
				t.Fatalf("%s: EffectivePrincipals = %q, %v; want [Everyone], nil", in, principals, perr)
			}
		}
		switch {
		case err == nil:
			if cerr != nil || claims == nil {
				t.Fatalf("%s: Claims = %v, %v after the token verified", in, claims, cerr)
			}
			if ours != 1 || !tokOK {
				t.Fatalf("%s: verified, but the request does not present exactly one readable token", in)
			}
			fuzzReverify(t, in, tok, uid, claims)
		case errors.Is(err, policy.ErrUserRejected):
			if cerr != policy.ErrUserRejected || claims != nil {
				t.Fatalf("%s: Claims = %v, %v for a rejected user; want nil, ErrUserRejected", in, claims, cerr)
			}
			reserved := slices.ContainsFunc(append(policy.DefaultReservedPrincipalPrefixes(), policy.SystemPrefix), func(prefix string) bool {
				return strings.HasPrefix(uu, prefix)
			})
			if !uok || !reserved {
				t.Fatalf("%s: AcceptAll rejected %q, which has no reserved prefix", in, uu)
			}
			if ours != 1 || !tokOK {
				t.Fatalf("%s: verified, but the request does not present exactly one readable token", in)
			}
		default:
			if cerr != err || claims != nil {
				t.Fatalf("%s: Claims = %v, %v; want nil, %v", in, claims, cerr, err)
			}
		}

		fuzzCheckChallenge(t, in, p, r, scheme, ite, sig)
	})
}

// fuzzCheckReason checks that a reason fits what was presented: the one
// header of the policy's scheme hdr, holding tok when tokOK.
func fuzzCheckReason(t *testing.T, in string, reason error, headers int, hdr, tok string, tokOK bool) {
	t.Helper()
	var want error
	switch {
	case headers > 1:
		want = policy.ErrMalformedHeader
	case len(hdr) > 2*policy.DefaultMaxTokenBytes+256: // the policy's bound on the header
		want = policy.ErrTokenTooLarge
	case !tokOK:
		want = policy.ErrMalformedHeader
	case len(tok) > policy.DefaultMaxTokenBytes:
		want = policy.ErrTokenTooLarge
	}
	if want != nil || reason == policy.ErrMalformedHeader || reason == policy.ErrTokenTooLarge {
		if reason != want {
			t.Fatalf("%s: reason %v, want %v (%d headers, a %d-byte header, a %d-byte token, readable %v)", in, reason, want, headers, len(hdr), len(tok), tokOK)
		}
		return
	}
	header, canonical, verified := fuzzJoseVerify(tok)
	switch {
	case slices.Contains(fuzzClaimsReasons, reason):
		// A bad signature is reported before anything the payload says.
		if !canonical || !verified {
			t.Fatalf("%s: %v for a token whose signature does not verify (canonical %v)", in, reason, canonical)
		}
	case reason == policy.ErrInvalidSignature:
		if canonical && verified {
			t.Fatalf("%s: %v for a canonical token that go-jose verifies", in, reason)
		}
	case reason == policy.ErrAlgorithmNotAllowed:
		if alg, _ := header["alg"].(string); alg == "HS256" {
			t.Fatalf("%s: %v for alg %q", in, reason, alg)
		}
	}
}

// fuzzReverify checks a token the policy verified, without the policy:
// three segments of canonical base64url, a header go-jose accepts for HS256
// with nothing the verifier refuses, a signature go-jose verifies with the
// secret, and claims equal to the policy's whose times hold at fuzzNow.
func fuzzReverify(t *testing.T, in, tok, uid string, got policy.Claims) {
	t.Helper()
	header, canonical, verified := fuzzJoseVerify(tok)
	if !canonical || !verified {
		t.Fatalf("%s: the policy verified %q, but go-jose does not (canonical %v, verified %v)", in, tok, canonical, verified)
	}
	if header["alg"] != "HS256" {
		t.Fatalf("%s: verified a token of alg %v", in, header["alg"])
	}
	for _, k := range []string{"crit", "b64"} {
		if _, ok := header[k]; ok {
			t.Fatalf("%s: verified a token whose header has %q", in, k)
		}
	}
	if cty, _ := header["cty"].(string); strings.EqualFold(cty, "JWT") {
		t.Fatalf("%s: verified a nested JWT (cty %q)", in, cty)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatalf("%s: payload: %v", in, err)
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil || claims == nil {
		t.Fatalf("%s: verified a payload that is no JSON object: %v", in, err)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("%s: verified a payload with data after the JSON object", in)
	}
	if !reflect.DeepEqual(map[string]any(got), claims) {
		t.Fatalf("%s: Claims %v, but the payload holds %v", in, got, claims)
	}
	if sub, ok := claims["sub"].(string); !ok || sub != uid {
		t.Fatalf("%s: userid %q, but sub is %#v", in, uid, claims["sub"])
	}
	if _, ok := claims["aud"]; ok {
		t.Fatalf("%s: verified a token with aud, and no audience is configured", in)
	}
	now := float64(fuzzNow.Unix())
	for name, ok := range map[string]func(float64) bool{
		"exp": func(v float64) bool { return now < v },
		"nbf": func(v float64) bool { return v <= now },
		"iat": func(v float64) bool { return v < now+1 },
	} {
		v, present := claims[name]
		if !present {
			continue
		}
		n, isNum := v.(json.Number)
		f, err := n.Float64()
		if !isNum || err != nil || !ok(f) {
			t.Fatalf("%s: verified a token with %s = %#v at %v", in, name, v, now)
		}
	}
}

// fuzzJoseVerify verifies tok with go-jose alone: canonical is whether all
// three segments are canonical unpadded base64url, verified whether go-jose
// parses it as a compact HS256 JWS and verifies it with fuzzSecret. header
// is the decoded protected header, when it decodes.
func fuzzJoseVerify(tok string) (header map[string]any, canonical, verified bool) {
	segs := strings.Split(tok, ".")
	if len(segs) == 3 {
		canonical = true
		for i, s := range segs {
			b, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
				canonical = false
			}
			if i == 0 && err == nil {
				_ = json.Unmarshal(b, &header)
			}
		}
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return header, canonical, false
	}
	_, err = jws.Verify(fuzzSecret)
	return header, canonical, err == nil
}

// fuzzSignature is the last segment of a token with three or more, when it
// is long enough for its presence in a response to mean a leak.
func fuzzSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || strings.Count(tok, ".") < 2 {
		return ""
	}
	sig := tok[i+1:]
	if len(sig) < 20 || strings.IndexFunc(sig, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return ""
	}
	return sig
}

// fuzzCheckChallenge checks Challenge's answer: 400 invalid_request for an
// unreadable header, 401 otherwise, the RFC 6750 attributes only for a
// presented token that failed, and nothing from the token.
func fuzzCheckChallenge(t *testing.T, in string, p *policy.JWT, r *http.Request, scheme string, ite *policy.InvalidTokenError, sig string) {
	t.Helper()
	w := httptest.NewRecorder()
	p.Challenge(w, r)
	res := w.Result()
	status, code := http.StatusUnauthorized, ""
	wantAuth := scheme
	if ite != nil {
		code = "invalid_token"
		if ite.Reason == policy.ErrMalformedHeader {
			status, code = http.StatusBadRequest, "invalid_request"
		}
		wantAuth = fmt.Sprintf("%s error=%q, error_description=%q", scheme, code, ite.Reason.Error())
	}
	if res.StatusCode != status {
		t.Fatalf("%s: Challenge status %d, want %d", in, res.StatusCode, status)
	}
	if got := res.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != wantAuth {
		t.Fatalf("%s: WWW-Authenticate %q, want %q", in, got, wantAuth)
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: Challenge body %q: %v", in, w.Body.Bytes(), err)
	}
	if code != "" && (body["error"] != code || body["error_description"] != ite.Reason.Error()) {
		t.Fatalf("%s: Challenge body %q", in, body)
	}
	if sig == "" {
		return
	}
	if strings.Contains(w.Body.String(), sig) {
		t.Fatalf("%s: the challenge body %q holds the token's signature", in, w.Body.String())
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			if strings.Contains(v, sig) {
				t.Fatalf("%s: the challenge header %s: %q holds the token's signature", in, k, v)
			}
		}
	}
}

// fuzzOutcome names an AuthenticatedUserID error by its outcome and reason.
func fuzzOutcome(err error) string {
	var ite *policy.InvalidTokenError
	if errors.As(err, &ite) {
		return "invalid: " + ite.Reason.Error()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
