package policy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
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
	cop *http.CrossOriginProtection
}

// NewCrossOriginRule returns the rule, with the origins of trusted (such
// as "https://app.example.com") allowed besides the site's own. Each must
// be scheme://host[:port], nothing more; it is kept as browsers send an
// Origin: the scheme and host in lowercase, without the scheme's default
// port.
func NewCrossOriginRule(trusted []string) (*CrossOriginRule, error) {
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
	return &CrossOriginRule{cop: cop}, nil
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
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return u.Scheme + "://" + host, nil
}

// Check returns why r fails the rule, or nil: a request with a safe
// method always passes.
func (c *CrossOriginRule) Check(r *http.Request) error { return c.cop.Check(r) }

// Reject returns id, the identity that policy's credentials gave r, as a
// user rejected for the rule (matching ErrUserRejected and ErrCrossOrigin,
// with [Everyone] for principals) when id is authenticated and r fails
// the rule; id itself otherwise. The refusal is logged, without the
// credentials.
func (c *CrossOriginRule) Reject(r *http.Request, id Identity, logger *slog.Logger) Identity {
	if id.Err != nil {
		return id
	}
	err := c.cop.Check(r)
	if err == nil {
		return id
	}
	logger.Info("jwtauth: user rejected", "reason", "cross-origin request with an unsafe method, authenticated by credentials the browser attached (CSRF)", "method", r.Method, "remote", r.RemoteAddr)
	return Identity{Claimed: id.Claimed, HasClaim: id.HasClaim, Principals: []string{Everyone}, Err: fmt.Errorf("%w: %w (%w)", ErrUserRejected, ErrCrossOrigin, err)}
}

// Refuse answers r with WriteCrossOriginRefusal, and returns true, when
// self's identity of r was rejected by the rule (Reject) and no policy of
// root (the policy Authenticate was given: self, or a stack that holds
// it) authenticated r otherwise, as another policy's header credentials
// may have.
func (c *CrossOriginRule) Refuse(w http.ResponseWriter, r *http.Request, self, root AuthenticationPolicy) bool {
	if !errors.Is(IdentityOf(r, self).Err, ErrCrossOrigin) || IdentityOf(r, root).Err == nil {
		return false
	}
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
