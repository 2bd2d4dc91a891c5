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
// time ("sign out everywhere"). The verifier holds every token that
// verifies to it, a cached one included (Config.Revocation), after the
// signature and claims checks: it asks about a cached token it cleared
// again once Version has moved. NewMemoryRevocations keeps them in one
// process; the policy/redisrevocation package shares them between the
// instances of a service through Redis.
type RevocationStore interface {
	// Revoked tells whether a verified token is revoked: its jti ("" for
	// none; after the token's iss and a space when it has one, so that
	// issuers do not share jtis) was revoked, or its subject's tokens issued before a time at
	// or after its iat were (a token without iat, the zero time, is
	// revoked by any such time of its subject). It is asked about every
	// token that verifies (a cached one again once Version has moved), so
	// it answers from memory when it can. An error means it cannot tell
	// (the store cannot be reached).
	Revoked(ctx context.Context, jti, subject string, iat time.Time) (bool, error)
	// RevokeToken revokes the token with jti, remembering it until exp,
	// when the token expires anyway, and not longer.
	RevokeToken(ctx context.Context, jti string, exp time.Time) error
	// RevokeSubject revokes every token of subject issued before before
	// (to the second: iat < before, before rounded up), remembering it
	// until until, when the last such token expires.
	RevokeSubject(ctx context.Context, subject string, before, until time.Time) error
	// Version changes whenever an answer Revoked gave may no longer hold
	// (a revocation here or, for a store shared by instances, anywhere;
	// and, for a store that keeps copies of another's answers, when a
	// copy may have grown stale), and never takes a value it had before.
	// The verifier keeps, with each token it caches, the version at which
	// the store last said the token was not revoked, and asks the store
	// again only once the version has moved: the check of a token seen
	// before is then one atomic load. A store that cannot tell returns 0,
	// and is asked about every token on every request.
	Version() uint64
	// Close releases the store; it may be called more than once (the
	// policies that share a store each close it).
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

// writeUnavailable answers a request whose token's revocation (or DPoP
// proof's replay) could not be checked: 503, Retry-After, and the JSON body
// {"error":"temporarily_unavailable","error_description":<what>}.
func writeUnavailable(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", fmt.Sprint(RetryAfterSeconds))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"` + what + `"}` + "\n"))
}

// JTIBytes is the number of random bytes of the jti of the tokens a policy
// makes when it has a revocation store: 128 bits.
const JTIBytes = 16

// revocationID is RevocationID of the iss and jti of claims c.
func revocationID(c Claims) string {
	iss, _ := c.String("iss")
	jti, _ := c.String("jti")
	return RevocationID(iss, jti)
}

// RevocationID is the jti under which a RevocationStore keeps the token of
// issuer iss ("" for none) and jti: the jti after the iss and a space, so
// that a token of one issuer cannot revoke another issuer's of the same
// jti; "" without jti. A tool that revokes a token in a store directly
// names it so.
func RevocationID(iss, jti string) string {
	switch {
	case jti == "":
		return ""
	case iss == "":
		return jti
	}
	return iss + " " + jti
}

// newJTI returns a random jti, base64url without padding.
func newJTI() string {
	b := make([]byte, JTIBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// notRevoked holds a verified token to the revocation store: a token it
// revoked, or one it cannot tell about (unless the policy fails open), is
// invalid credentials. A cached token the store cleared at its current
// version is not asked about again; the version is read before the store
// is asked, so that a revocation made meanwhile leaves the record stale.
func (v *Verifier) notRevoked(ctx context.Context, t VerifiedToken) VerifiedToken {
	store := v.cfg.Revocation
	if store == nil || t.Err != nil {
		return t
	}
	version := store.Version()
	if version != 0 && t.notRevoked != nil && t.notRevoked.Load() == version {
		return t
	}
	var iat time.Time
	if t.times.hasIat {
		iat = unixTime(t.times.iat)
	}
	revoked, err := store.Revoked(ctx, t.jti, t.UserID, iat)
	if err != nil || revoked {
		v.cfg.Observer.revocation(err == nil) // the one place of a revocation refusal or a store unavailable
	}
	switch {
	case err != nil && v.cfg.RevocationFailOpen:
		v.revocationDown(err, "accepted (jwtauth.revocation_failure = open)")
		t.unchecked = true // never re-issued: it may be revoked
		return t
	case err != nil:
		v.revocationDown(err, "refused with 503 (jwtauth.revocation_failure = closed)")
		return VerifiedToken{UserID: t.UserID, HasUserID: true, Err: invalid(ErrRevocationUnavailable, err)}
	case revoked:
		return VerifiedToken{UserID: t.UserID, HasUserID: true, Err: invalid(ErrTokenRevoked, nil)}
	}
	if version != 0 && t.notRevoked != nil {
		t.notRevoked.Store(version)
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
	return v.cfg.Revocation.RevokeToken(ctx, t.jti, v.jtiRetention(t))
}

// jtiRetention is how long the revocation of t's jti is remembered: until
// the latest a token of that jti can expire, its own exp or that of a
// copy a cookie policy re-issued from it (the jti is the session's, kept
// by every re-issue) up to now, with the leeway and a second to spare;
// the retention of a user's revocation when t has no exp, or its exp is
// not checked.
func (v *Verifier) jtiRetention(t VerifiedToken) time.Time {
	now := v.cfg.Now()
	until := now.Add(v.revocationRetention())
	if t.times.hasExp && !v.cfg.DisableVerifyExp {
		until = later(unixTime(t.times.exp), now.Add(v.cfg.Expiration))
	}
	return until.Add(v.cfg.Leeway + time.Second)
}

// unixTime is the time of a NumericDate, held to the years a time.Time of
// Unix seconds represents on every platform, so that a huge claim neither
// wraps nor overflows.
func unixTime(seconds float64) time.Time {
	const most = 1 << 40 // about the year 36812
	return time.Unix(int64(min(max(seconds, 0), most)), 0)
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
// for a stack, each it holds), for "sign out everywhere". Its error
// matches ErrNoRevocationStore when a token policy of p has no store (the
// others have revoked the user's tokens all the same).
func RevokeUser(ctx context.Context, p AuthenticationPolicy, userid string) error {
	var errs []error
	for _, v := range verifiersOf(p, nil) {
		// Each one: a policy without a store, beside one with, leaves the
		// user's tokens of its own valid, which the error says.
		errs = append(errs, v.RevokeUser(ctx, userid))
	}
	if len(errs) == 0 {
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
	if errors.Is(id.Err, ErrRevocationUnavailable) {
		// The token verified, but the store cannot be asked: nor can it
		// be told.
		if s := stateOf(r.Context(), p); s != nil {
			err := id.Err
			s.forgetErr.Store(&err)
		}
		ti.cfg.Logger.Error("jwtauth: cannot revoke the signed-out token: the revocation store cannot be reached", "remote", r.RemoteAddr)
		return
	}
	if id.claims == nil {
		return // no token that verified (or one the CSRF rule refused)
	}
	claims, err := id.claims.getErr()
	if err != nil {
		// Without its claims, its jti is unknown: the user's tokens go
		// all together, so that the signed-out token does not stay
		// valid.
		ti.cfg.Logger.Error("jwtauth: the signed-out token's claims do not decode: every token of its user is revoked", "remote", r.RemoteAddr)
		err = ti.v.RevokeUser(r.Context(), id.Claimed)
	} else {
		t := VerifiedToken{UserID: id.Claimed, HasUserID: true, claims: id.claims}
		t.jti = revocationID(claims)
		t.times, _ = readTimes(claims)
		err = ti.v.RevokeToken(r.Context(), t)
	}
	if errors.Is(err, ErrRevocationsFull) {
		// The store holds as many tokens as it may: the user's tokens
		// go all together, which takes one entry, so that no user can
		// fill it with sign-outs and keep the others' from being kept.
		ti.cfg.Logger.Warn("jwtauth: the revocation store is full: every token of the signed-out user is revoked", "remote", r.RemoteAddr)
		err = ti.v.RevokeUser(r.Context(), id.Claimed)
	}
	switch {
	case errors.Is(err, ErrNoJTI):
		ti.cfg.Logger.Warn("jwtauth: the signed-out token has no jti and stays valid until it expires; revoke its user's tokens to end it", "remote", r.RemoteAddr)
	case err != nil:
		ti.cfg.Logger.Error("jwtauth: cannot revoke the signed-out token", "error", err.Error(), "remote", r.RemoteAddr)
	}
	if s := stateOf(r.Context(), p); s != nil && err != nil {
		s.forgetErr.Store(&err)
	}
}

// SignOut is p.Forget(r) for a logout that must know whether the
// request's token was revoked: it returns Forget's headers, and the
// errors of the revocations that failed (a store that is down, a token
// without jti: ErrNoJTI) in p and the policies it stacks, joined. The
// headers are to be sent either way (the client drops its copy); with an
// error that is not ErrNoJTI, the token may still serve, and the logout
// may answer 503 so that the client tries again.
func SignOut(r *http.Request, p AuthenticationPolicy) (http.Header, error) {
	r = WithIdentity(r, p)
	h := p.Forget(r)
	var errs []error
	for s := stateOf(r.Context(), nil); s != nil; s = s.outer {
		if err := s.forgetErr.Swap(nil); err != nil {
			errs = append(errs, *err)
		}
	}
	return h, errors.Join(errs...)
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
	purged   time.Time // when expired entries were last dropped
	closed   atomic.Bool
	version  atomic.Uint64 // grows with every revocation, under mu
}

type revokedBefore struct{ before, until time.Time }

// DefaultMemoryRevocations bounds the entries a MemoryRevocations keeps.
const DefaultMemoryRevocations = 100_000

// ErrRevocationsFull is returned by a MemoryRevocations that holds as many
// unexpired tokens as it may: it refuses a token's revocation rather than
// forget another (a policy's Forget then revokes all of the user's
// tokens, which takes one entry of the users').
var ErrRevocationsFull = errors.New("jwtauth: the in-memory revocation store is full")

// errStoreClosed is the error of a closed MemoryRevocations.
var errStoreClosed = errors.New("jwtauth: the revocation store is closed")

// NewMemoryRevocations returns an empty store of at most max revoked
// tokens (DefaultMemoryRevocations when max is 0), and as many users whose
// tokens were all revoked, on the clock now (nil: time.Now). The bounds
// are apart, so that sign-outs, which any user can make, never keep an
// administrator from signing a user out everywhere.
func NewMemoryRevocations(max int, now func() time.Time) *MemoryRevocations {
	if max <= 0 {
		max = DefaultMemoryRevocations
	}
	if now == nil {
		now = time.Now
	}
	m := &MemoryRevocations{jtis: map[string]time.Time{}, subjects: map[string]revokedBefore{}, max: max, now: now}
	m.version.Store(1)
	return m
}

// Version grows with every revocation (see RevocationStore): entries that
// expire revoke nothing more, so they leave it as it is.
// A closed store's version is 0, so that it is asked (and fails).
func (m *MemoryRevocations) Version() uint64 {
	if m.closed.Load() {
		return 0
	}
	return m.version.Load()
}

// Revoked tells whether the token is revoked (see RevocationStore).
func (m *MemoryRevocations) Revoked(_ context.Context, jti, subject string, iat time.Time) (bool, error) {
	if m.closed.Load() {
		return false, errStoreClosed
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
	if m.closed.Load() {
		return errStoreClosed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, kept := m.jtis[jti]; !kept && len(m.jtis) >= m.max && !m.purge(func() bool { return len(m.jtis) < m.max }) {
		return ErrRevocationsFull
	}
	if exp.After(m.jtis[jti]) {
		m.jtis[jti] = exp
		m.version.Add(1)
	}
	return nil
}

// RevokeSubject revokes subject's tokens issued before before, until
// until.
func (m *MemoryRevocations) RevokeSubject(_ context.Context, subject string, before, until time.Time) error {
	if m.closed.Load() {
		return errStoreClosed
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, kept := m.subjects[subject]; !kept && len(m.subjects) >= m.max && !m.purge(func() bool { return len(m.subjects) < m.max }) {
		return ErrRevocationsFull
	}
	old := m.subjects[subject]
	m.subjects[subject] = revokedBefore{before: later(old.before, before), until: later(old.until, until)}
	m.version.Add(1)
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// purge drops the expired entries, at most once a second (a full store
// refuses at once in between, rather than scan under its lock again), and
// tells whether room then says there is room; m.mu is held.
func (m *MemoryRevocations) purge(room func() bool) bool {
	now := m.now()
	if now.Sub(m.purged) < time.Second {
		return false
	}
	m.purged = now
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
	return room()
}

// Len returns the number of entries kept, expired ones not yet dropped
// included.
func (m *MemoryRevocations) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.jtis) + len(m.subjects)
}

// Close makes the store refuse to answer and to revoke, as a store that is
// down does.
func (m *MemoryRevocations) Close() error {
	m.closed.Store(true)
	return nil
}
