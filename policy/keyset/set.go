// Package keyset builds the key sets that verify tokens of identity
// providers, for policy.Config.KeySets: the JSON Web Key Set in a file
// (NewFile), at a URL (NewURL), or found by OpenID Connect discovery
// (NewOIDC); and, for policy.Config.IssuerResolver, the resolvers of the
// issuers not known in advance of a multi-tenant provider
// (NewTenantResolver, NewResolver). Options give each the
// application's *http.Client (a private CA, a proxy, a client certificate),
// the bounds of its refresh and its logger.
//
// A *Set answers from memory, refreshes in the background, and refetches
// at most once per Options.MinRefresh when a token names a kid it does not
// hold, one fetch shared by every request that asks at once. Every set is
// read by ParseJWKS, the one parser: only asymmetric keys, each bound to
// one algorithm; a key the set cannot use safely is skipped and logged by
// its kid and the reason, never with its material. No URL is ever taken
// from a token. Keys that never change are a policy.NewStaticKeySet.
package keyset

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
)

// Defaults of Options.
const (
	DefaultRefresh    = time.Hour
	DefaultMinRefresh = time.Minute
	DefaultTimeout    = 10 * time.Second
	DefaultFilePoll   = 2 * time.Second
)

// MaxBodyBytes bounds a key set or a discovery document, file or response:
// a larger one is a failed fetch.
const MaxBodyBytes = 1 << 20

// MaxRedirects is the number of redirects a fetch follows.
const MaxRedirects = 3

// ErrNoKeySet is matched by the error of Keys when no key set was ever
// fetched: the policy then refuses the token (401), it does not fail.
var ErrNoKeySet = errors.New("keyset: no key set fetched yet")

// Options tune a Set. The zero value of each field is its default.
type Options struct {
	// Refresh is the longest time between two fetches (default one hour);
	// a response's Cache-Control max-age shortens it, down to MinRefresh.
	Refresh time.Duration
	// MinRefresh is the shortest time between two fetches: of a refetch
	// for an unknown kid, of a refresh that Cache-Control asks for, and the
	// first delay after a failure (default one minute, or Refresh when that
	// is shorter). It must not exceed Refresh.
	MinRefresh time.Duration
	// Timeout bounds each fetch, discovery included (default 10s).
	Timeout time.Duration
	// AllowHTTP accepts http:// URLs. Loopback hosts (localhost,
	// 127.0.0.0/8, ::1) are accepted over http in any case.
	AllowHTTP bool
	// RequiredAtStart makes the constructors fail when the first fetch
	// does; otherwise the Set starts empty, refuses every token, and keeps
	// trying in the background.
	RequiredAtStart bool
	// Algorithms is the allow-list of the keys' algorithms; nil means every
	// asymmetric algorithm the policy supports. HMAC is never allowed.
	Algorithms []string
	// Client makes the requests. nil: a client with Timeout. Either way,
	// redirects are followed at most MaxRedirects times, each to a URL that
	// passes the same https rule.
	Client *http.Client
	// Logger receives the fetch failures, the updates and the skipped
	// keys, never key material. Default slog.Default().
	Logger *slog.Logger
	// FilePoll is how often NewFile's file is checked for a change (of its
	// modification time or size). Default 2s.
	FilePoll time.Duration
	// Observer is told of each fetch and whether it succeeded
	// (policy.Observer.KeySetFetched): each request of a URL (with its
	// discovery), each read of a file (at the start, when it changed, or
	// for an unknown kid; not a poll that finds it unchanged). Default nil.
	Observer *policy.Observer

	now func() time.Time // the clock of the rate limit; tests set it
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = min(DefaultMinRefresh, o.Refresh)
	}
	if o.MinRefresh > o.Refresh {
		return o, fmt.Errorf("keyset: the minimum refresh interval (%v) exceeds the refresh interval (%v)", o.MinRefresh, o.Refresh)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FilePoll <= 0 {
		o.FilePoll = DefaultFilePoll
	}
	asym := policy.KeySetAlgorithms()
	if o.Algorithms == nil {
		o.Algorithms = asym
	} else {
		for _, a := range o.Algorithms {
			switch {
			case slices.Contains(asym, a):
			case slices.Contains(policy.SupportedAlgorithms(), a):
				return o, fmt.Errorf("keyset: %s is never allowed for a key set: its keys are public", a)
			default:
				return o, fmt.Errorf("keyset: unsupported algorithm %q", a)
			}
		}
		if len(o.Algorithms) == 0 {
			return o, errors.New("keyset: the allow-list of algorithms is empty")
		}
		o.Algorithms = slices.Clone(o.Algorithms)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}

// snapshot is one key set, never changed once published.
type snapshot struct {
	keys    []policy.Key
	byKid   map[string][]policy.Key
	version uint64
}

func newSnapshot(keys []policy.Key, version uint64) *snapshot {
	s := &snapshot{keys: slices.Clip(keys), byKid: map[string][]policy.Key{}, version: version}
	for _, k := range keys {
		if k.ID != "" {
			s.byKid[k.ID] = slices.Clip(append(s.byKid[k.ID], k))
		}
	}
	return s
}

// call is one fetch, which any number of callers may wait for.
type call struct {
	done chan struct{} // closed when the fetch is over
	err  error         // set before done is closed
}

// result is what a fetch found.
type result struct {
	keys   []policy.Key  // nil: the same set as before
	maxAge time.Duration // the response's Cache-Control max-age, or -1
	// unread: a file whose modification time and size had not changed,
	// so not read (no fetch, for Options.Observer).
	unread bool
}

// Set is a key set that can change: an identity provider's JWKS, kept in
// memory and refreshed. It is safe for concurrent use; Keys never blocks
// when the current set can answer. Close stops its background work.
type Set struct {
	issuer string
	o      Options
	logger *slog.Logger
	client *http.Client
	where  string // the source, for logs and errors: a path, or a URL without credentials
	// source is the source for Options.Observer: the path, or the URL
	// without credentials and query.
	source string

	path string // NewFile's file

	// Owned by the fetch in progress. Fetches never overlap, and each
	// starts under mu after the one before it ended under mu.
	url          string            // the JWKS URL: given, or found by discovery
	discoveryURL string            // NewOIDC's discovery document; "" once read
	algs         []string          // the allow-list, which discovery may narrow
	bodyHash     [sha256.Size]byte // of the body of the current set
	hasBody      bool
	fileMod      time.Time // of the file last read
	fileSize     int64
	quietStart   bool // set while the constructor fetches, when it returns the error

	snap        atomic.Pointer[snapshot]
	inflight    atomic.Pointer[call]
	epoch       time.Time    // when the set was made, on the monotonic clock
	lastAttempt atomic.Int64 // when the last fetch started, in nanoseconds since epoch

	mu          sync.Mutex // guards what follows, and starting a fetch
	closed      bool
	failures    int    // consecutive failed fetches
	lastFailure string // the error of the last fetch, if it failed

	resched chan time.Duration // the delay until the next background fetch
	ctx     context.Context    // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var _ policy.KeySet = (*Set)(nil)

func newSet(issuer string, o Options) (*Set, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Set{issuer: issuer, o: o, logger: o.Logger, algs: o.Algorithms, resched: make(chan time.Duration, 1), epoch: o.now()}
	s.client = newClient(o)
	return s, nil
}

// log is the Set's logger.
func (s *Set) log() *slog.Logger { return s.logger }

// begin makes the first fetch and starts the background refresh.
func (s *Set) begin() (*Set, error) {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// A failure the constructor returns is not logged.
	s.quietStart = s.o.RequiredAtStart || s.path != ""
	c := s.start(false)
	<-c.done
	s.quietStart = false
	if c.err != nil {
		if s.o.RequiredAtStart || s.path != "" {
			s.Close()
			return nil, fmt.Errorf("keyset: no key set from %s: %w", s.where, c.err)
		}
		// run logged the failure; the background fetches keep trying.
	}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

// Issuer returns the iss of the tokens the set verifies; "" for any.
func (s *Set) Issuer() string { return s.issuer }

// Version returns a number that changes whenever the keys change; 0 until
// a key set was fetched.
func (s *Set) Version() uint64 {
	if snap := s.snap.Load(); snap != nil {
		return snap.version
	}
	return 0
}

// Keys returns the keys of kid (kid is matched exactly; a key without a kid
// never answers a token that names one), or every key when kid is "". When
// it holds no key of kid, or no set yet, it refetches first, unless a fetch
// started less than MinRefresh ago; concurrent callers share one fetch, and
// each waits no longer than its ctx allows. The slices returned are shared
// and must not be changed.
func (s *Set) Keys(ctx context.Context, kid string) ([]policy.Key, error) {
	if keys, ok := s.answer(kid); ok {
		return keys, nil
	}
	if c := s.refetch(); c != nil {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("keyset: waiting for the key set of %s: %w", s.where, ctx.Err())
		}
	}
	if s.snap.Load() == nil {
		return nil, fmt.Errorf("%w from %s", ErrNoKeySet, s.where)
	}
	keys, _ := s.answer(kid)
	return keys, nil
}

// answer reads the current set: ok is false when it cannot answer.
func (s *Set) answer(kid string) (keys []policy.Key, ok bool) {
	snap := s.snap.Load()
	if snap == nil {
		return nil, false
	}
	if kid == "" {
		return snap.keys, true
	}
	keys, ok = snap.byKid[kid]
	return keys, ok
}

// refetch returns the fetch in progress, or starts one when none started
// in the last MinRefresh; nil when neither.
func (s *Set) refetch() *call {
	if c := s.inflight.Load(); c != nil {
		return c
	}
	if s.sinceLastAttempt() < s.o.MinRefresh {
		// A fetch may have started between the two loads (start stores
		// the call before the time): wait for it, if it is still going;
		// once it is done, its keys are published.
		return s.inflight.Load()
	}
	return s.start(true)
}

// sinceLastAttempt is the time since the last fetch started, measured on
// the monotonic clock, so that a change of the wall clock cannot hold
// refetches back.
func (s *Set) sinceLastAttempt() time.Duration {
	return s.o.now().Sub(s.epoch) - time.Duration(s.lastAttempt.Load())
}

// start returns the fetch in progress, or starts one. A rate-limited start
// (for an unknown kid) is refused when a fetch started in the last
// MinRefresh. nil once the set is closed.
func (s *Set) start(rateLimited bool) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if c := s.inflight.Load(); c != nil {
		return c
	}
	if rateLimited && s.sinceLastAttempt() < s.o.MinRefresh {
		return nil
	}
	c := &call{done: make(chan struct{})}
	s.inflight.Store(c)
	s.lastAttempt.Store(int64(s.o.now().Sub(s.epoch)))
	s.wg.Add(1)
	go s.run(c, rateLimited)
	return c
}

// run is one fetch. It publishes the keys it found, schedules the next
// background fetch and logs what happened.
func (s *Set) run(c *call, onDemand bool) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	res, err := s.load(ctx, onDemand)
	cancel()
	if o := s.o.Observer; o != nil && o.KeySetFetched != nil && !res.unread {
		o.KeySetFetched(s.source, err == nil) // the one place of a key-set fetch
	}
	var old, cur *snapshot
	if err == nil && res.keys != nil {
		old, cur = s.publish(res.keys)
	}

	s.mu.Lock()
	if err != nil {
		s.failures++
	} else {
		s.failures = 0
	}
	failures := s.failures
	delay := s.nextDelay(res, err, failures)
	select {
	case <-s.resched: // a stale delay
	default:
	}
	s.resched <- delay
	// A file that stays broken is reported once.
	report := err != nil && s.ctx.Err() == nil && !s.quietStart && (s.path == "" || err.Error() != s.lastFailure)
	s.lastFailure = ""
	if err != nil {
		s.lastFailure = err.Error()
	}
	s.inflight.Store(nil)
	s.mu.Unlock()

	switch {
	case report:
		msg := "jwtauth: key set fetch failed; the last good set keeps serving"
		if s.snap.Load() == nil {
			msg = "jwtauth: key set fetch failed; no key set yet, so every token is refused"
		}
		s.log().Warn(msg, "source", s.where, "error", err.Error(), "failures", failures, "retry_in", delay.String())
	case err == nil && cur != old:
		s.log().Info("jwtauth: key set updated", "source", s.where, "version", cur.version, "keys", len(cur.keys), "kids", kidsOf(cur.keys))
	}
	c.err = err
	close(c.done)
}

// publish stores keys as the current set, with a new version when they
// differ from the set before.
func (s *Set) publish(keys []policy.Key) (old, cur *snapshot) {
	old = s.snap.Load()
	if old != nil && sameKeys(old.keys, keys) {
		return old, old
	}
	var v uint64 = 1
	if old != nil {
		v = old.version + 1
	}
	cur = newSnapshot(keys, v)
	s.snap.Store(cur)
	return old, cur
}

// nextDelay is the time until the next background fetch: FilePoll for a
// file; after a failure, a backoff from MinRefresh doubling up to Refresh;
// after a success, Refresh, or the response's max-age within MinRefresh and
// Refresh. A little jitter brings it forward, never below MinRefresh.
func (s *Set) nextDelay(res result, err error, failures int) time.Duration {
	if s.path != "" {
		return s.o.FilePoll
	}
	d := s.o.Refresh
	switch {
	case err != nil:
		d = s.o.MinRefresh
		for i := 1; i < failures && d < s.o.Refresh; i++ {
			d *= 2
		}
		d = min(d, s.o.Refresh)
	case res.maxAge >= 0:
		d = max(min(res.maxAge, s.o.Refresh), s.o.MinRefresh)
	}
	if j := d / 10; j > 0 {
		d -= rand.N(j)
	}
	return max(d, s.o.MinRefresh)
}

// loop runs the background fetches until Close.
func (s *Set) loop() {
	defer s.wg.Done()
	t := time.NewTimer(time.Duration(math.MaxInt64))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case d := <-s.resched:
			t.Reset(d)
		case <-t.C:
			// The fetch sends the next delay when it ends.
			s.start(false)
		}
	}
}

// Close stops the background work and waits for it to end. The keys
// already fetched keep answering. Close is idempotent.
func (s *Set) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// sameKeys tells whether a and b hold the same keys, in any order.
func sameKeys(a, b []policy.Key) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range b {
		if !slices.ContainsFunc(a, func(o policy.Key) bool {
			eq, ok := o.Material.(interface{ Equal(crypto.PublicKey) bool })
			return o.ID == k.ID && o.Algorithm == k.Algorithm && ok && eq.Equal(k.Material)
		}) {
			return false
		}
	}
	return true
}

// kidsOf lists the kids of keys for a log, bounded.
func kidsOf(keys []policy.Key) []string {
	var kids []string
	for _, k := range keys {
		if len(kids) == 20 {
			kids = append(kids, "…")
			break
		}
		kids = append(kids, logKid(k.ID))
	}
	return kids
}

// logKid bounds a kid, which the provider chose, for a log.
func logKid(kid string) string {
	const max = 64
	if len(kid) > max {
		return kid[:max] + "…"
	}
	return kid
}
