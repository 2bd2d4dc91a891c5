package policy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// RevocationStore remembers the tokens revoked before they expire: one
// token by its jti (a sign-out), or every token of a user issued before a
// time ("sign out everywhere"). The verifier asks it about every token
// that verifies, a cached one included (Config.Revocation), after the
// signature and claims checks. NewMemoryRevocations keeps them in one
// process; the policy/redisrevocation package shares them between the
// instances of a service through Redis.
type RevocationStore interface {
	// Revoked tells whether a verified token is revoked: its jti ("" for
	// none) was revoked, or its subject's tokens issued before a time at
	// or after its iat were (a token without iat, the zero time, is
	// revoked by any such time of its subject). It is asked on every
	// request that presents a token, so it answers from memory when it
	// can. An error means it cannot tell (the store cannot be reached).
	Revoked(ctx context.Context, jti, subject string, iat time.Time) (bool, error)
	// RevokeToken revokes the token with jti, remembering it until exp,
	// when the token expires anyway, and not longer.
	RevokeToken(ctx context.Context, jti string, exp time.Time) error
	// RevokeSubject revokes every token of subject issued before before
	// (to the second: iat < before, before rounded up), remembering it
	// until until, when the last such token expires.
	RevokeSubject(ctx context.Context, subject string, before, until time.Time) error
	// Close releases the store.
	Close() error
}

// The reasons of a token the revocation store refuses, besides those of
// errors.go; both match ErrInvalidCredentials.
var (
	// ErrTokenRevoked: the token, or every token of its user issued
	// before it, was revoked.
	ErrTokenRevoked = errors.New("token revoked")
	// ErrRevocationUnavailable: the revocation store could not be asked,
	// and Config.RevocationFailOpen is not set. The policies' challenges
	// answer it 503 with Retry-After: the credentials may be good.
	ErrRevocationUnavailable = errors.New("revocation store unavailable")
)

// RetryAfterSeconds is the Retry-After of the 503 that answers a token
// whose revocation could not be checked.
const RetryAfterSeconds = 1

// writeUnavailable answers a request whose token's revocation could not be
// checked: 503, Retry-After, and the JSON body
// {"error":"temporarily_unavailable",...}.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"revocation store unavailable"}` + "\n"))
}

// JTIBytes is the number of random bytes of the jti of the tokens a policy
// makes when it has a revocation store: 128 bits.
const JTIBytes = 16

// newJTI returns a random jti, base64url without padding.
func newJTI() string {
	b := make([]byte, JTIBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// notRevoked holds a verified token to the revocation store: a token it
// revoked, or one it cannot tell about (unless the policy fails open), is
// invalid credentials.
func (v *Verifier) notRevoked(ctx context.Context, t VerifiedToken) VerifiedToken {
	store := v.cfg.Revocation
	if store == nil || t.Err != nil {
		return t
	}
	var iat time.Time
	if t.times.hasIat {
		iat = time.Unix(int64(t.times.iat), 0)
	}
	revoked, err := store.Revoked(ctx, t.jti, t.UserID, iat)
	switch {
	case err != nil && v.cfg.RevocationFailOpen:
		v.revocationDown(err, "accepted (jwtauth.revocation_failure = open)")
		return t
	case err != nil:
		v.revocationDown(err, "refused with 503 (jwtauth.revocation_failure = closed)")
		return VerifiedToken{UserID: t.UserID, HasUserID: true, Err: invalid(ErrRevocationUnavailable, err)}
	case revoked:
		return VerifiedToken{UserID: t.UserID, HasUserID: true, Err: invalid(ErrTokenRevoked, nil)}
	}
	return t
}

// revocationDown logs that the store could not be asked, at most once a
// second, with what became of the token.
func (v *Verifier) revocationDown(err error, outcome string) {
	now := time.Now().Unix()
	if last := v.revocationLogged.Load(); last == now || !v.revocationLogged.CompareAndSwap(last, now) {
		return
	}
	v.cfg.Logger.Warn("jwtauth: the revocation store cannot be reached; tokens are "+outcome, "error", err.Error())
}

// RevokeToken revokes the verified token t (Verify's answer for it), until
// it expires: its jti is revoked. A token without jti cannot be revoked
// alone (ErrNoJTI): revoke its user's tokens (RevokeUser). It fails
// without a revocation store (ErrNoRevocationStore).
func (v *Verifier) RevokeToken(ctx context.Context, t VerifiedToken) error {
	switch {
	case v.cfg.Revocation == nil:
		return ErrNoRevocationStore
	case t.Err != nil:
		return fmt.Errorf("jwtauth: cannot revoke a token that did not verify: %w", t.Err)
	case t.jti == "":
		return ErrNoJTI
	}
	exp := time.Now().Add(v.revocationRetention())
	if t.times.hasExp {
		exp = time.Unix(int64(t.times.exp), 0).Add(v.cfg.Leeway + time.Second)
	}
	return v.cfg.Revocation.RevokeToken(ctx, t.jti, exp)
}

// RevokeUser revokes every token of userid issued until now ("sign out
// everywhere"), remembered for as long as such a token can live
// (revocationRetention). It fails without a revocation store
// (ErrNoRevocationStore).
func (v *Verifier) RevokeUser(ctx context.Context, userid string) error {
	if v.cfg.Revocation == nil {
		return ErrNoRevocationStore
	}
	now := v.cfg.Now()
	before := now.Truncate(time.Second).Add(time.Second) // every iat of this second too
	return v.cfg.Revocation.RevokeSubject(ctx, userid, before, before.Add(v.revocationRetention()))
}

// revocationRetention is how long a revocation of a user's tokens, or of
// a token without exp, is remembered: the lifetime of the tokens the
// verifier makes, at least a day, and the leeway.
func (v *Verifier) revocationRetention() time.Duration {
	return max(v.cfg.Expiration, 24*time.Hour) + v.cfg.Leeway
}

// ErrNoRevocationStore is returned by the revoking methods of a policy
// configured without a revocation store (Config.Revocation).
var ErrNoRevocationStore = errors.New("jwtauth: no revocation store configured")

// ErrNoJTI is returned when a token without jti is to be revoked alone.
var ErrNoJTI = errors.New("jwtauth: the token has no jti: only its user's tokens can be revoked (RevokeUser)")

// RevokeUser revokes every token of userid issued until now with each
// policy of p that can (a JWT or cookie policy with a revocation store;
// for a stack, each it holds), for "sign out everywhere". It fails with
// ErrNoRevocationStore when none can.
func RevokeUser(ctx context.Context, p AuthenticationPolicy, userid string) error {
	var errs []error
	revoked := false
	for _, v := range verifiersOf(p, nil) {
		if v.cfg.Revocation == nil {
			continue
		}
		revoked = true
		errs = append(errs, v.RevokeUser(ctx, userid))
	}
	if !revoked {
		return ErrNoRevocationStore
	}
	return errors.Join(errs...)
}

// verifiersOf appends the verifiers of p and the policies it stacks.
func verifiersOf(p AuthenticationPolicy, out []*Verifier) []*Verifier {
	if s, ok := p.(Stack); ok {
		for _, inner := range s.Stacked() {
			out = verifiersOf(inner, out)
		}
	}
	if h, ok := p.(interface{ Verifier() *Verifier }); ok {
		out = append(out, h.Verifier())
	}
	return out
}

// forgetToken revokes the token r presented to p, a policy of ti, when it
// verified, for p's Forget: logged, never failed, since Forget answers
// only headers.
func (ti *tokenIdentities) forgetToken(r *http.Request, p AuthenticationPolicy) {
	if ti.cfg.Revocation == nil {
		return
	}
	id := IdentityOf(r, p)
	if id.claims == nil {
		return // no token that verified (or one the CSRF rule refused)
	}
	claims := id.claims.get()
	t := VerifiedToken{UserID: id.Claimed, HasUserID: true, claims: id.claims}
	t.jti, _ = claims.String("jti")
	t.times, _ = readTimes(claims)
	err := ti.v.RevokeToken(r.Context(), t)
	switch {
	case errors.Is(err, ErrNoJTI):
		ti.cfg.Logger.Warn("jwtauth: the signed-out token has no jti and stays valid until it expires; revoke its user's tokens to end it", "remote", r.RemoteAddr)
	case err != nil:
		ti.cfg.Logger.Error("jwtauth: cannot revoke the signed-out token", "error", err.Error(), "remote", r.RemoteAddr)
	}
}

// MemoryRevocations is a RevocationStore in the memory of one process, for
// a service of one instance and for tests: bounded, each entry kept until
// its token would expire. It is safe for concurrent use.
type MemoryRevocations struct {
	mu       sync.RWMutex
	jtis     map[string]time.Time // jti -> until
	subjects map[string]revokedBefore
	max      int
	now      func() time.Time
	closed   atomic.Bool
}

type revokedBefore struct{ before, until time.Time }

// DefaultMemoryRevocations bounds the entries a MemoryRevocations keeps.
const DefaultMemoryRevocations = 100_000

// ErrRevocationsFull is returned by a MemoryRevocations that holds as many
// unexpired entries as it may: it refuses a revocation rather than forget
// another.
var ErrRevocationsFull = errors.New("jwtauth: the in-memory revocation store is full")

// NewMemoryRevocations returns an empty store of at most max entries
// (DefaultMemoryRevocations when max is 0) on the clock now (nil:
// time.Now).
func NewMemoryRevocations(max int, now func() time.Time) *MemoryRevocations {
	if max <= 0 {
		max = DefaultMemoryRevocations
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryRevocations{jtis: map[string]time.Time{}, subjects: map[string]revokedBefore{}, max: max, now: now}
}

// Revoked tells whether the token is revoked (see RevocationStore).
func (m *MemoryRevocations) Revoked(_ context.Context, jti, subject string, iat time.Time) (bool, error) {
	if m.closed.Load() {
		return false, errors.New("jwtauth: the revocation store is closed")
	}
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if until, ok := m.jtis[jti]; ok && jti != "" && now.Before(until) {
		return true, nil
	}
	if s, ok := m.subjects[subject]; ok && now.Before(s.until) && (iat.IsZero() || iat.Before(s.before)) {
		return true, nil
	}
	return false, nil
}

// RevokeToken revokes jti until exp.
func (m *MemoryRevocations) RevokeToken(_ context.Context, jti string, exp time.Time) error {
	if jti == "" {
		return ErrNoJTI
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.room(); err != nil {
		return err
	}
	if exp.After(m.jtis[jti]) {
		m.jtis[jti] = exp
	}
	return nil
}

// RevokeSubject revokes subject's tokens issued before before, until
// until.
func (m *MemoryRevocations) RevokeSubject(_ context.Context, subject string, before, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.room(); err != nil {
		return err
	}
	old := m.subjects[subject]
	m.subjects[subject] = revokedBefore{before: later(old.before, before), until: later(old.until, until)}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// room makes room for one entry, dropping the expired ones when the store
// is full; m.mu is held.
func (m *MemoryRevocations) room() error {
	if len(m.jtis)+len(m.subjects) < m.max {
		return nil
	}
	now := m.now()
	for k, until := range m.jtis {
		if !now.Before(until) {
			delete(m.jtis, k)
		}
	}
	for k, s := range m.subjects {
		if !now.Before(s.until) {
			delete(m.subjects, k)
		}
	}
	if len(m.jtis)+len(m.subjects) >= m.max {
		return ErrRevocationsFull
	}
	return nil
}

// Len returns the number of entries kept, expired ones not yet dropped
// included.
func (m *MemoryRevocations) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.jtis) + len(m.subjects)
}

// Close makes the store refuse to answer, as a store that is down does.
func (m *MemoryRevocations) Close() error {
	m.closed.Store(true)
	return nil
}
