package policy

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestKnownTokenFastPath checks that the fast path is taken where it
// should be (a cached token in a plain header, within the header bound)
// and nowhere else; that its answers equal the full path's is
// TestVerifiedTokenCache's work.
func TestKnownTokenFastPath(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes!!")
	now := time.Unix(1_700_000_000, 0)
	quiet := slog.New(slog.DiscardHandler)
	p, err := NewJWT(Config{MasterSecret: secret, Now: func() time.Time { return now }, MaxTokenBytes: 512, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(map[string]any{"sub": "alice", "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	taken := func(headers ...string) bool {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range headers {
			r.Header.Add("Authorization", h)
		}
		v, _, ok := p.knownToken(r)
		if ok && (v.Err != nil || v.UserID != "alice") {
			t.Fatalf("%q: the fast path answered %q, %v", headers, v.UserID, v.Err)
		}
		return ok
	}
	if taken("JWT token=" + tok) {
		t.Fatal("the fast path answered for a token never verified")
	}
	for range 2 {
		if v := p.v.Verify(context.Background(), tok); v.Err != nil {
			t.Fatal(v.Err)
		}
	}
	for _, h := range []string{"JWT token=" + tok, "jwt TOKEN=" + tok, "JWT " + tok} {
		if !taken(h) {
			t.Errorf("%q: the fast path was not taken for a cached token", h)
		}
	}
	for _, hs := range [][]string{
		{`JWT token="` + tok + `"`},     // quoted: the full parser's
		{"JWT token=" + tok + " "},      // trailing space
		{"JWT\ttoken=" + tok},           // a tab after the scheme
		{"JWT token=" + tok, "Basic x"}, // two headers
		{"Bearer " + tok},               // another scheme
	} {
		if taken(hs...) {
			t.Errorf("%q: the fast path was taken", hs)
		}
	}
	// A header past the bound is the full parser's (ErrTooLarge), even
	// when it carries a cached token: only a scheme name this long can.
	long := strings.Repeat("S", p.headerLimit())
	q, err := NewJWT(Config{MasterSecret: secret, Schemes: []string{long}, Now: p.cfg.Now, MaxTokenBytes: 512, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v := q.v.Verify(context.Background(), tok); v.Err != nil {
			t.Fatal(v.Err)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", long+" "+tok)
	if _, _, ok := q.knownToken(r); ok {
		t.Error("the fast path was taken for a header past the bound")
	}
	if _, err := q.AuthenticatedUserID(r); !errors.Is(err, ErrTokenTooLarge) {
		t.Errorf("a header past the bound: err = %v; want ErrTokenTooLarge", err)
	}

	now = now.Add(2 * time.Hour)
	if taken("JWT token=" + tok) {
		t.Error("the fast path answered for a token past its exp")
	}
}

// TestKnownTokenFastPathEveryScheme: with a list of schemes, the fast path
// serves a cached token in a plain header of each of them.
func TestKnownTokenFastPathEveryScheme(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes!!")
	now := time.Unix(1_700_000_000, 0)
	p, err := NewJWT(Config{MasterSecret: secret, Schemes: []string{"JWT", "Bearer"}, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(map[string]any{"sub": "alice", "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v := p.v.Verify(context.Background(), tok); v.Err != nil {
			t.Fatal(v.Err)
		}
	}
	for _, h := range []string{"JWT " + tok, "Bearer " + tok, "bearer " + tok, "JWT token=" + tok} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if v, _, ok := p.knownToken(r); !ok || v.UserID != "alice" {
			t.Errorf("%q: the fast path was not taken (%v, %q)", h, ok, v.UserID)
		}
	}
}
