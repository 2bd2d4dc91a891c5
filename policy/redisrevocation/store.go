// Package redisrevocation is a [policy.RevocationStore] on Redis, shared by
// the instances of a service: a token revoked on one instance is refused by
// every other within a second.
//
// The store is built on github.com/redis/rueidis with server-assisted
// client-side caching (RESP3 CLIENT TRACKING): every answer the store gets
// from Redis, a key that is missing (the common case: a token nobody
// revoked) as well as one that is there, is kept in the instance's memory,
// and Redis tells the instance when a key it cached changes. So the check
// the verifier makes on every request is, once a token has been seen, two
// lookups in local memory (the token's jti, its subject) and no I/O; and
// for a token in the verifier's cache, one atomic load while the store's
// [Store.Version] stays where it was when the store last answered for
// it. A token not seen yet costs one round trip, both keys in one
// request, bounded by [Options].Timeout.
//
// # Staleness
//
// A revocation made on one instance reaches the others when Redis's
// invalidation message does, in well under a millisecond to a few
// milliseconds on a local network. When that message cannot arrive (the
// connection is broken, or Redis or the network stalls without closing
// it), two things bound how long an instance may go on answering from its
// cache: the cache is flushed when the connection is lost, and no answer
// is used longer than [Options].CacheTTL after it was fetched (900 ms by
// default, at most 1 s, which Open enforces: an entry is dropped 6/8 of
// CacheTTL after it was asked for, and the version that verifiers keep an
// answer at moves on every 1/8, leaving 1/8 for a tick that comes late).
// Past that the instance asks Redis, and
// while Redis cannot answer, Revoked fails with [ErrUnavailable], which the
// policies answer 503 (or accept, with Config.RevocationFailOpen). A
// revocation is therefore refused by every instance within CacheTTL plus
// the network's delay, below one second.
//
// # Keys
//
// Under [Options].KeyPrefix (default "jwtauth:revoked:"):
//
//	<prefix>jti:<jti>        "1", expiring when the token does (the jti the
//	                         store is given: policy.RevocationID's iss and jti)
//	<prefix>sub:<subject>    unix seconds: the subject's tokens issued before are revoked;
//	                         expiring when the last of them does
//	<prefix>subh:<sha256>    the same for a subject over MaxSubjectLen bytes (hex SHA-256)
//	<prefix>jtih:<sha256>    the same for a jti over MaxJTILen bytes
//	<prefix>dpop:<key>       "1": a DPoP proof seen (FirstUse), expiring when
//	                         the proof would be too old anyway
//	<prefix>dpoph:<sha256>   the same for a key over MaxJTILen bytes
//
// Entries expire with the tokens they revoke, so the keys do not grow
// without bound. Revocations of a subject keep the
// later "before" and the later expiry of the one already there (atomically,
// in a script), so two concurrent sign-outs never lower them.
//
// For revocations to survive a restart of Redis, run it with persistence
// (appendonly yes); without it a restarted Redis has forgotten them.
// Client-side caching needs Redis 6 or later over RESP3 (no RESP2-only
// proxy), and, with an ACL user, the permissions of CLIENT TRACKING and
// CLIENT CACHING besides GET, SET, PTTL and EVALSHA/EVAL: Open fails when
// Redis refuses the connection so (or refuses its password, or its
// database), and logs, without failing, a server it cannot reach yet.
package redisrevocation

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/dpop"
)

// Options tune a Store; zero values are defaults.
type Options struct {
	// Logger receives the store's own messages: the server unreachable at
	// Open, lost and back again. Default slog.Default(). Nothing the store
	// logs holds a password, a token or a jti.
	Logger *slog.Logger
	// TLSConfig is the TLS configuration for rediss:// URLs (it is not used
	// for redis://). Default: the system's roots and, as ServerName, the
	// URL's host; a configuration without ServerName gets the URL's host.
	TLSConfig *tls.Config
	// CacheTTL is how long an answer of Redis is kept in memory at most,
	// [DefaultCacheTTL] when 0. It bounds how stale an answer can be when
	// Redis's invalidations cannot arrive, so it must be at most
	// [MaxCacheTTL] (one second): Open refuses more, and less than
	// [MinCacheTTL].
	CacheTTL time.Duration
	// Timeout bounds each call that goes to Redis (a token not cached, a
	// revocation) and each step of a connection attempt (the dial and the
	// TLS handshake, then the handshake of RESP3 and tracking: Open takes
	// up to twice Timeout against a server that never answers),
	// [DefaultTimeout] when 0. A check made while another request's
	// reconnection is under way may wait for it, up to Timeout.
	Timeout time.Duration
	// KeyPrefix is put before every key, [DefaultKeyPrefix] when "".
	// At most 128 bytes.
	KeyPrefix string
}

// The defaults and bounds of Options.
const (
	DefaultCacheTTL  = 900 * time.Millisecond
	MinCacheTTL      = 10 * time.Millisecond
	MaxCacheTTL      = time.Second
	DefaultTimeout   = 200 * time.Millisecond
	DefaultKeyPrefix = "jwtauth:revoked:"
	maxKeyPrefix     = 128
)

// MaxJTILen is the longest jti the store keeps as it is in its key, in
// bytes; a longer one is keyed by its SHA-256.
const MaxJTILen = 256

// MaxSubjectLen is the longest subject kept as it is in its key, in bytes;
// a longer one is keyed by its SHA-256.
const MaxSubjectLen = 128

// ErrUnavailable is the error, wrapped, of a call the store could not make:
// Redis is unreachable, did not answer within Options.Timeout, refused the
// credentials or the command, or the store is closed.
var ErrUnavailable = errors.New("redisrevocation: redis unavailable")

// Store is a policy.RevocationStore on one Redis server (or a proxy that
// speaks RESP3 to one). It is safe for concurrent use.
type Store struct {
	client   rueidis.Client
	ttl      time.Duration // CacheTTL
	entryTTL time.Duration // how long rueidis keeps an answer: ttl - 2 ticks
	tick     time.Duration // how often version moves on by itself
	timeout  time.Duration
	prefix   string
	jtiPre   string // prefix + "jti:"
	subPre   string // prefix + "sub:"
	subHPre  string // prefix + "subh:"
	jtiHPre  string // prefix + "jtih:"
	dpopPre  string // prefix + "dpop:"
	dpopHPre string // prefix + "dpoph:"
	log      *slog.Logger
	where    string // the URL without credentials, for logs and String
	down     atomic.Bool
	closed   atomic.Bool
	keyBufs  sync.Pool
	revokeTo *rueidis.Lua
	revokeSu *rueidis.Lua
	// version is Version: it moves on with every invalidation Redis
	// sends (and a connection lost), every revocation made here, and every
	// tick, so that no answer a verifier keeps outlives its copy here.
	version atomic.Uint64
	stop    chan struct{} // closed by Close, ends the ticker
	// recent are the keys this instance revoked in the last CacheTTL, so
	// that its own next check sees them before Redis's invalidation of its
	// cached answer arrives (which comes after the revocation's reply).
	recent recentRevocations
}

// recentRevocations are the keys an instance revoked lately: the key, the
// time it is kept until, and, for a subject's, its "before" second.
type recentRevocations struct {
	n  atomic.Int32 // len(m), read without the lock on every check
	mu sync.Mutex
	m  map[string]recentRevocation
}

type recentRevocation struct {
	until  time.Time
	before int64
}

// put remembers key until until, dropping the entries that expired.
func (r *recentRevocations) put(key string, until time.Time, before int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]recentRevocation{}
	}
	now := time.Now()
	for k, e := range r.m {
		if !now.Before(e.until) {
			delete(r.m, k)
		}
	}
	if old, ok := r.m[key]; ok && old.before > before {
		before = old.before
	}
	r.m[key] = recentRevocation{until: until, before: before}
	r.n.Store(int32(len(r.m)))
}

// get returns key's entry while it is kept.
func (r *recentRevocations) get(key []byte) (recentRevocation, bool) {
	if r.n.Load() == 0 {
		return recentRevocation{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[string(key)]
	return e, ok && time.Now().Before(e.until)
}

var (
	_ policy.RevocationStore = (*Store)(nil)
	_ dpop.ReplayCache       = (*Store)(nil)
)

// Open connects to the Redis server of rawURL:
// redis://[user:password@]host:port/db, or rediss:// for TLS. The port
// defaults to 6379 and the db to 0; a password alone
// (redis://:password@host) is the default user's. Open waits at most
// twice Options.Timeout for a first connection, and does not fail when
// the server cannot be reached (the store answers ErrUnavailable until it
// can, and connects by itself then); a malformed URL, an unknown scheme, a
// db that is not a number, Options out of bounds, and a server that
// refuses the connection (a wrong password, an ACL user without the
// permissions, no client-side caching) are errors, which never show the
// password.
func Open(rawURL string, o Options) (*Store, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.CacheTTL < MinCacheTTL || o.CacheTTL > MaxCacheTTL {
		return nil, fmt.Errorf("redisrevocation: CacheTTL %v: it must be at least %v and at most %v, the staleness bound", o.CacheTTL, MinCacheTTL, MaxCacheTTL)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("redisrevocation: Timeout %v: it must be positive", o.Timeout)
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if len(o.KeyPrefix) > maxKeyPrefix {
		return nil, fmt.Errorf("redisrevocation: KeyPrefix of %d bytes: at most %d", len(o.KeyPrefix), maxKeyPrefix)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	opt := rueidis.ClientOption{
		InitAddress:       []string{t.addr},
		Username:          t.user,
		Password:          t.password,
		SelectDB:          t.db,
		ForceSingleClient: true, // one server: no cluster probing, and a client even when it is down
		// A broken connection is noticed within a few seconds at worst
		// (a ping unanswered); answers are bounded by the caller's
		// deadline (Timeout) meanwhile.
		ConnWriteTimeout: 2 * time.Second,
		// A client name lets an operator tell the instances apart in
		// CLIENT LIST.
		ClientName: "jwtauth-revocation",
		// The cached answers: about 600 bytes each (a key and its
		// reply), so room for about 25,000 live tokens and users; an
		// entry pushed out is asked of Redis again.
		CacheSizeEachConn: 16 << 20,
	}
	opt.Dialer.Timeout = o.Timeout
	opt.Dialer.KeepAlive = time.Second
	if t.tls {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.TLSConfig != nil {
			cfg = o.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.host
		}
		opt.TLSConfig = cfg
	}
	s := &Store{
		ttl:      o.CacheTTL,
		tick:     o.CacheTTL / ticksPerCacheTTL,
		entryTTL: o.CacheTTL - 2*(o.CacheTTL/ticksPerCacheTTL),
		stop:     make(chan struct{}),
		timeout:  o.Timeout,
		prefix:   o.KeyPrefix,
		jtiPre:   o.KeyPrefix + "jti:",
		subPre:   o.KeyPrefix + "sub:",
		subHPre:  o.KeyPrefix + "subh:",
		jtiHPre:  o.KeyPrefix + "jtih:",
		dpopPre:  o.KeyPrefix + "dpop:",
		dpopHPre: o.KeyPrefix + "dpoph:",
		log:      o.Logger,
		where:    t.redacted,
	}
	s.keyBufs.New = func() any { b := make([]byte, 0, 64); return &b }
	s.version.Store(1)
	// Called by rueidis for every invalidation, and with nil when a
	// connection's cache is dropped (the connection lost): any of them
	// may change an answer.
	opt.OnInvalidations = func([]rueidis.RedisMessage) { s.version.Add(1) }
	s.revokeTo = rueidis.NewLuaScript(revokeTokenScript)
	s.revokeSu = rueidis.NewLuaScript(revokeSubjectScript)
	client, err := rueidis.NewClient(opt)
	if client == nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrUnavailable, s.where, redact(err, t.password))
	}
	s.client = client
	if refused(err) {
		// Redis answered, and said no: a wrong password, a user without
		// the permissions, a database out of range, no tracking. That is
		// a configuration to fix, not an outage to wait out.
		client.Close()
		return nil, fmt.Errorf("redisrevocation: %s refuses the store: %s", s.where, redact(err, t.password))
	}
	if err != nil {
		s.down.Store(true)
		s.log.Warn("jwtauth: the revocation store's redis cannot be reached yet; revocation checks fail until it can",
			"redis", s.where, "error", redact(err, t.password))
	}
	go s.ticker(newTicker(s.tick))
	return s, nil
}

// ticksPerCacheTTL: the version moves on every CacheTTL/ticksPerCacheTTL,
// and rueidis keeps an answer for CacheTTL less two ticks, so that an
// answer a verifier keeps at one version is never older than CacheTTL,
// even when a tick comes late by up to one tick.
const ticksPerCacheTTL = 8

// newTicker makes the ticker of a Store (the package's tests slow it
// down, to see what else moves the version).
var newTicker = time.NewTicker

// ticker moves the version on every tick of t until Close.
func (s *Store) ticker(t *time.Ticker) {
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.version.Add(1)
		case <-s.stop:
			return
		}
	}
}

// Version moves on whenever an answer of Revoked may no longer hold (see
// policy.RevocationStore): with every invalidation Redis sends this
// instance and every connection it loses, with every revocation it makes,
// and by itself every CacheTTL/8, the answers it caches being kept for
// 6/8 of CacheTTL. So a verifier that keeps an answer until the
// version moves keeps none longer than CacheTTL, the staleness bound.
// A closed store's version is 0, so that it is asked (and fails).
func (s *Store) Version() uint64 {
	if s.closed.Load() {
		return 0
	}
	return s.version.Load()
}

// refused tells an error of Redis's own (a reply such as WRONGPASS,
// NOAUTH, NOPERM or ERR) or of a server without client-side caching, from
// a connection that could not be made.
func refused(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, rueidis.ErrNoCache) {
		return true
	}
	_, isRedis := rueidis.IsRedisErr(err)
	return isRedis
}

// String names the store by its URL, without credentials.
func (s *Store) String() string { return "redisrevocation.Store(" + s.where + ")" }

// GoString is String, so that %#v shows no credentials either.
func (s *Store) GoString() string { return s.String() }

// cancelled is a context that is done: a DoCache under it answers from the
// cache, or fails at once without writing anything (see peek).
var cancelled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Revoked tells whether the token is revoked: its jti is (unless ""), or
// its subject's tokens issued before a time after
// iat's second are (a zero iat: any such time). It answers from the
// instance's cache when it can, else from Redis within Options.Timeout;
// an error wraps ErrUnavailable.
func (s *Store) Revoked(ctx context.Context, jti, subject string, iat time.Time) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	checkJTI := jti != ""
	bp := s.keyBufs.Get().(*[]byte)
	defer s.keyBufs.Put(bp)
	// The warm path: both keys in the cache, no I/O. The keys are built in
	// a pooled buffer, then copied into the strings rueidis is given.
	buf := (*bp)[:0]
	var jr, sr rueidis.RedisResult
	hit := true
	if checkJTI {
		buf = s.appendJTIKey(buf, jti)
		if _, ok := s.recent.get(buf); ok {
			*bp = buf[:0]
			return true, nil
		}
		jr = s.peek(buf)
		hit = jr.IsCacheHit()
	}
	buf = s.appendSubKey(buf[:0], subject)
	if e, ok := s.recent.get(buf); ok && (iat.IsZero() || iat.Unix() < e.before) {
		*bp = buf[:0]
		return true, nil
	}
	if hit {
		sr = s.peek(buf)
		hit = sr.IsCacheHit()
	}
	*bp = buf[:0]
	if !hit {
		return s.fetch(ctx, jti, checkJTI, subject, iat)
	}
	return s.decide(jr, sr, checkJTI, iat)
}

// peek asks the cache alone about key: DoCache under a cancelled context
// answers a hit from memory, and a miss with the context's error and no
// I/O (rueidis checks the context before it dials or writes; TestPeek pins
// it). The key is copied into a string of its own: rueidis may keep it
// (a pending entry of a miss), and no buffer of ours is ever its memory.
func (s *Store) peek(key []byte) rueidis.RedisResult {
	return s.client.DoCache(cancelled, s.client.B().Get().Key(string(key)).Cache(), s.entryTTL)
}

// appendSubKey appends the key of subject to buf.
func (s *Store) appendSubKey(buf []byte, subject string) []byte {
	if len(subject) <= MaxSubjectLen {
		return append(append(buf, s.subPre...), subject...)
	}
	sum := sha256.Sum256([]byte(subject))
	buf = append(buf, s.subHPre...)
	return hex.AppendEncode(buf, sum[:])
}

// appendJTIKey appends the key of jti to buf: a jti over MaxJTILen bytes
// by its SHA-256, as a long subject is.
func (s *Store) appendJTIKey(buf []byte, jti string) []byte {
	if len(jti) <= MaxJTILen {
		return append(append(buf, s.jtiPre...), jti...)
	}
	sum := sha256.Sum256([]byte(jti))
	buf = append(buf, s.jtiHPre...)
	return hex.AppendEncode(buf, sum[:])
}

func (s *Store) jtiKey(jti string) string { return string(s.appendJTIKey(nil, jti)) }

func (s *Store) subKey(subject string) string { return string(s.appendSubKey(nil, subject)) }

// fetch asks Redis about both keys in one round trip, bounded by Timeout,
// and caches the answers.
func (s *Store) fetch(parent context.Context, jti string, checkJTI bool, subject string, iat time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	// ToStaticTTL: a miss is [CLIENT CACHING, GET] per key rather than
	// MULTI, PTTL, GET, EXEC, and the answer is kept CacheTTL whatever the
	// key's own life: a revoked jti or subject kept past its key's expiry
	// refuses only tokens expired by then. It halves the warm path's cost of
	// refreshing entries every CacheTTL (BenchmarkRevocation).
	jtiKey, subKey := s.jtiKey(jti), s.subKey(subject)
	var rs []rueidis.RedisResult
	for attempt := 0; ; attempt++ {
		// New commands for each attempt: rueidis recycles those it
		// answered, and one sent again could be another caller's.
		cmds := make([]rueidis.CacheableTTL, 0, 2)
		if checkJTI {
			cmds = append(cmds, rueidis.CT(s.client.B().Get().Key(jtiKey).Cache().ToStaticTTL(), s.entryTTL))
		}
		cmds = append(cmds, rueidis.CT(s.client.B().Get().Key(subKey).Cache().ToStaticTTL(), s.entryTTL))
		rs = s.client.DoMultiCache(ctx, cmds...)
		// A peek's cancelled context can reach this call when both meet on
		// one pending entry or one connection attempt: its context.Canceled
		// is not this call's, so try again while the deadline allows.
		if attempt < 3 && ctx.Err() == nil && canceledByPeek(rs) {
			continue
		}
		break
	}
	var jr, sr rueidis.RedisResult
	if checkJTI {
		jr, sr = rs[0], rs[1]
	} else {
		sr = rs[0]
	}
	revoked, err := s.decide(jr, sr, checkJTI, iat)
	if err != nil && parent.Err() != nil {
		// The request went away (its client hung up): no news of Redis.
		return false, fmt.Errorf("%w: the request ended first: %w", ErrUnavailable, parent.Err())
	}
	s.noteOutcome(err)
	return revoked, err
}

func canceledByPeek(rs []rueidis.RedisResult) bool {
	for _, r := range rs {
		if errors.Is(r.Error(), context.Canceled) {
			return true
		}
	}
	return false
}

// decide reads the replies: the jti's key there, or the subject's time
// after iat's second, is a revoked token.
func (s *Store) decide(jr, sr rueidis.RedisResult, checkJTI bool, iat time.Time) (bool, error) {
	if checkJTI {
		switch err := jr.Error(); {
		case err == nil:
			return true, nil
		case !rueidis.IsRedisNil(err):
			return false, s.unavailable(err)
		}
	}
	before, err := sr.AsInt64()
	switch {
	case rueidis.IsRedisNil(err):
		return false, nil
	case err != nil && isReplyType(err):
		return false, errors.New("redisrevocation: a subject's entry is not a number of seconds")
	case err != nil:
		return false, s.unavailable(err)
	}
	return iat.IsZero() || iat.Unix() < before, nil
}

// isReplyType tells a value that is not a number from a failure to get
// one.
func isReplyType(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne)
}

// unavailable wraps an error of the client in ErrUnavailable.
func (s *Store) unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, s.where, err)
}

// noteOutcome logs the store going unreachable and coming back, once each.
func (s *Store) noteOutcome(err error) {
	switch {
	case err != nil && errors.Is(err, ErrUnavailable):
		if !s.down.Swap(true) {
			s.log.Warn("jwtauth: the revocation store's redis cannot be reached", "redis", s.where, "error", err.Error())
		}
	case err == nil:
		if s.down.Swap(false) {
			s.log.Info("jwtauth: the revocation store's redis answers again", "redis", s.where)
		}
	}
}

// revokeTokenScript sets KEYS[1] to "1" for ARGV[1] ms, or longer when it
// is already set for longer.
const revokeTokenScript = `
local ttl = tonumber(ARGV[1])
local old = redis.call('PTTL', KEYS[1])
if old > ttl then ttl = old end
redis.call('SET', KEYS[1], '1', 'PX', ttl)
return ttl
`

// revokeSubjectScript sets KEYS[1] to ARGV[1] (unix seconds) for ARGV[2]
// ms, keeping a later time and a longer life already there.
const revokeSubjectScript = `
local before = ARGV[1]
local ttl = tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
  local n = tonumber(cur)
  if n and n > tonumber(before) then before = cur end
end
local old = redis.call('PTTL', KEYS[1])
if old > ttl then ttl = old end
redis.call('SET', KEYS[1], before, 'PX', ttl)
return before
`

// RevokeToken revokes the token with jti until exp, when the token expires
// anyway (a longer revocation of the same jti already there is kept); an
// exp already past stores nothing. "" is policy.ErrNoJTI. The call is
// bounded by
// Options.Timeout; its failures wrap ErrUnavailable.
func (s *Store) RevokeToken(ctx context.Context, jti string, exp time.Time) error {
	switch {
	case jti == "":
		return policy.ErrNoJTI
	case s.closed.Load():
		return fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	ms := msUntil(exp)
	if ms <= 0 {
		return nil // expired: nothing to refuse
	}
	key := s.jtiKey(jti)
	if err := s.run(ctx, s.revokeTo, []string{key}, []string{strconv.FormatInt(ms, 10)}); err != nil {
		return err
	}
	s.recent.put(key, time.Now().Add(s.ttl), 0)
	s.version.Add(1)
	return nil
}

// RevokeSubject revokes every token of subject issued before before (to
// the second: iat < before, before rounded up), remembered until until; a
// later time, or a longer life, already there for the subject is kept, so
// that concurrent revocations never lower either. An until already past
// stores nothing. The call is bounded by Options.Timeout; its failures
// wrap ErrUnavailable.
func (s *Store) RevokeSubject(ctx context.Context, subject string, before, until time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	ms := msUntil(until)
	if ms <= 0 {
		return nil
	}
	sec := before.Unix()
	if before.After(time.Unix(sec, 0)) {
		sec++ // rounded up
	}
	key := s.subKey(subject)
	if err := s.run(ctx, s.revokeSu, []string{key}, []string{strconv.FormatInt(sec, 10), strconv.FormatInt(ms, 10)}); err != nil {
		return err
	}
	s.recent.put(key, time.Now().Add(s.ttl), sec)
	s.version.Add(1)
	return nil
}

// FirstUse records key, a DPoP proof's (dpop.ReplayKey), until until, and
// tells whether it was not recorded before: one SET NX PX, so that no
// instance sharing the server accepts a proof another accepted. A key
// over MaxJTILen bytes is kept by its SHA-256; an until already past
// records nothing. The call is bounded by Options.Timeout; its failures
// wrap ErrUnavailable. It makes the Store a dpop.ReplayCache.
func (s *Store) FirstUse(ctx context.Context, key string, until time.Time) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	ms := msUntil(until)
	if ms <= 0 {
		return true, nil // too old to be accepted anyway: nothing to record
	}
	var k string
	if len(key) <= MaxJTILen {
		k = s.dpopPre + key
	} else {
		sum := sha256.Sum256([]byte(key))
		k = s.dpopHPre + hex.EncodeToString(sum[:])
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.client.Do(ctx, s.client.B().Set().Key(k).Value("1").Nx().PxMilliseconds(ms).Build()).Error()
	switch {
	case err == nil:
		s.noteOutcome(nil)
		return true, nil
	case rueidis.IsRedisNil(err):
		s.noteOutcome(nil)
		return false, nil // there already: a replay
	}
	err = s.unavailable(err)
	s.noteOutcome(err)
	return false, err
}

// msUntil is the whole milliseconds from now to t, rounded up.
func msUntil(t time.Time) int64 {
	d := time.Until(t)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// run runs a revocation script, bounded by Timeout.
func (s *Store) run(ctx context.Context, script *rueidis.Lua, keys, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := script.Exec(ctx, s.client, keys, args).Error()
	if err != nil {
		err = s.unavailable(err)
	}
	s.noteOutcome(err)
	return err
}

// Close closes the connections; the store answers ErrUnavailable after.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	s.client.Close()
	return nil
}
