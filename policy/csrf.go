package policy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// CrossOriginRule is the CSRF rule of the policies whose credentials a
// browser attaches to requests by itself: a cookie (Cookie), and the
// Basic credentials a browser keeps once its user typed them (the basic
// package). Another site's page can make the browser send those with a
// request of its choosing, so a request with an unsafe method (anything
// but GET, HEAD and OPTIONS) that such credentials authenticate must come
// from the site's own pages or a trusted origin. Go's
// http.CrossOriginProtection decides: the browser's Sec-Fetch-Site
// header, else Origin against Host; a request with neither (curl, a
// server) is no browser's and passes. Credentials a client puts in a
// header itself, such as a JWT, are not subject to the rule: no browser
// attaches them by itself, and a script of another site can only send
// them after a CORS preflight the server must allow.
//
// A policy applies the rule twice: in its identity (Reject: the user of
// such a request is rejected, so that code asking without Authenticate is
// safe too) and in its Admit (Refuse: the request is answered 403 before
// the handler runs). The zero value is not usable: NewCrossOriginRule
// makes one.
type CrossOriginRule struct {
	cop    *http.CrossOriginProtection
	logger *slog.Logger
}

// NewCrossOriginRule returns the rule, with the origins of trusted (such
// as "https://app.example.com") allowed besides the site's own, logging
// its refusals to logger (nil: slog.Default()). Each origin must be
// scheme://host[:port], nothing more, with an ASCII host (punycode, as
// browsers send it); it is kept as browsers send an Origin: the scheme
// and host in lowercase, without the scheme's default port, an IPv6
// address in its canonical form.
func NewCrossOriginRule(trusted []string, logger *slog.Logger) (*CrossOriginRule, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		origin, err := normalOrigin(o)
		if err == nil {
			err = cop.AddTrustedOrigin(origin)
		}
		if err != nil {
			return nil, fmt.Errorf("trusted origin %q: %w", o, err)
		}
	}
	return &CrossOriginRule{cop: cop, logger: logger}, nil
}

// normalOrigin is o as a browser's Origin header spells it.
func normalOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("the scheme must be http or https")
	case u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", errors.New("an origin is scheme://host[:port], nothing more")
	case strings.ContainsAny(u.Host, "*"):
		return "", errors.New("an origin names one host: no wildcard")
	case strings.IndexFunc(u.Host, func(r rune) bool { return r > unicode.MaxASCII }) >= 0:
		return "", errors.New("the host must be ASCII (its punycode, as browsers send it)")
	case strings.HasSuffix(u.Host, ":"):
		return "", errors.New("an empty port")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", fmt.Errorf("port %q is not one a browser writes", port)
		}
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is6() {
		host = "[" + addr.String() + "]"
	}
	if port != "" && !(u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80") {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// Check returns why r fails the rule, or nil: a request with a safe
// method always passes.
func (c *CrossOriginRule) Check(r *http.Request) error { return c.cop.Check(r) }

// Reject returns id, the identity that policy's credentials gave r, as a
// user rejected for the rule (matching ErrUserRejected and ErrCrossOrigin,
// with [Everyone] for principals) when id is authenticated and r fails
// the rule; id itself otherwise. It is logged at Debug, without the
// credentials (Refuse logs a refusal at Info).
func (c *CrossOriginRule) Reject(r *http.Request, id Identity) Identity {
	if id.Err != nil {
		return id
	}
	err := c.cop.Check(r)
	if err == nil {
		return id
	}
	// Debug: another policy's header credentials may yet authenticate
	// the request; Refuse logs the refusal itself.
	c.logger.Debug("jwtauth: user rejected", "reason", "cross-origin request with an unsafe method, authenticated by credentials the browser attached (CSRF)", "method", r.Method, "remote", r.RemoteAddr)
	return Identity{Claimed: id.Claimed, HasClaim: id.HasClaim, Principals: []string{Everyone}, Err: fmt.Errorf("%w: %w (%w)", ErrUserRejected, ErrCrossOrigin, err)}
}

// Refuse answers r with WriteCrossOriginRefusal, and returns true, when
// self's identity of r was rejected by the rule (Reject) and no policy of
// root (the policy Authenticate was given: self, or a stack that holds
// it) authenticated r otherwise, as another policy's header credentials
// may have.
func (c *CrossOriginRule) Refuse(w http.ResponseWriter, r *http.Request, self, root AuthenticationPolicy) bool {
	// The rule first, which needs no identity: a safe method or a request
	// of the site's own pages is worked out no sooner than a handler asks.
	if c.cop.Check(r) == nil || !errors.Is(IdentityOf(r, self).Err, ErrCrossOrigin) || IdentityOf(r, root).Err == nil {
		return false
	}
	c.logger.Info("jwtauth: request refused", "reason", "cross-origin request with an unsafe method, authenticated by credentials the browser attached (CSRF)", "method", r.Method, "remote", r.RemoteAddr)
	WriteCrossOriginRefusal(w)
	return true
}

// WriteCrossOriginRefusal answers a request refused by the CSRF rule
// (ErrCrossOrigin): 403 with the JSON body
// {"error":"csrf","error_description":"..."}.
func WriteCrossOriginRefusal(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(`{"error":"csrf","error_description":"cross-origin request refused: a request with an unsafe method that credentials the browser attached by itself (a cookie, Basic credentials) authenticate must come from the site's own pages (CSRF protection)"}` + "\n"))
}
