package policy_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/policy"
)

// TestCachedTokenHeap measures the heap a cached token holds: N tokens of
// 500 bytes are verified twice each (the second time caches them) and
// dropped, and the heap that stays, over N, is one entry's cost, the
// token itself included (the cache keeps it as its key).
func TestCachedTokenHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n, size = 20_000, 500
	v, err := policy.NewVerifier(policy.Config{
		Algorithm: "HS256", MasterSecret: testSecret, Now: clock, CacheSize: 2 * n,
		Issuer: "https://issuer.example/", Audience: []string{"api"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(i int, pad string) string {
		payload := fmt.Sprintf(`{"sub":"user-%07d","iss":"https://issuer.example/","aud":"api","iat":%d,"exp":%d,"groups":["editors","staff"],"pad":%q}`,
			i, testNow.Unix(), testNow.Unix()+3600, pad)
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// The padding that makes a token of exactly size bytes.
	pad := ""
	for len(mint(0, pad)) < size {
		pad += "x"
	}
	if got := len(mint(0, pad)); got != size {
		t.Fatalf("a token of %d bytes, not %d", got, size)
	}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		raw := mint(i, pad)
		for range 2 {
			if tok := v.Verify(ctx, raw); tok.Err != nil {
				t.Fatal(tok.Err)
			}
		}
		if _, ok := v.Known(ctx, raw); !ok {
			t.Fatal("the token was not cached")
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	perToken := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("a cached %d-byte token holds %.0f bytes of heap", size, perToken)
	// 500-byte token: the token (512, its size class), the cache's node
	// (128: otter's header 48, the key 16, cachedToken 64), the claim set
	// (32), the userid (16), and the cache's table and sketch (about 40);
	// a second copy of the payload would add 320, a cachedToken 8 bytes
	// larger 16.
	if perToken > 760 {
		t.Errorf("a cached %d-byte token holds %.0f bytes of heap; want at most 760", size, perToken)
	}
	runtime.KeepAlive(v)
}

// TestCachedCookieTokenKeepsNoHeader presents each token in a Cookie
// header beside a 4,000-byte cookie of another name, as a site's other
// cookies come: the token the cookie policy reads is part of that header,
// and the cache must keep the token's bytes alone, not the whole header,
// for as long as the entry lives.
func TestCachedCookieTokenKeepsNoHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n = 2_000
	p, err := policy.NewCookie(policy.CookieConfig{Config: policy.Config{
		MasterSecret: testSecret, Now: clock, CacheSize: 2 * n, Logger: slog.New(slog.DiscardHandler),
	}})
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("o", 4000)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = mintHS(t, validClaims(fmt.Sprintf("user-%05d", i)))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		for range 2 { // the second time caches it
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", "prefs="+other+"; jwt="+tok)
			if _, err := p.AuthenticatedUserID(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("a cached cookie token of %d bytes holds %.0f bytes of heap", len(toks[0]), per)
	// The token (about 200 bytes) and the entry: well under the 4,000
	// bytes of the header around it.
	if per > 1500 {
		t.Errorf("a cached cookie token holds %.0f bytes of heap; want at most 1,500 (the Cookie header is kept)", per)
	}
	runtime.KeepAlive(p)
	runtime.KeepAlive(toks)
}
