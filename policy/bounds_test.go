package policy_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

// Row 15 of the verifier checklist, measured: a huge Authorization header
// must be refused at a cost that does not grow with its size.

const hugeTokenMiB = 1 << 20

// hugeTokenCases are the two huge headers: a megabyte of dots after
// "Bearer " (CVE-2025-30204's input) and a megabyte of base64url letters
// as a "JWT token=" auth-param.
func hugeTokenCases() []struct{ name, scheme, authz string } {
	letters := make([]byte, hugeTokenMiB)
	for i := range letters {
		letters[i] = base64URLChars[i%len(base64URLChars)]
	}
	return []struct{ name, scheme, authz string }{
		{"bearer-dots", "Bearer", "Bearer " + strings.Repeat(".", hugeTokenMiB)},
		{"jwt-token-letters", "JWT", "JWT token=" + string(letters)},
	}
}

// hugeTokenBody returns a benchmark body presenting authz to p, with the
// last error in *last. Every op is a request of its own, as under
// Authenticate, which keeps one identity a request: clone false makes it
// a shallow copy of one request (sharing its Header, whose 1 MiB string is
// never copied), clone true uses r.Clone (which copies the Header map, not
// the string).
// The header itself is built once, before the timer.
func hugeTokenBody(p *policy.JWT, authz string, clone bool, last *error) func(b *testing.B) {
	return func(b *testing.B) {
		base := newRequest(authz)
		ctx := base.Context()
		b.ReportAllocs()
		for b.Loop() {
			var r *http.Request
			if clone {
				r = base.Clone(ctx)
			} else {
				r = new(http.Request)
				*r = *base
			}
			_, *last = p.AuthenticatedUserID(r)
		}
	}
}

func hugeTokenPolicy(tb testing.TB, scheme string) *policy.JWT {
	tb.Helper()
	p, err := policy.NewJWT(policy.Config{MasterSecret: testSecret, Schemes: schemes(scheme), Now: clock, Logger: discard})
	if err != nil {
		tb.Fatalf("NewJWT: %v", err)
	}
	return p
}

func BenchmarkHugeToken(b *testing.B) {
	for _, c := range hugeTokenCases() {
		p := hugeTokenPolicy(b, c.scheme)
		for _, mode := range []struct {
			name  string
			clone bool
		}{{"copy", false}, {"clone", true}} {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				var err error
				hugeTokenBody(p, c.authz, mode.clone, &err)(b)
				if !errors.Is(err, policy.ErrTokenTooLarge) {
					b.Errorf("err = %v, want ErrTokenTooLarge", err)
				}
			})
		}
	}
}

// TestHugeTokenMemory runs the benchmark bodies and bounds their
// allocations per request. The header (about 1 MiB) is built once outside
// the timer, so what an op allocates is the verifier's own work. The
// checklist's bound is a small multiple of the header: 4× leaves room for
// a copy or two, while a verifier that split the header on its dots (1 Mi
// empty strings of 16 bytes, the CVE-2025-30204 pattern) or decoded it
// whole would blow through it. Since the policy caps the header at
// 2×MaxTokenBytes+256 before reading it, the real cost is expected to be
// independent of the header's size, so a second, tighter bound of
// 2×DefaultMaxTokenBytes per op is asserted too.
func TestHugeTokenMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks")
	}
	for _, c := range hugeTokenCases() {
		t.Run(c.name, func(t *testing.T) {
			p := hugeTokenPolicy(t, c.scheme)
			var err error
			res := testing.Benchmark(hugeTokenBody(p, c.authz, false, &err))
			if res.N == 0 {
				t.Fatal("the benchmark did not run")
			}
			if !errors.Is(err, policy.ErrTokenTooLarge) || !errors.Is(err, policy.ErrInvalidCredentials) {
				t.Errorf("err = %v, want ErrTokenTooLarge", err)
			}
			per := res.AllocedBytesPerOp()
			t.Logf("%s: %d B/op, %d allocs/op, %d ns/op over %d ops", c.name, per, res.AllocsPerOp(), res.NsPerOp(), res.N)
			if limit := 4 * int64(len(c.authz)); per > limit {
				t.Errorf("%d bytes allocated per request; want at most 4× the %d-byte header", per, len(c.authz))
			}
			if limit := int64(2 * policy.DefaultMaxTokenBytes); per > limit {
				t.Errorf("%d bytes allocated per request; want at most %d, whatever the header's size", per, limit)
			}
		})
	}
}

// TestMaxTokenBytesBoundary: the default cap is 8192 bytes, inclusive. A
// token of exactly 8192 bytes is parsed and verified (and so fails for its
// signature when it is badly signed, or passes when it is well signed);
// one of 8193 fails for its size whatever its signature.
func TestMaxTokenBytesBoundary(t *testing.T) {
	if policy.DefaultMaxTokenBytes != 8192 {
		t.Fatalf("DefaultMaxTokenBytes = %d, want 8192", policy.DefaultMaxTokenBytes)
	}
	p := hugeTokenPolicy(t, "") // MaxTokenBytes left at its default
	wrong := []byte("another-secret-another-secret-32")
	for _, c := range []struct {
		name   string
		size   int
		secret []byte
		want   error
	}{
		{"8192 well signed", 8192, testSecret, nil},
		{"8192 badly signed", 8192, wrong, policy.ErrInvalidSignature},
		{"8193 well signed", 8193, testSecret, policy.ErrTokenTooLarge},
		{"8193 badly signed", 8193, wrong, policy.ErrTokenTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := tokenOfSize(t, c.size, c.secret)
			uid, err := p.AuthenticatedUserID(newRequest(jwtAuth(tok)))
			switch {
			case c.want == nil && (err != nil || uid != "u"):
				t.Errorf("AuthenticatedUserID = %q, %v; want u", uid, err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// tokenOfSize is an HS256 token of exactly size bytes, for sub "u", valid
// at testNow, signed with secret. A kid of 0 to 3 characters and a pad
// claim adjust the length (an encoded segment's length is never 1 mod 4,
// so the header's length varies too).
func tokenOfSize(t *testing.T, size int, secret []byte) string {
	t.Helper()
	for k := 0; k < 4; k++ {
		h := `{"alg":"HS256","typ":"JWT","kid":"` + strings.Repeat("k", k) + `"}`
		base := clClaims("u")
		// Start a few bytes short of the size: each pad byte adds 4/3
		// of a character.
		short := len(clHMAC(secret, h, base[:len(base)-1]+`,"pad":""}`))
		for n := max(0, (size-short)*3/4-4); n < size; n++ {
			payload := base[:len(base)-1] + `,"pad":"` + strings.Repeat("x", n) + `"}`
			tok := clHMAC(secret, h, payload)
			if len(tok) == size {
				return tok
			}
			if len(tok) > size {
				break
			}
		}
	}
	t.Fatalf("test setup: no token of %d bytes", size)
	return ""
}
