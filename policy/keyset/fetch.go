package keyset

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pyramid-go/jwtauth/policy"
)

// NewFile returns the key set of the JSON Web Key Set in the file at path,
// for tokens of issuer ("" for any). The file is read now (an error if it
// cannot be, or holds no usable key: it is configuration) and read again
// whenever its modification time or size changes, checked every
// o.FilePoll; a changed file that is broken leaves the keys as they were.
// The keys follow the rules of a provider's (HMAC keys are refused too),
// except that a private key is accepted and its public half kept.
// o.RequiredAtStart does not apply: the first read must succeed.
func NewFile(path, issuer string, o Options) (*Set, error) {
	s, err := newSet(issuer, o)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("keyset: no file named")
	}
	s.path, s.where, s.source = path, path, path
	return s.begin()
}

// NewURL returns the key set at url (https, unless o.AllowHTTP or a
// loopback host), for tokens of issuer ("" for any). It fetches the set
// before returning, within o.Timeout; when that fails, it returns the error
// if o.RequiredAtStart, else a Set that refuses every token until a
// background fetch succeeds.
func NewURL(rawURL, issuer string, o Options) (*Set, error) {
	s, err := newSet(issuer, o)
	if err != nil {
		return nil, err
	}
	u, err := checkURL(rawURL, nil, s.o.AllowHTTP)
	if err != nil {
		return nil, err
	}
	s.url, s.where, s.source = u.String(), shorten(u.Redacted()), observed(u)
	return s.begin()
}

// CheckURL tells whether NewURL accepts rawURL as the URL of a key set
// (https, unless allowHTTP or a loopback host; a host, no fragment),
// without fetching it.
func CheckURL(rawURL string, allowHTTP bool) error {
	_, err := checkURL(rawURL, nil, allowHTTP)
	return err
}

// CheckIssuer tells whether NewOIDC accepts issuer (a URL as CheckURL
// accepts, without a query), without fetching anything.
func CheckIssuer(issuer string, allowHTTP bool) error {
	_, err := checkIssuer(issuer, allowHTTP)
	return err
}

func checkIssuer(issuer string, allowHTTP bool) (*url.URL, error) {
	u, err := checkURL(issuer, nil, allowHTTP)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("keyset: the issuer %q has a query", shorten(u.Redacted()))
	}
	return u, nil
}

// NewOIDC returns the key set of the OpenID Connect provider issuer, for
// tokens whose iss is issuer exactly. Its discovery document,
// issuer+"/.well-known/openid-configuration" (without a doubled slash),
// must name issuer exactly as its "issuer" and give "jwks_uri", which must
// pass the same https rule as issuer; its
// "id_token_signing_alg_values_supported", when present, narrows the
// allowed algorithms. Discovery is done once, as part of the first fetch
// that succeeds; the start is as NewURL's.
func NewOIDC(issuer string, o Options) (*Set, error) {
	s, err := newSet(issuer, o)
	if err != nil {
		return nil, err
	}
	u, err := checkIssuer(issuer, s.o.AllowHTTP)
	if err != nil {
		return nil, err
	}
	s.discoveryURL = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	s.where, s.source = shorten(u.Redacted()), observed(u)
	return s.begin()
}

// observed is u as an Observer is given it: without its user information
// (a password), its query (which may hold a key) and its fragment,
// shortened.
func observed(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return shorten(v.String())
}

// isLoopback tells whether host (a URL's hostname) is localhost or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// checkURL parses raw and checks that it may be fetched: http or https with
// a host and no fragment; https unless allowHTTP or the host is loopback.
// When from is set (the URL that led to raw: a redirect, a jwks_uri), a
// loopback host is accepted over http only if from's host is loopback too.
func checkURL(raw string, from *url.URL, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("keyset: not a valid URL")
	}
	return u, checkParsedURL(u, from, allowHTTP)
}

func checkParsedURL(u, from *url.URL, allowHTTP bool) error {
	shown := shorten(u.Redacted())
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("keyset: %q is not an http(s) URL", shown)
	case u.Host == "":
		return fmt.Errorf("keyset: %q names no host", shown)
	case u.Fragment != "":
		return fmt.Errorf("keyset: %q has a fragment", shown)
	case u.Scheme == "https" || allowHTTP:
		return nil
	case !isLoopback(u.Hostname()):
		return fmt.Errorf("keyset: %q is not https (http is accepted for loopback hosts, and elsewhere only with AllowHTTP: jwtauth.jwks_allow_http)", shown)
	case from != nil && !isLoopback(from.Hostname()):
		return fmt.Errorf("keyset: %q, a loopback URL over http, is not accepted from %q", shown, shorten(from.Redacted()))
	}
	return nil
}

// newClient returns o.Client, or a client with o.Timeout, with a redirect
// policy: at most MaxRedirects, each to a URL checkURL accepts. A redirect
// policy o.Client has is asked too.
func newClient(o Options) *http.Client {
	var c http.Client
	if o.Client != nil {
		c = *o.Client
	} else {
		c.Timeout = o.Timeout
	}
	theirs := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("more than %d redirects", MaxRedirects)
		}
		if err := checkParsedURL(req.URL, via[0].URL, o.AllowHTTP); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	return &c
}

// load is one fetch: the file, or discovery (until it succeeds once) and the
// key set. A background check of a file whose modification time and size
// have not changed reads nothing; a fetch on demand (for an unknown kid)
// always reads.
func (s *Set) load(ctx context.Context, onDemand bool) (result, error) {
	if s.path != "" {
		return s.loadFile(onDemand)
	}
	if s.discoveryURL != "" {
		if err := s.discover(ctx); err != nil {
			return result{maxAge: -1}, err
		}
	}
	body, h, err := s.get(ctx, s.url)
	if err != nil {
		return result{maxAge: -1}, err
	}
	keys, err := s.parse(body, false)
	if err != nil {
		u, _ := url.Parse(s.url)
		return result{maxAge: -1}, fmt.Errorf("%s: %w", shorten(u.Redacted()), err)
	}
	return result{keys: keys, maxAge: maxAge(h)}, nil
}

func (s *Set) loadFile(onDemand bool) (result, error) {
	res := result{maxAge: -1}
	fi, err := os.Stat(s.path)
	if err != nil {
		return res, err // *fs.PathError: the operation, the path, the cause
	}
	if !onDemand && s.hasBody && fi.ModTime().Equal(s.fileMod) && fi.Size() == s.fileSize {
		res.unread = true
		return res, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxBodyBytes+1))
	if err != nil {
		return res, err
	}
	if len(body) > MaxBodyBytes {
		return res, fmt.Errorf("%s is larger than %d bytes", s.path, MaxBodyBytes)
	}
	// Recorded even when the file turns out broken: it is read again
	// when it changes.
	s.fileMod, s.fileSize = fi.ModTime(), fi.Size()
	res.keys, err = s.parse(body, true)
	return res, err
}

// parse reads a key set body; nil keys and no error when it is the body
// of the last set.
func (s *Set) parse(body []byte, allowPrivate bool) ([]policy.Key, error) {
	sum := sha256.Sum256(body)
	if s.hasBody && sum == s.bodyHash {
		return nil, nil
	}
	keys, skipped, err := ParseJWKS(body, s.algs, allowPrivate)
	for _, sk := range skipped {
		s.log().Warn("jwtauth: key skipped", "source", s.where, "kid", logKid(sk.KeyID), "reason", sk.Reason)
	}
	if err != nil {
		return nil, err
	}
	s.bodyHash, s.hasBody = sum, true
	return keys, nil
}

// get fetches url: status 200, a body of at most MaxBodyBytes.
func (s *Set) get(ctx context.Context, rawURL string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// A *url.Error: the URL (without a password), shortened, and the
		// cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = shorten(ue.URL)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	where := shorten(req.URL.Redacted())
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %d %s", where, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", where, err)
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, fmt.Errorf("%s answered more than %d bytes", where, MaxBodyBytes)
	}
	if err := ctx.Err(); err != nil {
		// The transport may deliver a response that raced with the
		// deadline; past the deadline, nothing counts.
		return nil, nil, fmt.Errorf("fetching %s: %w", where, err)
	}
	return body, resp.Header, nil
}

// discover reads the discovery document: the issuer it names, its jwks_uri
// and the algorithms it signs ID tokens with.
func (s *Set) discover(ctx context.Context) error {
	body, _, err := s.get(ctx, s.discoveryURL)
	if err != nil {
		return err
	}
	var doc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return errors.New("the discovery document is not a JSON object of the expected form")
	}
	if doc.Issuer != s.issuer {
		return fmt.Errorf("the discovery document names the issuer %q, not %q", shorten(doc.Issuer), shorten(s.issuer))
	}
	if doc.JWKSURI == "" {
		return errors.New("the discovery document names no jwks_uri")
	}
	from, _ := url.Parse(s.discoveryURL)
	u, err := checkURL(doc.JWKSURI, from, s.o.AllowHTTP)
	if err != nil {
		return fmt.Errorf("the discovery document's jwks_uri: %w", err)
	}
	algs := s.algs
	if len(doc.Algs) > 0 {
		algs = slices.DeleteFunc(slices.Clone(s.algs), func(a string) bool { return !slices.Contains(doc.Algs, a) })
		if len(algs) == 0 {
			return fmt.Errorf("the provider signs ID tokens with none of the allowed algorithms (it names %d others)", len(doc.Algs))
		}
	}
	s.url, s.algs, s.discoveryURL = u.String(), algs, ""
	s.log().Info("jwtauth: provider discovered", "issuer", s.where, "jwks_uri", shorten(u.Redacted()), "algorithms", algs)
	return nil
}

// maxAge reads the max-age of a Cache-Control header; -1 when there is none.
func maxAge(h http.Header) time.Duration {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "max-age") {
				continue
			}
			n, err := strconv.ParseUint(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err != nil {
				return -1
			}
			const maxSeconds = 1 << 31
			return time.Duration(min(n, maxSeconds)) * time.Second
		}
	}
	return -1
}

// shorten bounds a string that may come from a token (an issuer) or a
// panic, for an error or a log: its first maxShownBytes bytes (cut at a
// character's start), and its length.
func shorten(s string) string {
	if len(s) <= maxShownBytes {
		return s
	}
	cut := maxShownBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// maxShownBytes bounds what shorten shows of a string.
const maxShownBytes = 100
