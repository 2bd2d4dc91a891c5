package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The claims every token carries, whoever verifies it: sub, iat, exp (one
// hour), a groups claim, and iss and aud, which auth0's validator requires
// (so every contender is configured to check them).
const (
	issuer   = "https://issuer.bench.example/"
	audience = "bench-api"
	warmSize = 1000
)

var algs = []string{"HS256", "RS256", "ES256", "EdDSA"}

// keyset is one algorithm's keys: sign mints the good tokens, verify is
// what the contenders are configured with, and other signs the tokens that
// must be refused.
type keyset struct {
	alg    string
	method jwt.SigningMethod
	sign   any // []byte or crypto.Signer
	verify any // []byte or a public key
	other  any // another key of the same kind
}

var (
	keysOnce sync.Once
	keysets  map[string]*keyset
)

func keys() map[string]*keyset {
	keysOnce.Do(func() {
		keysets = map[string]*keyset{}
		for _, alg := range algs {
			keysets[alg] = newKeyset(alg)
		}
	})
	return keysets
}

func newKeyset(alg string) *keyset {
	k := &keyset{alg: alg}
	gen := func() (priv crypto.Signer, secret []byte) {
		var err error
		switch alg {
		case "HS256":
			secret = make([]byte, 32)
			_, err = rand.Read(secret)
		case "RS256":
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		case "ES256":
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case "EdDSA":
			_, priv, err = ed25519.GenerateKey(rand.Reader)
		}
		if err != nil {
			panic(err)
		}
		return priv, secret
	}
	switch alg {
	case "HS256":
		k.method = jwt.SigningMethodHS256
		_, s := gen()
		_, o := gen()
		k.sign, k.verify, k.other = s, s, o
	default:
		k.method = map[string]jwt.SigningMethod{"RS256": jwt.SigningMethodRS256, "ES256": jwt.SigningMethodES256, "EdDSA": jwt.SigningMethodEdDSA}[alg]
		p, _ := gen()
		o, _ := gen()
		k.sign, k.verify, k.other = p, p.Public(), o
	}
	return k
}

// token is one minted token and the userid it names.
type token struct {
	raw    string
	header string // "Bearer " + raw: the Authorization header of every contender
	sub    string
}

// mint signs the claims of user n with key, using golang-jwt (not this
// project's code), at now.
func mint(k *keyset, key any, n int, now time.Time) token {
	return mintWith(k, key, n, now, nil)
}

// mintWith is mint with the claims, or the header, changed by mod (nil:
// unchanged) before signing.
func mintWith(k *keyset, key any, n int, now time.Time, mod func(*jwt.Token)) token {
	sub := fmt.Sprintf("user-%07d", n)
	t := jwt.NewWithClaims(k.method, jwt.MapClaims{
		"sub":    sub,
		"iss":    issuer,
		"aud":    audience,
		"iat":    now.Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"groups": []string{"editors", "staff"},
	})
	if mod != nil {
		mod(t)
	}
	raw, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return token{raw: raw, header: "Bearer " + raw, sub: sub}
}

// pool is a growing list of distinct tokens of one algorithm, minted in
// parallel, outside any timer.
type pool struct {
	mu     sync.Mutex
	k      *keyset
	base   int              // the first user's number
	mod    func(*jwt.Token) // changes each token before it is signed (nil: none)
	tokens []token
}

var (
	poolsMu sync.Mutex
	cold    = map[string]*pool{}
	warm    = map[string]*pool{}
)

func poolOf(m map[string]*pool, alg string, base int) *pool { return poolOfWith(m, alg, base, nil) }

// poolOfWith is poolOf with each token changed by mod before it is
// signed; mod is used only when the pool is made.
func poolOfWith(m map[string]*pool, alg string, base int, mod func(*jwt.Token)) *pool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p := m[alg]
	if p == nil {
		p = &pool{k: keys()[alg], base: base, mod: mod}
		m[alg] = p
	}
	return p
}

// coldTokens returns n tokens; each is distinct from the others.
func coldTokens(alg string, n int) []token { return poolOf(cold, alg, 0).take(n) }

// warmTokens returns the warm pool of the algorithm, warmSize tokens whose
// users are distinct from the cold pool's.
func warmTokens(alg string) []token { return poolOf(warm, alg, 5_000_000).take(warmSize) }

func (p *pool) take(n int) []token {
	p.mu.Lock()
	defer p.mu.Unlock()
	if have := len(p.tokens); have < n {
		more := make([]token, n-have)
		now := time.Now()
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(more); i += workers {
					more[i] = mintWith(p.k, p.k.sign, p.base+have+i, now, p.mod)
				}
			})
		}
		wg.Wait()
		p.tokens = append(p.tokens, more...)
	}
	return p.tokens[:n]
}
