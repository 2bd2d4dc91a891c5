package keyset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
)

// Defaults of ResolverOptions.
const (
	DefaultMaxIssuers    = 100
	DefaultMaxFailed     = 1000
	DefaultMaxResolving  = 4
	DefaultRetryMin      = time.Minute
	DefaultRetryMax      = 15 * time.Minute
	resolvedDroppedBit   = 1 << 63
	maxLoggedIssuerBytes = 128
)

// ErrIssuerRefused is matched by the errors of Resolve for an issuer the
// resolver does not accept, or whose key set cannot be had (yet).
var ErrIssuerRefused = errors.New("keyset: issuer refused")

// ResolverOptions tune a Resolver. The zero value of each field is its
// default.
type ResolverOptions struct {
	// Options build the key set of each issuer (NewTenantResolver), and
	// give the Logger, which receives each issuer resolved, dropped or
	// failed (never a key, nor an issuer that Accept refuses). RequiredAtStart is always true for a resolved set: an
	// issuer whose set cannot be fetched is refused, not kept.
	Options Options
	// MaxIssuers bounds the issuers whose key sets are kept (default
	// 100): past it, the set used least recently is closed and dropped,
	// and its issuer is resolved again if it comes back.
	MaxIssuers int
	// MaxFailed bounds the issuers remembered as failed (default 1000):
	// past it, the oldest failure is forgotten.
	MaxFailed int
	// MaxResolving bounds the issuers resolved at the same time (default
	// 4): a token of a new issuer beyond it is refused at once, so that
	// a storm of tokens of new issuers cannot make more fetches at a time.
	MaxResolving int
	// Accept, when set, tells without I/O whether iss may be resolved at
	// all: a token of an issuer it refuses is refused at once, with no
	// call of find, nothing logged and nothing remembered. NewTenantResolver
	// sets it to its tenants' issuers.
	Accept func(iss string) bool
	// RetryMin is how long an issuer whose resolution failed is refused
	// before it is tried again (default one minute); each failure in a
	// row doubles it, up to RetryMax (default 15 minutes).
	RetryMin, RetryMax time.Duration
}

// Resolver is a policy.IssuerResolver: it finds the key sets of issuers
// that are not known in advance, such as the tenants of a multi-tenant
// provider, whose tokens' iss names the tenant. Put it in
// policy.Config.KeySets. Each issuer is resolved once, by one call of its
// find function however many tokens ask at once, and its set is kept (at
// most MaxIssuers of them); an issuer that failed is refused without a
// fetch until its retry time. The verifier still checks a token's iss
// exactly against the issuer of the set that verifies it. It is safe for
// concurrent use; Close closes every set it holds.
type Resolver struct {
	find func(ctx context.Context, iss string) (policy.KeySet, error)
	o    ResolverOptions
	log  *slog.Logger
	now  func() time.Time
	sem  chan struct{}

	mu      sync.RWMutex
	closed  bool
	sets    map[string]*resolvedSet // by issuer
	failed  map[string]failure
	pending map[string]*resolution
}

var _ policy.IssuerResolver = (*Resolver)(nil)

// failure is an issuer whose resolution failed, refused until retry.
type failure struct {
	err    error
	at     time.Time
	retry  time.Time
	streak int // failures in a row
}

// resolution is one call of find, which any number of callers wait for.
type resolution struct {
	done chan struct{}
	set  *resolvedSet // or nil, and err
	err  error
}

// resolvedSet is the key set of one issuer, as the verifier sees it: its
// Version changes for good once the resolver drops it, so that no token
// verified under it is answered from the verifier's cache any longer.
type resolvedSet struct {
	policy.KeySet
	dropped  atomic.Bool
	lastUsed atomic.Int64 // nanoseconds, by the resolver's clock
}

// Version is the set's, with its top bit set once the set is dropped.
func (s *resolvedSet) Version() uint64 {
	v := s.KeySet.Version()
	if s.dropped.Load() {
		v |= resolvedDroppedBit
	}
	return v
}

// NewResolver returns a Resolver that finds the key set of an issuer with
// find, the application's: it returns an error (no fetch) for an issuer
// it does not accept, and otherwise the issuer's set, built with
// RequiredAtStart so that an issuer whose keys cannot be fetched is an
// error (NewOIDC(iss, o) with o.RequiredAtStart, say). The set's Issuer
// must be iss; a set that holds no key yet (Version 0) counts as a
// failure, and is closed. find is called with a context that the
// token's request does not cancel, bounded by o.Options.Timeout.
func NewResolver(find func(ctx context.Context, iss string) (policy.KeySet, error), o ResolverOptions) (*Resolver, error) {
	if find == nil {
		return nil, errors.New("keyset: a resolver needs a find function")
	}
	opts, err := o.Options.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Options = opts
	if o.MaxIssuers <= 0 {
		o.MaxIssuers = DefaultMaxIssuers
	}
	if o.MaxFailed <= 0 {
		o.MaxFailed = DefaultMaxFailed
	}
	if o.MaxResolving <= 0 {
		o.MaxResolving = DefaultMaxResolving
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax <= 0 {
		o.RetryMax = max(DefaultRetryMax, o.RetryMin)
	}
	if o.RetryMin > o.RetryMax {
		return nil, fmt.Errorf("keyset: the shortest retry interval (%v) exceeds the longest (%v)", o.RetryMin, o.RetryMax)
	}
	return &Resolver{
		find: find, o: o, log: opts.Logger, now: opts.now,
		sem:     make(chan struct{}, o.MaxResolving),
		sets:    map[string]*resolvedSet{},
		failed:  map[string]failure{},
		pending: map[string]*resolution{},
	}, nil
}

// NewTenantResolver returns a Resolver of the OpenID Connect issuers that
// template names, one per tenant of tenants: template holds "{tenant}"
// once, as in "https://login.microsoftonline.com/{tenant}/v2.0". A token's
// iss is accepted only when it is template with one of tenants in place of
// "{tenant}", exactly; any other iss is refused without a fetch. Each
// accepted issuer is discovered (NewOIDC, with o.Options and
// RequiredAtStart) when its first token comes.
func NewTenantResolver(template string, tenants []string, o ResolverOptions) (*Resolver, error) {
	if strings.Count(template, "{tenant}") != 1 {
		return nil, fmt.Errorf("keyset: the issuer template %q must hold {tenant} once", template)
	}
	if len(tenants) == 0 {
		return nil, errors.New("keyset: a tenant resolver needs the tenants it accepts")
	}
	issuers := map[string]bool{}
	for _, t := range tenants {
		if t == "" || strings.ContainsAny(t, "/?#{}") {
			return nil, fmt.Errorf("keyset: %q is not a tenant (empty, or holds one of /?#{})", t)
		}
		iss := strings.Replace(template, "{tenant}", t, 1)
		if _, err := checkURL(iss, nil, o.Options.AllowHTTP); err != nil {
			return nil, fmt.Errorf("keyset: the issuer of tenant %q: %w", t, err)
		}
		issuers[iss] = true
	}
	so := o.Options
	so.RequiredAtStart = true
	o.Accept = func(iss string) bool { return issuers[iss] }
	return NewResolver(func(_ context.Context, iss string) (policy.KeySet, error) {
		return NewOIDC(iss, so)
	}, o)
}

// Issuer returns "": a resolver names no issuer itself.
func (r *Resolver) Issuer() string { return "" }

// Keys answers no key: a resolver's keys are those of the set Resolve
// returns for a token's issuer.
func (r *Resolver) Keys(context.Context, string) ([]policy.Key, error) {
	return nil, fmt.Errorf("%w: a resolver holds keys only per issuer (Resolve)", ErrIssuerRefused)
}

// Version is 0: the versions that count are those of the sets Resolve
// returns.
func (r *Resolver) Version() uint64 { return 0 }

// Issuers returns the issuers whose key sets the resolver holds, sorted.
func (r *Resolver) Issuers() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for iss := range r.sets {
		out = append(out, iss)
	}
	slices.Sort(out)
	return out
}

// Resolve returns the key set of issuer iss: the one it holds, or the one
// find returns, once, however many callers ask at once (each waits no
// longer than its ctx allows). An issuer that failed is refused until its
// retry time. Every error matches ErrIssuerRefused; none holds iss,
// unless an error of find does (NewOIDC's name the issuer, which was
// accepted).
func (r *Resolver) Resolve(ctx context.Context, iss string) (policy.KeySet, error) {
	now := r.now()
	r.mu.RLock()
	set, ok := r.sets[iss]
	f, failed := r.failed[iss]
	closed := r.closed
	r.mu.RUnlock()
	switch {
	case closed:
		return nil, fmt.Errorf("%w: the resolver is closed", ErrIssuerRefused)
	case ok:
		// Accepted when it was resolved.
		set.lastUsed.Store(now.UnixNano())
		return set, nil
	case failed && now.Before(f.retry):
		return nil, fmt.Errorf("%w: %w (tried %s ago; next try in %s)", ErrIssuerRefused, f.err, now.Sub(f.at).Round(time.Second), f.retry.Sub(now).Round(time.Second))
	case r.o.Accept != nil && !r.o.Accept(iss):
		return nil, fmt.Errorf("%w: not an issuer the resolver accepts", ErrIssuerRefused)
	}

	c, err := r.start(iss)
	if err != nil {
		return nil, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the issuer's key set: %w", ErrIssuerRefused, ctx.Err())
	}
	if c.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIssuerRefused, c.err)
	}
	return c.set, nil
}

// start returns the resolution of iss in progress, or starts one.
func (r *Resolver) start(iss string) (*resolution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch f, failed := r.failed[iss]; {
	case r.closed:
		return nil, fmt.Errorf("%w: the resolver is closed", ErrIssuerRefused)
	case r.sets[iss] != nil:
		c := &resolution{done: make(chan struct{}), set: r.sets[iss]}
		close(c.done)
		return c, nil
	case r.pending[iss] != nil:
		return r.pending[iss], nil
	case failed && r.now().Before(f.retry):
		c := &resolution{done: make(chan struct{}), err: f.err}
		close(c.done)
		return c, nil
	}
	select {
	case r.sem <- struct{}{}:
	default:
		return nil, fmt.Errorf("%w: %d issuers are being resolved already", ErrIssuerRefused, r.o.MaxResolving)
	}
	c := &resolution{done: make(chan struct{})}
	r.pending[iss] = c
	go r.resolve(iss, c)
	return c, nil
}

// resolve is one call of find.
func (r *Resolver) resolve(iss string, c *resolution) {
	defer func() { <-r.sem }()
	ctx, cancel := context.WithTimeout(context.Background(), r.o.Options.Timeout)
	set, err := r.find(ctx, iss)
	cancel()
	switch {
	case err != nil:
	case set == nil:
		err = errors.New("no key set found")
	case set.Issuer() != iss:
		set.Close()
		err = errors.New("the key set found is another issuer's")
	case set.Version() == 0:
		set.Close()
		err = errors.New("the key set found holds no key")
	}

	var dropped *resolvedSet
	r.mu.Lock()
	delete(r.pending, iss)
	now := r.now()
	switch {
	case r.closed:
		if err == nil {
			set.Close()
			err = errors.New("the resolver is closed")
		}
	case err != nil:
		f := r.failed[iss]
		f.err, f.at, f.streak = err, now, f.streak+1
		f.retry = now.Add(r.retryAfter(f.streak))
		if _, known := r.failed[iss]; !known && len(r.failed) >= r.o.MaxFailed {
			r.forgetOldestFailure()
		}
		r.failed[iss] = f
	default:
		delete(r.failed, iss)
		c.set = &resolvedSet{KeySet: set}
		c.set.lastUsed.Store(now.UnixNano())
		if len(r.sets) >= r.o.MaxIssuers {
			dropped = r.dropLeastUsed()
		}
		r.sets[iss] = c.set
	}
	r.mu.Unlock()

	if dropped != nil {
		dropped.Close()
		r.log.Info("jwtauth: issuer's key set dropped (the resolver holds MaxIssuers)", "issuer", logIssuer(dropped.Issuer()), "max_issuers", r.o.MaxIssuers)
	}
	if err != nil {
		r.log.Warn("jwtauth: issuer not resolved; its tokens are refused until the retry", "issuer", logIssuer(iss), "error", err.Error())
	} else {
		r.log.Info("jwtauth: issuer resolved", "issuer", logIssuer(iss))
	}
	c.err = err
	close(c.done)
}

// retryAfter is the time an issuer that failed streak times in a row is
// refused: RetryMin, doubled for each failure after the first, up to
// RetryMax.
func (r *Resolver) retryAfter(streak int) time.Duration {
	d := r.o.RetryMin
	for i := 1; i < streak && d < r.o.RetryMax; i++ {
		if d > math.MaxInt64/2 {
			return r.o.RetryMax
		}
		d *= 2
	}
	return min(d, r.o.RetryMax)
}

// dropLeastUsed removes the set used least recently; r.mu is held.
func (r *Resolver) dropLeastUsed() *resolvedSet {
	var oldest string
	var at int64 = math.MaxInt64
	for iss, s := range r.sets {
		if t := s.lastUsed.Load(); t < at {
			oldest, at = iss, t
		}
	}
	s := r.sets[oldest]
	delete(r.sets, oldest)
	s.dropped.Store(true)
	return s
}

// forgetOldestFailure removes the oldest failure; r.mu is held.
func (r *Resolver) forgetOldestFailure() {
	var oldest string
	var at time.Time
	for iss, f := range r.failed {
		if oldest == "" || f.at.Before(at) {
			oldest, at = iss, f.at
		}
	}
	delete(r.failed, oldest)
}

// Close closes every set the resolver holds, and refuses every issuer
// from then on. Resolutions in progress end first.
func (r *Resolver) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	sets := r.sets
	r.sets = map[string]*resolvedSet{}
	pending := make([]*resolution, 0, len(r.pending))
	for _, c := range r.pending {
		pending = append(pending, c)
	}
	r.mu.Unlock()
	for _, c := range pending {
		<-c.done
	}
	var errs []error
	for _, s := range sets {
		s.dropped.Store(true)
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// logIssuer bounds an issuer, which may come from a token, for a log.
func logIssuer(iss string) string {
	if len(iss) > maxLoggedIssuerBytes {
		return iss[:maxLoggedIssuerBytes] + "…"
	}
	return iss
}
