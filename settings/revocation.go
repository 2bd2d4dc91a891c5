package settings

import (
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/redisrevocation"
)

// The settings of token revocation, without the prefix.
const (
	kRevocation        = "revocation"
	kRevocationFailure = "revocation_failure"
)

// revocationMemory is the value of jwtauth.revocation that keeps the
// revoked tokens in the process's memory.
const revocationMemory = "memory"

// readRevocation checks the value of jwtauth.revocation: memory, or the
// URL of a Redis server, redis://[user:password@]host:port/db or rediss://
// (TLS). The URL is returned with its scheme and host in lowercase, so
// that two spellings of one server name one store; errors show it without
// its password.
func readRevocation(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == revocationMemory {
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", bad("is neither %s nor a redis:// or rediss:// URL", revocationMemory)
	}
	if u.Opaque != "" {
		// redis:user:password@host: no "//", and the password is in the
		// part url.Redacted does not hide.
		return "", bad("a %s: URL needs // before its host: %s://[user:password@]host:port/db", u.Scheme, u.Scheme)
	}
	// The messages quote nothing of the value: a password with an
	// unencoded '#', '?' or '/' lands in the fragment, the query or the
	// path, where url.Redacted does not hide it.
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return "", bad("is neither %s nor a redis:// or rediss:// URL", revocationMemory)
	case u.Host == "" || u.Port() == "" && strings.HasSuffix(u.Host, ":"):
		return "", bad("names no host (redis://[user:password@]host:port/db)")
	case u.RawQuery != "" || u.Fragment != "":
		return "", bad("has a query or a fragment (redis://[user:password@]host:port/db; a '#', '?' or '/' in the password must be percent-encoded)")
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" && strings.Trim(db, "0123456789") != "" {
		return "", bad("names a database that is not a number (redis://[user:password@]host:port/db; a '/' in the password must be percent-encoded)")
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

func setRevocationFailure(c *policy.Config, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "closed":
		c.RevocationFailOpen = false
	case "open":
		c.RevocationFailOpen = true
	default:
		return bad("%q is not closed (refuse tokens, 503) or open (accept them, with a warning)", v)
	}
	return nil
}

// revocationStores are the revocation stores of one NewPolicy, one per
// value of jwtauth.revocation, so that the policies of a stack share
// theirs: a token one policy's Forget revokes is revoked for the others;
// and the observer NewPolicy gives its policies (WithObserver).
type revocationStores struct {
	mu       sync.Mutex
	stores   map[string]policy.RevocationStore
	observer *policy.Observer
}

func newRevocationStores() *revocationStores {
	return &revocationStores{stores: map[string]policy.RevocationStore{}}
}

// get returns the store of spec, made on first use with logger.
func (r *revocationStores) get(spec string, logger *slog.Logger) (policy.RevocationStore, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.stores[spec]; ok {
		return s, nil
	}
	s, err := openRevocation(spec, logger)
	if err != nil {
		return nil, err
	}
	r.stores[spec] = s
	return s, nil
}

// closeAll closes the stores, for a NewPolicy that failed.
func (r *revocationStores) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stores {
		s.Close()
	}
}

// openRevocation makes the store of spec: the in-memory store, or the
// Redis store of a redis:// or rediss:// URL (redisrevocation.Open, which
// connects in the background: a server that is down is no error).
func openRevocation(spec string, logger *slog.Logger) (policy.RevocationStore, error) {
	if spec == revocationMemory {
		return policy.NewMemoryRevocations(0, nil), nil
	}
	return redisrevocation.Open(spec, redisrevocation.Options{Logger: logger})
}
