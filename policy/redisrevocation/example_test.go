package redisrevocation_test

import (
	"context"
	"log"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/redisrevocation"
)

// A JWT policy whose revocations every instance of the service shares
// through Redis. (No Output: it needs a Redis server; the tests run the
// same calls against a real one.)
func Example() {
	store, err := redisrevocation.Open("redis://:password@127.0.0.1:6379/0", redisrevocation.Options{
		Timeout: 200 * time.Millisecond, // a token not cached, a revocation
	})
	if err != nil {
		log.Fatal(err) // a malformed URL; a server that is down is no error
	}
	defer store.Close()
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: []byte("a secret of at least 32 bytes, from your settings"),
		Revocation:   store,
		// RevocationFailOpen: true would accept tokens while Redis is down.
	})
	if err != nil {
		log.Fatal(err)
	}
	// Sign out everywhere: every token of alice issued until now is
	// refused by every instance within a second.
	if err := policy.RevokeUser(context.Background(), p, "alice"); err != nil {
		log.Print(err) // wraps redisrevocation.ErrUnavailable when Redis is down
	}
}
