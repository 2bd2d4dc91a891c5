package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultNonceWindow is the window of a NonceSource made with window 0.
const DefaultNonceWindow = 5 * time.Minute

// MinNonceSecretBytes is the shortest secret NewNonceSource accepts.
const MinNonceSecretBytes = 32

// NonceSource makes and checks server nonces (RFC 9449 section 8) without
// keeping any state: the nonce of a time window is
//
//	base64url(HMAC-SHA256(secret, "jwtauth-dpop-nonce-v1" || counter))
//
// with counter the number of whole windows since the Unix epoch, as 8
// bytes big-endian, so that every instance configured with the same secret
// (and window) makes the same nonces and accepts every other's. The
// current window's nonce and the previous one's are accepted: a nonce
// handed out is good for at least one window and at most two (5 to 10
// minutes with the default window). It is safe for concurrent use.
type NonceSource struct {
	secret []byte
	window time.Duration
	now    func() time.Time
	cached atomic.Pointer[cachedNonce]
}

// cachedNonce is the nonces of one window and of the one before, made
// once per window.
type cachedNonce struct {
	counter     int64
	nonce, prev string
}

// nonceLabel separates these HMACs from any other use of the secret.
const nonceLabel = "jwtauth-dpop-nonce-v1"

// NewNonceSource returns a source of nonces derived from secret (at least
// MinNonceSecretBytes; it is copied), rolling every window
// (DefaultNonceWindow when 0; whole seconds, at least one), on the clock now (nil:
// time.Now). Its errors match ErrConfig and never hold the secret.
func NewNonceSource(secret []byte, window time.Duration, now func() time.Time) (*NonceSource, error) {
	if len(secret) < MinNonceSecretBytes {
		return nil, fmt.Errorf("%w: the nonce secret is %d bytes; at least %d are needed", ErrConfig, len(secret), MinNonceSecretBytes)
	}
	if window == 0 {
		window = DefaultNonceWindow
	}
	if window < time.Second || window%time.Second != 0 {
		return nil, fmt.Errorf("%w: the nonce window must be a whole number of seconds, at least one", ErrConfig)
	}
	if now == nil {
		now = time.Now
	}
	return &NonceSource{secret: append([]byte(nil), secret...), window: window, now: now}, nil
}

// Window returns the window a nonce rolls over in.
func (s *NonceSource) Window() time.Duration { return s.window }

// Current returns the nonce of the current window, for the DPoP-Nonce
// header of a response.
func (s *NonceSource) Current() string { return s.of(s.counter()).nonce }

// of is the nonces of window c and the one before, from the cache when c
// is the last window asked for.
func (s *NonceSource) of(c int64) *cachedNonce {
	if p := s.cached.Load(); p != nil && p.counter == c {
		return p
	}
	n := &cachedNonce{counter: c, nonce: s.nonce(c), prev: s.nonce(c - 1)}
	s.cached.Store(n)
	return n
}

// Valid tells whether nonce is the current window's or the previous
// one's, in constant time.
func (s *NonceSource) Valid(nonce string) bool {
	n := s.of(s.counter())
	cur := subtle.ConstantTimeCompare([]byte(nonce), []byte(n.nonce))
	prev := subtle.ConstantTimeCompare([]byte(nonce), []byte(n.prev))
	return cur|prev == 1
}

// counter is the number of the current window.
func (s *NonceSource) counter() int64 {
	t := s.now()
	c := t.Unix() / int64(s.window/time.Second)
	if t.Unix() < 0 && t.Unix()%int64(s.window/time.Second) != 0 {
		c-- // floor, before the epoch
	}
	return c
}

// nonce is the nonce of window counter.
func (s *NonceSource) nonce(counter int64) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(nonceLabel))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(counter))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
