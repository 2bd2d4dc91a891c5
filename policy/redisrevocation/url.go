package redisrevocation

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// target is what a URL names.
type target struct {
	tls            bool
	host, addr     string // host without port; host:port
	user, password string
	db             int
	redacted       string // the URL without its credentials
}

// errURL is the error of a URL that cannot be used; its message names the
// problem and never holds the URL's credentials, nor any part of the URL
// that could hold them when it is malformed.
func errURL(problem string) error {
	return errors.New("redisrevocation: bad redis URL: " + problem + " (want redis://[user:password@]host[:port][/db] or rediss://...)")
}

// parseURL reads redis://[user:password@]host[:port][/db] and rediss://.
func parseURL(raw string) (target, error) {
	var t target
	scheme, rest, ok := strings.Cut(raw, "://")
	switch {
	case !ok:
		return t, errURL("no scheme")
	case strings.EqualFold(scheme, "redis"):
	case strings.EqualFold(scheme, "rediss"):
		t.tls = true
	default:
		return t, errURL("unknown scheme: not redis or rediss")
	}
	if rest == "" {
		return t, errURL("no host")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, password and all: name the problem
		// only, in words of ours.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch msg := err.Error(); {
		case strings.Contains(msg, "invalid port"):
			return t, errURL("invalid port")
		case strings.Contains(msg, "userinfo"):
			return t, errURL("invalid user or password (percent-encode reserved characters)")
		case strings.Contains(msg, "escape"):
			return t, errURL("invalid percent-encoding")
		case strings.Contains(msg, "control character"):
			return t, errURL("control character")
		default:
			return t, errURL("malformed")
		}
	}
	if u.Opaque != "" {
		return t, errURL("no // after the scheme")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return t, errURL("a query or fragment (no options are read from the URL)")
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	t.host = u.Hostname()
	if t.host == "" {
		return t, errURL("no host")
	}
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return t, errURL("empty port")
		}
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return t, errURL("port out of range")
	}
	t.addr = net.JoinHostPort(t.host, port)
	switch p := strings.TrimPrefix(u.Path, "/"); {
	case p == "":
	case !isDigits(p) || len(p) > 5:
		return t, errURL("the db is not a number")
	default:
		t.db, _ = strconv.Atoi(p)
	}
	scheme = "redis"
	if t.tls {
		scheme = "rediss"
	}
	t.redacted = (&url.URL{Scheme: scheme, Host: t.addr, Path: "/" + strconv.Itoa(t.db)}).String()
	return t, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// redact is err's message with password, if it is in it, masked: no
// message of the store holds it, whatever the client puts in its errors.
func redact(err error, password string) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
		if esc := url.QueryEscape(password); esc != password {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
	}
	return msg
}
