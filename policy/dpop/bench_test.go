package dpop

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkVerify measures one proof verification, from the request to
// the proof, per algorithm, with a fresh proof each time (each jti is
// recorded once: the replay cache grows, as it would in a service, to its
// bound).
func BenchmarkVerify(b *testing.B) {
	keys(b)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
	}{
		{jose.ES256, ecKey}, {jose.EdDSA, edKey}, {jose.RS256, rsaKey}, {jose.PS256, rsaKey},
	} {
		b.Run(string(tc.alg), func(b *testing.B) {
			v := newTestVerifier(b, Config{Replay: NewMemoryReplayCache(1<<30, nil), Now: func() time.Time { return t0 }})
			// Proofs made beforehand: a pool of distinct jtis.
			const pool = 256
			proofs := make([]string, pool)
			for i := range proofs {
				proofs[i] = mint(b, spec{alg: tc.alg, key: tc.key})
			}
			reqs := make([]*http.Request, pool)
			for i := range reqs {
				reqs[i] = request(proofs[i])
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i%pool == 0 {
					v.replay = NewMemoryReplayCache(1<<30, nil) // every proof new again
				}
				if _, err := v.Verify(ctx, reqs[i%pool], testToken); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
