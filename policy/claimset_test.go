package policy

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/testkit"
)

// The claim set's full decode made to disagree with decodeRegistered (no
// payload is known that does: FuzzDecodeRegistered looks for one), through
// its test hook. Every caller of the claims must then fail safe: no
// finder, rule or re-issued token given nil claims as if there were none.

var claimSetSecret = []byte("a claim set test secret, 32 byte")

var claimSetNow = time.Unix(1_700_000_000, 0)

// undecodable makes every full decode fail until the test ends.
func undecodable(t *testing.T) {
	t.Helper()
	decodeLazily = func([]byte) (Claims, error) { return nil, errors.New("the test's decoder refuses it") }
	t.Cleanup(func() { decodeLazily = decodeClaims })
}

func claimSetToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"sub": "alice", "iat": claimSetNow.Unix(), "exp": claimSetNow.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	return testkit.Mint(t, jose.HS256, claimSetSecret, c)
}

func claimSetConfig(logger *slog.Logger) Config {
	return Config{MasterSecret: claimSetSecret, Now: func() time.Time { return claimSetNow }, Logger: logger}
}

func headerRequest(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "JWT token="+tok)
	return r
}

// TestUndecodableClaimsRejectUser: a group finder that refuses a user for
// a claim is never asked with no claims; the user is rejected, logged with
// a reason and without the token.
func TestUndecodableClaimsRejectUser(t *testing.T) {
	var logs testkit.SyncBuffer
	cfg := claimSetConfig(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	asked := 0
	cfg.GroupFinder = func(userid string, r *http.Request, claims Claims) ([]string, bool) {
		asked++
		if _, blocked := claims["blocked"]; blocked {
			return nil, false
		}
		return []string{"group:staff"}, true
	}
	p, err := NewJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok := claimSetToken(t, map[string]any{"blocked": true})
	if _, err := p.AuthenticatedUserID(headerRequest(tok)); !errors.Is(err, ErrUserRejected) {
		t.Fatalf("a blocked user, claims decoding: %v; want ErrUserRejected", err)
	}

	undecodable(t)
	asked = 0
	r := headerRequest(tok)
	uid, err := p.AuthenticatedUserID(r)
	if !errors.Is(err, ErrUserRejected) || uid != "" {
		t.Errorf("claims that do not decode: %q, %v; want ErrUserRejected", uid, err)
	}
	if asked != 0 {
		t.Errorf("the group finder was asked %d times without claims", asked)
	}
	if principals, _ := p.EffectivePrincipals(r); len(principals) != 1 || principals[0] != Everyone {
		t.Errorf("principals %q; want [%s]", principals, Everyone)
	}
	if l := logs.String(); !strings.Contains(l, "user rejected") || !strings.Contains(l, "do not decode") || strings.Contains(l, tok) || strings.Contains(l, tok[strings.LastIndexByte(tok, '.')+1:]) {
		t.Errorf("logs:\n%s", l)
	}
}

// TestUndecodableClaimsAccessors: without a group finder the user is
// authenticated (its claims are not decoded for the identity), and the
// accessors hand out no claims, those that can say so with an error.
func TestUndecodableClaimsAccessors(t *testing.T) {
	p, err := NewJWT(claimSetConfig(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCookie(CookieConfig{Config: claimSetConfig(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	tok := claimSetToken(t, map[string]any{"blocked": true})
	undecodable(t)

	r := headerRequest(tok)
	if claims, err := p.Claims(r); claims != nil || !errors.Is(err, ErrUserRejected) || !errors.Is(err, errClaimsUndecodable) {
		t.Errorf("JWT.Claims: %v, %v; want no claims and ErrUserRejected", claims, err)
	}
	if claims := IdentityOf(r, p).Claims(); claims != nil {
		t.Errorf("Identity.Claims: %v", claims)
	}
	if claims := p.v.Verify(r.Context(), tok).Claims(); claims != nil {
		t.Errorf("VerifiedToken.Claims: %v", claims)
	}
	cr := httptest.NewRequest(http.MethodGet, "/", nil)
	cr.AddCookie(&http.Cookie{Name: c.CookieName(), Value: tok})
	if claims, err := c.Claims(cr); claims != nil || !errors.Is(err, ErrUserRejected) {
		t.Errorf("Cookie.Claims: %v, %v; want no claims and ErrUserRejected", claims, err)
	}
}

// TestUndecodableClaimsNotReissued: a sliding session's token whose claims
// do not decode is not re-issued, and reissued refuses to sign a token of
// other claims (before, it wrote iat into a nil map).
func TestUndecodableClaimsNotReissued(t *testing.T) {
	cfg := CookieConfig{Config: claimSetConfig(slog.New(slog.DiscardHandler)), ReissueAfter: time.Minute}
	c, err := NewCookie(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok := claimSetToken(t, map[string]any{"iat": claimSetNow.Add(-10 * time.Minute).Unix(), "jti": "session"})
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: c.CookieName(), Value: tok})
		return r
	}
	admitted := func() http.Header {
		w := httptest.NewRecorder()
		h := Authenticate(c)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		h.ServeHTTP(w, request())
		return w.Header()
	}
	if h := admitted(); len(h.Values("Set-Cookie")) != 1 {
		t.Fatalf("a due session with claims that decode is not re-issued: %q", h.Values("Set-Cookie"))
	}

	undecodable(t)
	if h := admitted(); len(h.Values("Set-Cookie")) != 0 {
		t.Errorf("claims that do not decode: re-issued %q", h.Values("Set-Cookie"))
	}
	r := WithIdentity(request(), c)
	id := IdentityOf(r, c)
	if id.Err != nil {
		t.Fatalf("identity: %v", id.Err)
	}
	if c.due(id) {
		t.Error("due with claims that do not decode")
	}
	value, err := func() (v string, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = errors.New("reissued panicked")
				t.Errorf("reissued panicked: %v", p)
			}
		}()
		return c.reissued(id, claimSetNow)
	}()
	if value != "" || !errors.Is(err, errClaimsUndecodable) {
		t.Errorf("reissued: %q, %v; want errClaimsUndecodable", value, err)
	}
}

// TestUndecodableClaimsRevokedOnForget: a signed-out token whose claims
// do not decode is revoked all the same (with every token of its user,
// since its jti cannot be read), never left valid as a token without jti.
func TestUndecodableClaimsRevokedOnForget(t *testing.T) {
	now := claimSetNow
	clock := func() time.Time { return now }
	store := NewMemoryRevocations(0, clock)
	var logs testkit.SyncBuffer
	cfg := claimSetConfig(slog.New(slog.NewTextHandler(&logs, nil)))
	cfg.Now, cfg.Revocation = clock, store
	p, err := NewJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok := claimSetToken(t, map[string]any{"jti": "signed-out"})
	other := claimSetToken(t, map[string]any{"jti": "other"})
	if _, err := p.AuthenticatedUserID(headerRequest(tok)); err != nil {
		t.Fatal(err)
	}

	undecodable(t)
	if _, err := SignOut(headerRequest(tok), p); err != nil {
		t.Errorf("SignOut: %v", err)
	}
	decodeLazily = decodeClaims
	now = now.Add(time.Second)
	if _, err := p.AuthenticatedUserID(headerRequest(tok)); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("the signed-out token: %v; want ErrTokenRevoked", err)
	}
	if _, err := p.AuthenticatedUserID(headerRequest(other)); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("another token of the user: %v; want ErrTokenRevoked", err)
	}
	if l := logs.String(); !strings.Contains(l, "every token of its user is revoked") || strings.Contains(l, tok) {
		t.Errorf("logs:\n%s", l)
	}
}

// TestCachedTokenSize holds the cache's value to 64 bytes and the cache's
// claim sets to 32: with otter's node header (48) and the key (16), a node
// of 128 bytes, a size class of its own; 8 bytes more would make every
// node 144 (TestCachedTokenHeap measures the whole entry).
func TestCachedTokenSize(t *testing.T) {
	if n := unsafe.Sizeof(cachedToken{}); n > 64 {
		t.Errorf("cachedToken is %d bytes, want at most 64", n)
	}
	if n := unsafe.Sizeof(claimSet{}); n > 32 {
		t.Errorf("claimSet is %d bytes, want at most 32", n)
	}
}
