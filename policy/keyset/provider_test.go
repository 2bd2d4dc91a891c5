package keyset_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// The test identity provider, its keys and tokens. Every token is signed
// with go-jose directly.

// signer is a provider's private key, its kid and algorithm.
type signer struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// jwk is the public JWK the provider serves for s.
func (s signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.priv.Public(), KeyID: s.kid, Algorithm: s.alg, Use: "sig"}
}

// token signs claims; headers are extra protected header members.
func (s signer) token(t testing.TB, claims map[string]any, headers map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.alg), Key: jose.JSONWebKey{Key: s.priv, KeyID: s.kid}}, opts)
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", s.alg, err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("jwt.Signed: %v", err)
	}
	return tok
}

// claimsFor are valid claims of alice from iss ("" for none).
func claimsFor(iss string) map[string]any {
	c := map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	if iss != "" {
		c["iss"] = iss
	}
	return c
}

var (
	rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
		var keys []*rsa.PrivateKey
		for _, bits := range []int{2048, 2048, 1024} {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
		return keys
	})
	ecKeys = sync.OnceValue(func() []*ecdsa.PrivateKey {
		var keys []*ecdsa.PrivateKey
		for range 6 {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
		return keys
	})
	edKeys = sync.OnceValue(func() []ed25519.PrivateKey {
		var keys []ed25519.PrivateKey
		for range 2 {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
		return keys
	})
)

func ecSigner(i int, kid string) signer  { return signer{kid, "ES256", ecKeys()[i]} }
func rsaSigner(i int, kid string) signer { return signer{kid, "RS256", rsaKeys()[i]} }
func edSigner(i int, kid string) signer  { return signer{kid, "EdDSA", edKeys()[i]} }

// jwksJSON is the key set of the public JWKs of signers.
func jwksJSON(t testing.TB, signers ...signer) []byte {
	t.Helper()
	keys := make([]jose.JSONWebKey, len(signers))
	for i, s := range signers {
		keys[i] = s.jwk()
	}
	return testkit.PublicJWKS(t, keys...)
}

// provider is an in-process identity provider: discovery at
// /.well-known/openid-configuration, its key set at /jwks, and a few
// misbehaving endpoints. What /jwks answers can be switched at any time.
type provider struct {
	srv    *httptest.Server
	issuer string

	mu            sync.Mutex
	mode          string // "" (the key set), "500", "garbage", "block", "raw"
	body          []byte // the key set, or what "raw" serves
	cacheControl  string
	discoveryAlgs []string
	jwksURI       string // overrides the discovery's jwks_uri
	release       chan struct{}

	jwksHits      atomic.Int64
	discoveryHits atomic.Int64
	jkuHits       atomic.Int64
}

// newProvider starts a provider over TLS (or plain http on loopback) that
// serves the keys of signers.
func newProvider(t *testing.T, tls bool, signers ...signer) *provider {
	p := &provider{release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("/jwks", p.jwks)
	mux.HandleFunc("/jku", func(w http.ResponseWriter, r *http.Request) {
		p.jkuHits.Add(1)
		w.Write(jwksJSON(t, ecSigner(5, "attacker")))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n <= 1 {
			http.Redirect(w, r, "/jwks", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/to-http", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://jwks.example/jwks", http.StatusFound)
	})
	if tls {
		p.srv = httptest.NewTLSServer(mux)
	} else {
		p.srv = httptest.NewServer(mux)
	}
	t.Cleanup(func() {
		p.unblock()
		p.srv.Close()
	})
	p.issuer = p.srv.URL
	p.serve(t, signers...)
	return p
}

// serve makes /jwks answer the keys of signers.
func (p *provider) serve(t testing.TB, signers ...signer) {
	p.set("", jwksJSON(t, signers...))
}

// set switches what /jwks answers.
func (p *provider) set(mode string, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if body != nil {
		p.body = body
	}
}

// update changes the provider's settings.
func (p *provider) update(f func(p *provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// unblock releases the requests that "block" holds, and every later one.
func (p *provider) unblock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

func (p *provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.discoveryHits.Add(1)
	p.mu.Lock()
	doc := map[string]any{"issuer": p.issuer, "jwks_uri": p.srv.URL + "/jwks"}
	switch p.jwksURI {
	case "":
	case "-":
		delete(doc, "jwks_uri")
	default:
		doc["jwks_uri"] = p.jwksURI
	}
	if p.discoveryAlgs != nil {
		doc["id_token_signing_alg_values_supported"] = p.discoveryAlgs
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

func (p *provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.jwksHits.Add(1)
	p.mu.Lock()
	mode, release := p.mode, p.release
	p.mu.Unlock()
	if mode == "block" {
		select {
		case <-release:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // no answer at all
		}
	}
	p.mu.Lock()
	mode, body, cc := p.mode, p.body, p.cacheControl
	p.mu.Unlock()
	switch mode {
	case "500":
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	case "garbage":
		w.Write([]byte(`{"keys": [ this is not JSON`))
		return
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Write(body)
}

// logBuffer collects a logger's JSON records.
type logBuffer struct{ testkit.SyncBuffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records whose message contains msg.
func (l *logBuffer) records(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(l.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.Contains(fmt.Sprint(rec["msg"]), msg) {
			out = append(out, rec)
		}
	}
	return out
}

// fakeClock is the clock of a set's rate limit.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// options are the Options of a test: the provider's TLS client, a log, a
// fake clock for the rate limit, and no background refresh to speak of.
func options(p *provider, log *logBuffer, clock *fakeClock) keyset.Options {
	o := keyset.Options{
		Refresh:    time.Hour,
		MinRefresh: time.Minute,
		Timeout:    10 * time.Second,
		Logger:     log.logger(),
	}
	if p != nil {
		o.Client = p.srv.Client()
	}
	if clock != nil {
		keyset.SetClock(&o, clock.now)
	}
	return o
}

// must returns a function that fails the test on a constructor's error
// and closes the set at the end.
func must(t *testing.T) func(*keyset.Set, error) *keyset.Set {
	return func(s *keyset.Set, err error) *keyset.Set {
		t.Helper()
		if err != nil {
			t.Fatalf("building the set: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// newPolicy is a policy that verifies with sets.
func newPolicy(t *testing.T, sets ...policy.KeySet) *policy.JWT {
	t.Helper()
	p, err := policy.NewJWT(policy.Config{KeySets: sets, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// resolverPolicy is a policy that verifies with the sets r resolves.
func resolverPolicy(t *testing.T, r policy.IssuerResolver) *policy.JWT {
	t.Helper()
	p, err := policy.NewJWT(policy.Config{IssuerResolver: r, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// authRequest is a request that presents tok.
func authRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "JWT token="+tok)
	return r
}

// authenticate presents tok to p: nil when it verifies as alice.
func authenticate(p *policy.JWT, tok string) error {
	uid, err := p.AuthenticatedUserID(authRequest(tok))
	if err == nil && uid != "alice" {
		return fmt.Errorf("authenticated %q, not alice", uid)
	}
	return err
}

func mustAccept(t *testing.T, p *policy.JWT, tok, what string) {
	t.Helper()
	if err := authenticate(p, tok); err != nil {
		t.Fatalf("%s: refused: %v", what, err)
	}
}

// mustRefuse checks that tok is refused for reason.
func mustRefuse(t *testing.T, p *policy.JWT, tok string, reason error, what string) {
	t.Helper()
	err := authenticate(p, tok)
	if err == nil {
		t.Fatalf("%s: accepted", what)
	}
	if !errors.Is(err, policy.ErrInvalidCredentials) || !errors.Is(err, reason) {
		t.Fatalf("%s: refused with %v, want %v", what, err, reason)
	}
}

// eventually waits (up to a generous 10s) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kids lists the kids of a set's keys.
func kids(t *testing.T, s *keyset.Set) []string {
	t.Helper()
	keys, err := s.Keys(context.Background(), "")
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.ID+"/"+k.Algorithm)
	}
	return out
}
