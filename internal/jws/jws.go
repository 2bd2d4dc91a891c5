// Package jws is the one JWS layer of the module: the structural, header,
// key and signature steps that the token verifier (policy.Verifier) and the
// DPoP proof verifier (policy/dpop) both run, each with its own keys (the
// token verifier with configured keys, the proof verifier with the proof's
// own jwk, never a configured one). All JOSE parsing and cryptography is
// go-jose's and the standard library's; this package decides what to
// accept.
//
// Its errors are *Error values that match one kind (ErrMalformed,
// ErrAlgorithm, ErrHeader, ErrSignature, or ErrUnusableKey for keys) with
// errors.Is, so that each caller maps them to its own reasons; their texts
// never hold a signature or key material.
package jws

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// The kinds of error of the steps.
var (
	// ErrMalformed: not a compact JWS in canonical base64url, or a header
	// that is not strict JSON, or that go-jose cannot parse.
	ErrMalformed = errors.New("jws: malformed")
	// ErrAlgorithm: the header's alg is not among those allowed.
	ErrAlgorithm = errors.New("jws: algorithm not allowed")
	// ErrHeader: a header member that is refused (crit, b64, a nested
	// JWT's cty, a null value).
	ErrHeader = errors.New("jws: header not accepted")
	// ErrSignature: the signature does not verify with the key.
	ErrSignature = errors.New("jws: invalid signature")
)

// Error is an error of one step: Kind is one of the kinds above (or
// ErrUnusableKey), Err says what exactly. Its text is Err's alone, so that
// a caller that wraps Err in an error of its own says what it said before.
type Error struct {
	Kind error
	Err  error
}

// Error returns what exactly is wrong.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the kind and what exactly is wrong.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

func fail(kind, err error) *Error { return &Error{Kind: kind, Err: err} }

// Detail returns the Err of the *Error in err (err itself when there is
// none): what a caller keeps as the cause of its own error.
func Detail(err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Err
	}
	return err
}

// Parse is the structural step: raw must be a compact JWS in canonical
// base64url (CheckCompact), of an algorithm of algs, with a header that
// CheckHeader and CheckHeaderJSON accept (through headers, the caller's
// memo; nil for none; go-jose itself refuses duplicate header names). sigCanonical tells whether the signature segment is
// canonical, for the caller's signature step: another spelling of a
// signature is not the signature.
func Parse(raw string, algs []jose.SignatureAlgorithm, headers *HeaderMemo) (jws *jose.JSONWebSignature, sigCanonical bool, err error) {
	if sigCanonical, err = CheckCompact(raw); err != nil {
		return nil, false, err
	}
	if jws, err = ParseCompact(raw, algs); err != nil {
		return nil, false, err
	}
	if err := headers.Check(raw[:strings.IndexByte(raw, '.')]); err != nil {
		return nil, false, err
	}
	return jws, sigCanonical, nil
}

// ParseCompact parses raw with go-jose as a compact JWS of an algorithm of
// algs and holds its header to CheckHeader; raw is taken to have passed
// CheckCompact.
func ParseCompact(raw string, algs []jose.SignatureAlgorithm) (*jose.JSONWebSignature, error) {
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, fail(ErrAlgorithm, err)
		}
		return nil, fail(ErrMalformed, err)
	}
	if err := CheckHeader(jws.Signatures[0].Header); err != nil {
		return nil, err
	}
	return jws, nil
}

// CheckHeader refuses what a plain signed JWT never needs: nested tokens and
// critical extensions (which no part of this module understands).
func CheckHeader(h jose.Header) error {
	// RFC 7515 section 4.1.10: a cty without '/' means application/<cty>,
	// and media types compare case-insensitively.
	if cty, _ := h.ExtraHeaders[jose.HeaderContentType].(string); strings.EqualFold(cty, "JWT") || strings.EqualFold(cty, "application/jwt") {
		return fail(ErrHeader, errors.New("nested JWT (cty JWT) is not accepted"))
	}
	for _, name := range []jose.HeaderKey{"crit", "b64"} {
		if _, ok := h.ExtraHeaders[name]; ok {
			return fail(ErrHeader, fmt.Errorf("header %q is not accepted", name))
		}
	}
	return nil
}

// CheckHeaderJSON reads the header segment as strictly as claims are read
// (go-jose's reader turns invalid UTF-8 and lone surrogates into U+FFFD, so
// that several headers would name one kid), and refuses a member whose
// value is null (ErrHeader): go-jose drops such members, so {"crit":null}
// would otherwise pass unseen. A segment that is not base64url is left to
// go-jose.
func CheckHeaderJSON(segment string) error { return checkHeaderJSON(segment) }

// HeaderMemo remembers, for one verifier, the last header segment that
// passed CheckHeaderJSON: the tokens of an issuer share one header, and
// the check depends on the segment's bytes alone, so the same bytes pass
// again without a decode. (A verifier of headers that differ every time,
// as DPoP proofs' do with their jwk, keeps none.) The zero HeaderMemo is
// ready to use; it is safe for concurrent use.
type HeaderMemo struct{ passed atomic.Pointer[string] }

// Check is CheckHeaderJSON, answered from m when segment is the header it
// last passed; a nil m remembers nothing.
func (m *HeaderMemo) Check(segment string) error {
	if m == nil {
		return checkHeaderJSON(segment)
	}
	if p := m.passed.Load(); p != nil && *p == segment {
		return nil
	}
	if err := checkHeaderJSON(segment); err != nil {
		return err
	}
	m.passed.Store(new(strings.Clone(segment))) // not the token it is part of
	return nil
}

func checkHeaderJSON(segment string) error {
	b := inputs.Get().(*[]byte)
	defer inputs.Put(b)
	buf := append(slices.Grow((*b)[:0], len(segment)+base64.RawURLEncoding.DecodedLen(len(segment))), segment...)
	*b = buf
	n, err := base64.RawURLEncoding.Decode(buf[len(segment):cap(buf)], buf)
	if err != nil {
		return nil // go-jose decodes it, or refuses it
	}
	header := buf[len(segment) : len(segment)+n]
	if !bytes.Contains(header, []byte("null")) {
		if !strictjson.Valid(header) {
			return fail(ErrMalformed, errors.New("the header is not strict JSON (invalid UTF-8 or a lone surrogate)"))
		}
		return nil
	}
	members, err := strictjson.DecodeObject(header)
	if err != nil {
		return fail(ErrMalformed, fmt.Errorf("header: %w", err))
	}
	for name, v := range members {
		if v == nil {
			return fail(ErrHeader, fmt.Errorf("header %q is null", name))
		}
	}
	return nil
}

// CheckCompact checks that raw is three segments of canonical unpadded
// base64url: only the alphabet (Go's decoder would skip line breaks), no
// impossible length, and zero trailing bits, so that no segment has two
// encodings (a token may still have two spellings: an ECDSA signature's
// twin (r, n-s) verifies too). A header or payload that fails is an error
// (ErrMalformed); a signature that fails is reported by sigOK, for the
// signature step.
func CheckCompact(raw string) (sigOK bool, err error) {
	var dots [2]int
	n := 0
	for i := 0; i < len(raw); i++ {
		switch base64URL[raw[i]] {
		case invalidByte:
			return false, errMalformed("a character outside base64url")
		case dotByte:
			if n == 2 {
				return false, errMalformed("more than three segments")
			}
			dots[n] = i
			n++
		}
	}
	if n != 2 {
		return false, errMalformed("fewer than three segments")
	}
	if !canonicalTail(raw[:dots[0]]) || !canonicalTail(raw[dots[0]+1:dots[1]]) {
		return false, errMalformed("non-canonical base64url")
	}
	return canonicalTail(raw[dots[1]+1:]), nil
}

func errMalformed(s string) error { return fail(ErrMalformed, errors.New(s)) }

// canonicalTail reports whether the unpadded base64url s (of the
// alphabet) has a possible length and no bits set past its last byte.
func canonicalTail(s string) bool {
	if len(s) == 0 {
		return true
	}
	last := base64URL[s[len(s)-1]]
	switch len(s) % 4 {
	case 1:
		return false
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// The bytes of base64URL that are not the value of a character of the
// alphabet.
const (
	invalidByte = 0xff
	dotByte     = 0xfe
)

// base64URL is the value of each byte as a character of base64URLAlphabet,
// dotByte for '.', invalidByte for every other byte: one look-up a byte.
var base64URL = func() (t [256]byte) {
	for i := range t {
		t[i] = invalidByte
	}
	for i := 0; i < len(base64URLAlphabet); i++ {
		t[base64URLAlphabet[i]] = byte(i)
	}
	t['.'] = dotByte
	return t
}()
