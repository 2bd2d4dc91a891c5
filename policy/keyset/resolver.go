package keyset

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
)

// Defaults of ResolverOptions.
const (
	DefaultMaxIssuers   = 100
	DefaultMaxFailed    = 1000
	DefaultMaxResolving = 4
	DefaultRetryMin     = time.Minute
	DefaultRetryMax     = 15 * time.Minute
)

const (
	// touchEvery is how stale a set's last use may be before a use
	// records it again: a hot set is not written on every token.
	touchEvery = time.Second
	// closeGrace is how much longer than Options.Timeout Close waits for
	// the calls of find in progress.
	closeGrace = time.Second
)

// ErrIssuerRefused is matched by the errors of Resolve for an issuer the
// resolver does not accept, or whose key set cannot be had (yet). A find
// function returns an error that matches it to refuse an issuer without
// a failure being remembered (see NewResolver).
var ErrIssuerRefused = errors.New("keyset: issuer refused")

// ResolverOptions tune a Resolver. The zero value of each field is its
// default.
type ResolverOptions struct {
	// Options build the key set of each issuer (NewTenantResolver), and
	// give the Logger, which receives each issuer resolved, dropped or
	// failed (never a key, nor an issuer that is refused), and the
	// Timeout that bounds each call of find. RequiredAtStart is always
	// true for a resolved set: an issuer whose set cannot be fetched is
	// refused, not kept. AllowHTTP is the only way a resolver takes an
	// issuer over http, a loopback host's included: the issuers it
	// resolves come from tokens.
	Options Options
	// MaxIssuers bounds the issuers whose key sets are kept (default
	// 100): past it, the set used least recently is closed and dropped,
	// and its issuer is resolved again if it comes back.
	MaxIssuers int
	// MaxFailed bounds the issuers remembered as failed (default 1000):
	// past it, the one that failed longest ago is forgotten.
	MaxFailed int
	// MaxResolving bounds the calls of find at the same time (default
	// 4): a token of a new issuer beyond it is refused at once, so that
	// a storm of tokens of new issuers cannot make more fetches at a time.
	MaxResolving int
	// RetryMin is how long an issuer whose resolution failed is refused
	// before it is tried again (default one minute); each failure in a
	// row doubles it, up to RetryMax (default 15 minutes).
	RetryMin, RetryMax time.Duration
}

// Resolver is a policy.IssuerResolver: it finds the key sets of issuers
// that are not known in advance, such as the tenants of a multi-tenant
// provider, whose tokens' iss names the tenant. Put it in
// policy.Config.IssuerResolver. Each issuer it accepts is resolved once, by one
// call of its find function however many tokens ask at once, and its set
// is kept (at most MaxIssuers of them); an issuer that failed is refused
// without a fetch until its retry time. The verifier still checks a
// token's iss exactly against the issuer of the set that verifies it. It
// is safe for concurrent use; Close closes every set it holds.
type Resolver struct {
	accept func(iss string) bool
	find   func(ctx context.Context, iss string) (policy.KeySet, error)
	o      ResolverOptions
	log    *slog.Logger
	now    func() time.Time
	sem    chan struct{}

	mu       sync.RWMutex
	closed   bool
	sets     map[string]*resolvedSet  // by issuer
	failed   map[string]*list.Element // by issuer; of *failure, in failures
	failures list.List                // of *failure, the one that failed longest ago first
	pending  map[string]*resolution
}

var _ policy.IssuerResolver = (*Resolver)(nil)

// failure is an issuer whose resolution failed, refused until retry.
type failure struct {
	iss    string
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

// resolvedSet is the key set of one issuer, as the verifier sees it. Its
// Version is 0 once the resolver dropped it or was closed, so that no
// token verified under it is cached or answered from the verifier's cache
// any longer. Version is what the verifier asks of a set on every use, a
// hit of its cache included, so it is also where a use is recorded, at
// most once per touchEvery.
type resolvedSet struct {
	policy.KeySet
	now      func() time.Time
	gone     atomic.Bool
	lastUsed atomic.Int64 // nanoseconds, by the resolver's clock
}

// Version is the set's, or 0 once it is gone: an entry of the verifier's
// cache recorded under the set's version, even while it was being
// dropped, is stale from then on.
func (s *resolvedSet) Version() uint64 {
	if s.gone.Load() {
		return 0
	}
	s.touch()
	return s.KeySet.Version()
}

// touch records a use of the set, unless one was recorded less than
// touchEvery ago.
func (s *resolvedSet) touch() {
	if n := s.now().UnixNano(); n-s.lastUsed.Load() >= int64(touchEvery) {
		s.lastUsed.Store(n)
	}
}

// NewResolver returns a Resolver of the issuers that accept accepts, whose
// key sets find builds.
//
// A token's iss is not verified when it is resolved: it is whatever the
// sender of the token wrote, and resolving it is what lets the token be
// verified at all. So accept is required: it tells, from iss alone and
// without I/O, whether iss is an issuer of the application's (a tenant
// it knows, in a map or a database it holds in memory), and find is
// called only for an issuer accept accepts. A find that fetches whatever
// iss names (NewOIDC(iss) for any iss) would let anyone make the server
// send requests to any URL, its own network's included. Besides, the
// resolver refuses, before accept is asked, an iss that is not an https
// URL (http only with o.Options.AllowHTTP, even for a loopback host) with
// a host and without a query or fragment.
//
// find returns the issuer's key set, built with RequiredAtStart so that
// an issuer whose keys cannot be fetched is an error (NewOIDC(iss, o)
// with o.RequiredAtStart, say). Each call returns a new set, which the
// resolver owns from then on: it closes it when it drops it (past
// MaxIssuers), when it refuses it, and on Close; a set find keeps and
// hands out again would be closed under its other users. The set's Issuer
// must be iss; a set that holds no key yet (Version 0) counts as a
// failure. A failure is remembered and the issuer refused until its retry
// time, except an error of find that matches ErrIssuerRefused: find
// refusing an issuer is not a failure, is logged at Debug only, and find
// is asked again for the issuer's next token. find must return once its
// ctx is done: ctx, which the token's request does not cancel, ends after
// o.Options.Timeout, and Close waits no longer than that (and a second)
// for the calls in progress. A panic of find is recovered and counts as a
// failure.
func NewResolver(accept func(iss string) bool, find func(ctx context.Context, iss string) (policy.KeySet, error), o ResolverOptions) (*Resolver, error) {
	if accept == nil {
		return nil, errors.New("keyset: a resolver needs an accept function: the issuers it resolves come from tokens, which anyone can send")
	}
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
		accept: accept, find: find, o: o, log: opts.Logger, now: opts.now,
		sem:     make(chan struct{}, o.MaxResolving),
		sets:    map[string]*resolvedSet{},
		failed:  map[string]*list.Element{},
		pending: map[string]*resolution{},
	}, nil
}

// checkResolvable tells whether a resolver may resolve iss at all: an
// https URL (http only with allowHTTP, a loopback host's too), with a
// host, and without user information, a query or a fragment.
func checkResolvable(iss string, allowHTTP bool) error {
	u, err := checkIssuer(iss, allowHTTP)
	switch {
	case err != nil:
		return err
	case u.Scheme != "https" && !allowHTTP:
		return fmt.Errorf("keyset: the issuer %q is not https (a resolver takes http, even for a loopback host, only with AllowHTTP)", shorten(u.Redacted()))
	case u.User != nil:
		return fmt.Errorf("keyset: the issuer %q holds user information", shorten(u.Redacted()))
	}
	return nil
}

// NewTenantResolver returns a Resolver of the OpenID Connect issuers that
// template names, one per tenant of tenants: template holds "{tenant}"
// once, as in "https://login.microsoftonline.com/{tenant}/v2.0", and must
// make, with each tenant, an issuer NewOIDC accepts, https unless
// o.Options.AllowHTTP (a loopback host's too). A tenant is made of ASCII
// letters, digits, '.', '_' and '-', and is neither "." nor "..". A
// token's iss is accepted only when it is template with one of tenants in
// place of "{tenant}", byte for byte (so case-sensitively: "Contoso" is
// not "contoso"); any other iss is refused without a fetch. Each accepted
// issuer is discovered (NewOIDC, with o.Options and RequiredAtStart) when
// its first token comes.
func NewTenantResolver(template string, tenants []string, o ResolverOptions) (*Resolver, error) {
	if strings.Count(template, "{tenant}") != 1 {
		return nil, fmt.Errorf("keyset: the issuer template %q must hold {tenant} once", shorten(template))
	}
	if len(tenants) == 0 {
		return nil, errors.New("keyset: a tenant resolver needs the tenants it accepts")
	}
	issuers := map[string]bool{}
	for _, t := range tenants {
		if !validTenant(t) {
			return nil, fmt.Errorf("keyset: %q is not a tenant (ASCII letters, digits, '.', '_' and '-', not \".\" or \"..\")", shorten(t))
		}
		iss := strings.Replace(template, "{tenant}", t, 1)
		if err := checkResolvable(iss, o.Options.AllowHTTP); err != nil {
			return nil, fmt.Errorf("keyset: the issuer of tenant %q: %w", t, err)
		}
		issuers[iss] = true
	}
	so := o.Options
	so.RequiredAtStart = true
	return NewResolver(func(iss string) bool { return issuers[iss] }, func(_ context.Context, iss string) (policy.KeySet, error) {
		return NewOIDC(iss, so)
	}, o)
}

// validTenant tells whether t may stand for {tenant} in an issuer: ASCII
// letters, digits, '.', '_' and '-', neither "." nor "..", so that it can
// neither leave its path segment or host label nor be read differently
// by a server that decodes or normalizes URLs.
func validTenant(t string) bool {
	if t == "" || t == "." || t == ".." {
		return false
	}
	for _, c := range []byte(t) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

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
// longer than its ctx allows). An iss that is not a URL a resolver takes,
// or that accept refuses, is refused at once, and so is an issuer that
// failed, until its retry time. Every error matches ErrIssuerRefused;
// none holds iss, unless an error of find does (NewOIDC's name the
// issuer, shortened, which was accepted).
func (r *Resolver) Resolve(ctx context.Context, iss string) (policy.KeySet, error) {
	now := r.now()
	r.mu.RLock()
	closed := r.closed
	set, ok := r.sets[iss]
	var f failure
	e, failed := r.failed[iss]
	if failed {
		f = *e.Value.(*failure)
	}
	r.mu.RUnlock()
	switch {
	case closed:
		return nil, fmt.Errorf("%w: the resolver is closed", ErrIssuerRefused)
	case ok:
		// Accepted when it was resolved.
		set.touch()
		return set, nil
	case failed && now.Before(f.retry):
		return nil, fmt.Errorf("%w: %w (tried %s ago; next try in %s)", ErrIssuerRefused, f.err, now.Sub(f.at).Round(time.Second), f.retry.Sub(now).Round(time.Second))
	case checkResolvable(iss, r.o.Options.AllowHTTP) != nil:
		return nil, fmt.Errorf("%w: not an issuer a resolver resolves (an https URL with a host, without a query or fragment)", ErrIssuerRefused)
	case !r.accept(iss):
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
		if errors.Is(c.err, ErrIssuerRefused) {
			return nil, c.err
		}
		return nil, fmt.Errorf("%w: %w", ErrIssuerRefused, c.err)
	}
	return c.set, nil
}

// start returns the resolution of iss in progress, or starts one.
func (r *Resolver) start(iss string) (*resolution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e, failed := r.failed[iss]; {
	case r.closed:
		return nil, fmt.Errorf("%w: the resolver is closed", ErrIssuerRefused)
	case r.sets[iss] != nil:
		c := &resolution{done: make(chan struct{}), set: r.sets[iss]}
		close(c.done)
		return c, nil
	case r.pending[iss] != nil:
		return r.pending[iss], nil
	case failed && r.now().Before(e.Value.(*failure).retry):
		c := &resolution{done: make(chan struct{}), err: e.Value.(*failure).err}
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

// callFind calls find and checks the set it returns, and turns a panic
// of find (or of the set's methods) into an error: it runs in a goroutine
// of its own, where a panic would end the process.
func (r *Resolver) callFind(iss string) (set policy.KeySet, err error) {
	defer func() {
		if v := recover(); v != nil {
			set = nil
			err = fmt.Errorf("find panicked: %s", shorten(fmt.Sprint(v)))
			r.log.Error("jwtauth: the resolver's find panicked; the issuer counts as failed", "issuer", shorten(iss), "panic", shorten(fmt.Sprint(v)), "stack", string(debug.Stack()))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), r.o.Options.Timeout)
	defer cancel()
	set, err = r.find(ctx, iss)
	switch {
	case err != nil:
		return nil, err
	case set == nil || (reflect.ValueOf(set).Kind() == reflect.Pointer && reflect.ValueOf(set).IsNil()):
		return nil, errors.New("no key set found")
	case set.Issuer() == "" || set.Issuer() != iss:
		set.Close()
		return nil, errors.New("the key set found is another issuer's")
	case set.Version() == 0:
		set.Close()
		return nil, errors.New("the key set found holds no key")
	}
	return set, nil
}

// resolve is one call of find.
func (r *Resolver) resolve(iss string, c *resolution) {
	defer func() { <-r.sem }()
	set, err := r.callFind(iss)
	refused := err != nil && errors.Is(err, ErrIssuerRefused)

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
	case refused:
		// Not a failure: nothing is remembered.
	case err != nil:
		r.recordFailure(iss, err, now)
	default:
		r.forgetFailure(iss)
		c.set = &resolvedSet{KeySet: set, now: r.now}
		c.set.lastUsed.Store(now.UnixNano())
		if len(r.sets) >= r.o.MaxIssuers {
			dropped = r.dropLeastUsed()
		}
		r.sets[iss] = c.set
	}
	r.mu.Unlock()

	if dropped != nil {
		dropped.KeySet.Close()
		r.log.Info("jwtauth: issuer's key set dropped (the resolver holds MaxIssuers)", "issuer", shorten(dropped.Issuer()), "max_issuers", r.o.MaxIssuers)
	}
	switch {
	case refused:
		r.log.Debug("jwtauth: issuer refused by the resolver's find", "issuer", shorten(iss), "error", err.Error())
	case err != nil:
		r.log.Warn("jwtauth: issuer not resolved; its tokens are refused until the retry", "issuer", shorten(iss), "error", err.Error())
	default:
		r.log.Info("jwtauth: issuer resolved", "issuer", shorten(iss))
	}
	c.err = err
	close(c.done)
}

// recordFailure remembers that iss failed, as the latest failure, and
// forgets the failure longest ago past MaxFailed; r.mu is held.
func (r *Resolver) recordFailure(iss string, err error, now time.Time) {
	e, known := r.failed[iss]
	if !known {
		if r.failures.Len() >= r.o.MaxFailed {
			oldest := r.failures.Front()
			r.failures.Remove(oldest)
			delete(r.failed, oldest.Value.(*failure).iss)
		}
		e = r.failures.PushBack(&failure{iss: iss})
		r.failed[iss] = e
	} else {
		r.failures.MoveToBack(e)
	}
	f := e.Value.(*failure)
	f.err, f.at, f.streak = err, now, f.streak+1
	f.retry = now.Add(r.retryAfter(f.streak))
}

// forgetFailure forgets that iss failed; r.mu is held.
func (r *Resolver) forgetFailure(iss string) {
	if e, ok := r.failed[iss]; ok {
		r.failures.Remove(e)
		delete(r.failed, iss)
	}
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
	s.gone.Store(true)
	return s
}

// Close closes every set the resolver holds, and refuses every issuer
// from then on. The verifier answers no token from its cache under those
// sets from the moment Close is called. Close waits for the calls of find
// in progress, no longer than Options.Timeout and a second: a find that
// ignores its ctx makes Close return an error, and the set it returns
// later is closed then.
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
	for _, s := range sets {
		s.gone.Store(true)
	}
	var errs []error
	wait := r.o.Options.Timeout + closeGrace
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for i, c := range pending {
		select {
		case <-c.done:
			continue
		case <-deadline.C:
		}
		errs = append(errs, fmt.Errorf("keyset: %d of the resolver's calls of find still running after %v (find must return when its ctx is done)", len(pending)-i, wait))
		break
	}
	for _, s := range sets {
		errs = append(errs, s.KeySet.Close())
	}
	return errors.Join(errs...)
}
