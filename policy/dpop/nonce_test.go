package dpop

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var nonceSecret = bytes.Repeat([]byte("s"), 32)

func TestNonceSourceConfig(t *testing.T) {
	for _, tc := range []struct {
		secret []byte
		window time.Duration
	}{
		{nil, 0}, {bytes.Repeat([]byte("s"), 31), 0}, {nonceSecret, -time.Second},
		{nonceSecret, 500 * time.Millisecond}, {nonceSecret, 1500 * time.Millisecond},
	} {
		_, err := NewNonceSource(tc.secret, tc.window, nil)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%d bytes, %v: error %v", len(tc.secret), tc.window, err)
		}
		if err != nil && strings.Contains(err.Error(), string(nonceSecret[:8])) {
			t.Errorf("the error holds the secret: %v", err)
		}
	}
	s, err := NewNonceSource(nonceSecret, 0, nil)
	if err != nil || s.Window() != DefaultNonceWindow {
		t.Fatal(err)
	}
}

func TestNonceRotation(t *testing.T) {
	c := newClock(t0.Truncate(time.Minute))
	s, err := NewNonceSource(nonceSecret, time.Minute, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewNonceSource(bytes.Repeat([]byte("o"), 32), time.Minute, c.Now)
	twin, _ := NewNonceSource(nonceSecret, time.Minute, c.Now) // another instance
	n0 := s.Current()
	if !s.Valid(n0) || !twin.Valid(n0) || twin.Current() != n0 {
		t.Fatal("the current nonce, or another instance's, is refused")
	}
	if other.Valid(n0) || other.Current() == n0 {
		t.Fatal("another secret's nonce is accepted")
	}
	c.Add(59 * time.Second)
	if s.Current() != n0 {
		t.Fatal("the nonce changed within its window")
	}
	c.Add(time.Second) // the next window
	n1 := s.Current()
	if n1 == n0 || !s.Valid(n0) || !s.Valid(n1) {
		t.Fatal("the previous window's nonce is refused")
	}
	c.Add(time.Minute) // two windows on
	if s.Valid(n0) || !s.Valid(n1) || !s.Valid(s.Current()) {
		t.Fatal("a nonce two windows old is accepted")
	}
	for _, bad := range []string{"", n1[:len(n1)-1], n1 + "A", strings.ToUpper(n1)} {
		if bad != n1 && s.Valid(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	// Before the epoch too, windows are whole.
	c.ns.Store(time.Unix(-30, 0).UnixNano())
	a := s.Current()
	c.ns.Store(time.Unix(-60, 0).UnixNano())
	if s.Current() != a {
		t.Fatal("the window before the epoch is split")
	}
}

func TestNonceInProofs(t *testing.T) {
	keys(t)
	c := newClock(t0)
	s, _ := NewNonceSource(nonceSecret, time.Minute, c.Now)
	v := newTestVerifier(t, Config{Now: c.Now, Nonces: s})
	if v.Nonces() != s {
		t.Fatal("Nonces")
	}
	at := func() map[string]any { return map[string]any{"iat": c.Now().Unix()} }
	proof := func(nonce any) string {
		claims := at()
		claims["nonce"] = nonce
		return mint(t, spec{claims: claims})
	}
	_, err := verifyOne(t, v, mint(t, spec{claims: at()}))
	wantReason(t, err, ErrUseNonce)
	if ErrorCode(err) != ErrorUseNonce {
		t.Fatal("ErrorCode")
	}
	_, err = verifyOne(t, v, proof("made-up"))
	wantReason(t, err, ErrUseNonce)
	other, _ := NewNonceSource(bytes.Repeat([]byte("o"), 32), time.Minute, c.Now)
	_, err = verifyOne(t, v, proof(other.Current()))
	wantReason(t, err, ErrUseNonce)
	_, err = verifyOne(t, v, proof(1))
	wantReason(t, err, ErrMalformedClaim)

	n := s.Current()
	if p, err := verifyOne(t, v, proof(n)); err != nil || p.Nonce != n {
		t.Fatalf("the current nonce: %v", err)
	}
	c.Add(time.Minute)
	if _, err := verifyOne(t, v, proof(n)); err != nil {
		t.Fatalf("the previous window's nonce: %v", err)
	}
	c.Add(time.Minute)
	_, err = verifyOne(t, v, proof(n))
	wantReason(t, err, ErrUseNonce)
	if _, err := verifyOne(t, v, proof(s.Current())); err != nil {
		t.Fatal(err)
	}
	// A nonce refused is not a replay afterwards: the proof was not
	// remembered.
	p := proof("stale")
	_, err = verifyOne(t, v, p)
	wantReason(t, err, ErrUseNonce)
	_, err = v.Verify(context.Background(), request(p), testToken)
	if errors.Is(err, ErrProofReplayed) {
		t.Fatal("a refused proof was remembered")
	}
}
