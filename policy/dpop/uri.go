package dpop

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// NormalizeURI returns the form of an absolute http or https URI that htu
// and the request's URI are compared in (RFC 9449 section 4.3, check 9):
// the query and fragment dropped, then RFC 3986's syntax-based and
// scheme-based normalization (sections 6.2.2 and 6.2.3):
//
//   - the scheme and host in lower case;
//   - the port dropped when it is the scheme's default (443 for https, 80
//     for http) or empty, and written without leading zeros otherwise;
//   - in the path, percent-encodings of unreserved characters decoded
//     (%7E is ~), the others in upper case (%2f is %2F), and characters
//     that a URI cannot hold raw percent-encoded (a space is %20);
//   - dot segments removed (/a/./b/../c is /a/c), and an empty path "/".
//
// Userinfo, another scheme, a missing host and a stray "%" are errors.
func NormalizeURI(uri string) (string, error) {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", errors.New("not a URI")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errors.New("not an http or https URI")
	}
	if u.Opaque != "" || u.Host == "" {
		return "", errors.New("no host")
	}
	if u.User != nil {
		return "", errors.New("userinfo is not allowed")
	}
	host, err := normalizeHost(scheme, u.Host)
	if err != nil {
		return "", err
	}
	// The raw path, as written: after "scheme://authority".
	rest := uri[len(u.Scheme)+len("://"):]
	var rawPath string
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rawPath = rest[i:]
	}
	path, err := normalizePath(rawPath)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host + path, nil
}

// normalizeHost lowers the case of authority's host and drops the default
// port of scheme.
func normalizeHost(scheme, authority string) (string, error) {
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
	}
	if host == "" {
		return "", errors.New("no host")
	}
	host = strings.ToLower(host)
	if port == "" {
		return host, nil
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", errors.New("bad port")
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return host, nil
	}
	return host + ":" + strconv.FormatUint(n, 10), nil
}

// normalizePath normalizes the percent-encoding of the raw path p, removes
// its dot segments, and makes an empty path "/".
func normalizePath(p string) (string, error) {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", errors.New("bad percent-encoding")
			}
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteByte('%')
				b.WriteByte(hex[d>>4])
				b.WriteByte(hex[d&0x0f])
			}
		case isUnreserved(c) || isPathDelim(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
	out := removeDotSegments(b.String())
	if out == "" {
		out = "/"
	}
	return out, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// isUnreserved: RFC 3986 section 2.3.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathDelim: the sub-delims, ":", "@" and "/", which a path holds raw
// (RFC 3986 section 3.3) and whose percent-encoding means something else.
func isPathDelim(c byte) bool {
	return strings.IndexByte("!$&'()*+,;=:@/", c) >= 0
}

// removeDotSegments is RFC 3986 section 5.2.4, on a path whose
// percent-encodings of "." are decoded already.
func removeDotSegments(in string) string {
	var out []string // the output buffer's segments, each with its leading "/" (the first may lack it)
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := len(in)
			if i := strings.IndexByte(in[start:], '/'); i >= 0 {
				end = start + i
			}
			out = append(out, in[:end])
			in = in[end:]
		}
	}
	return strings.Join(out, "")
}

// TargetURI returns the normalized URI (NormalizeURI) of the request r
// that a proof's htu must name: the scheme (https when r came over TLS)
// and host (r.Host) of r itself, and the path r asked for (r.RequestURI as
// it came on the wire, or r.URL's for a request made in code). When
// r.RemoteAddr is in trustedProxies, a proxy's word is taken for the scheme
// and host: the Forwarded header's (RFC 7239) when there is one, else
// X-Forwarded-Proto's and X-Forwarded-Host's (each a single value; more
// than one is ambiguous, an error).
func TargetURI(r *http.Request, trustedProxies []netip.Prefix) (string, error) {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if trusted(r.RemoteAddr, trustedProxies) {
		var err error
		if scheme, host, err = forwarded(r.Header, scheme, host, trustedProxies); err != nil {
			return "", err
		}
	}
	path := requestPath(r)
	if !strings.HasPrefix(path, "/") {
		return "", errors.New("the request target is not a path")
	}
	if host == "" || strings.ContainsAny(host, "/?#@") {
		return "", errors.New("the request has no usable host")
	}
	return NormalizeURI(scheme + "://" + host + path)
}

// requestPath is the raw path r asked for, without query.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" && r.URL != nil {
		p = r.URL.EscapedPath()
		if p == "" {
			p = "/"
		}
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	// An absolute-form request target (RFC 9112 section 3.2.2): its path.
	if !strings.HasPrefix(p, "/") {
		if u, err := url.Parse(p); err == nil && u.Host != "" {
			p = u.EscapedPath()
			if p == "" {
				p = "/"
			}
		}
	}
	return p
}

// trusted tells whether the address addr (host:port, or a bare address)
// is in one of the prefixes.
func trusted(addr string, prefixes []netip.Prefix) bool {
	if len(prefixes) == 0 {
		return false
	}
	ip, err := parseNode(addr)
	if err != nil {
		return false
	}
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseNode reads an address with an optional port: "192.0.2.1",
// "192.0.2.1:80", "[2001:db8::1]:80", "2001:db8::1". IPv4-mapped IPv6
// addresses are read as IPv4.
func parseNode(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return ip.Unmap(), nil
}

// forwarded returns the scheme and host a trusted proxy says the client
// asked for, from header h: the Forwarded header's (RFC 7239) element of
// the proxy nearest the client among the trusted ones, else the single
// values of X-Forwarded-Proto and X-Forwarded-Host. What the proxy does
// not say stays the request's own, scheme and host.
func forwarded(h http.Header, scheme, host string, proxies []netip.Prefix) (string, string, error) {
	if fwd := h.Values("Forwarded"); len(fwd) > 0 {
		elements, err := parseForwarded(fwd)
		if err != nil {
			return "", "", err
		}
		// The last element is the nearest proxy's (trusted: it is
		// r.RemoteAddr); walk left while the element's "for" is a trusted
		// proxy too, whose own element is then the one to its left.
		i := len(elements) - 1
		for i > 0 && trusted(elements[i]["for"], proxies) {
			i--
		}
		e := elements[i]
		if p, ok := e["proto"]; ok {
			scheme = p
		}
		if hst, ok := e["host"]; ok {
			host = hst
		}
	} else {
		if p, ok, err := single(h, "X-Forwarded-Proto"); err != nil {
			return "", "", err
		} else if ok {
			scheme = p
		}
		if hst, ok, err := single(h, "X-Forwarded-Host"); err != nil {
			return "", "", err
		} else if ok {
			host = hst
		}
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", "", errors.New("the forwarded proto is neither http nor https")
	}
	return scheme, host, nil
}

// single returns the one value of header name, ok false when it is absent;
// several values (fields, or a comma-separated list) are an error.
func single(h http.Header, name string) (string, bool, error) {
	vs := h.Values(name)
	switch {
	case len(vs) == 0:
		return "", false, nil
	case len(vs) > 1 || strings.Contains(vs[0], ","):
		return "", false, errors.New("ambiguous " + name + " header: more than one value")
	}
	v := strings.TrimSpace(vs[0])
	if v == "" {
		return "", false, errors.New("empty " + name + " header")
	}
	return v, true, nil
}

// maxForwardedElements bounds the elements of the Forwarded header read.
const maxForwardedElements = 64

// parseForwarded reads the Forwarded header fields (RFC 7239 section 4):
// a comma-separated list of elements, each pairs name=value separated by
// ";", the value a token or a quoted-string. Names are in lower case; a
// name twice in one element is an error.
func parseForwarded(fields []string) ([]map[string]string, error) {
	var elements []map[string]string
	for _, f := range fields {
		e := map[string]string{}
		i := 0
		for {
			i = skipOWS(f, i)
			// name
			start := i
			for i < len(f) && isTchar(f[i]) {
				i++
			}
			if i == start || i >= len(f) || f[i] != '=' {
				return nil, errors.New("malformed Forwarded header")
			}
			name := strings.ToLower(f[start:i])
			i++
			// value
			var value string
			if i < len(f) && f[i] == '"' {
				var b strings.Builder
				i++
				for {
					if i >= len(f) {
						return nil, errors.New("malformed Forwarded header")
					}
					c := f[i]
					if c == '"' {
						i++
						break
					}
					if c == '\\' {
						i++
						if i >= len(f) {
							return nil, errors.New("malformed Forwarded header")
						}
						c = f[i]
					}
					b.WriteByte(c)
					i++
				}
				value = b.String()
			} else {
				start := i
				for i < len(f) && isTchar(f[i]) {
					i++
				}
				if i == start {
					return nil, errors.New("malformed Forwarded header")
				}
				value = f[start:i]
			}
			if _, dup := e[name]; dup {
				return nil, errors.New("malformed Forwarded header: a parameter twice")
			}
			e[name] = value
			i = skipOWS(f, i)
			if i >= len(f) {
				break
			}
			switch f[i] {
			case ';':
				i++
			case ',':
				i++
				elements = append(elements, e)
				if len(elements) >= maxForwardedElements {
					return nil, errors.New("too many Forwarded elements")
				}
				e = map[string]string{}
			default:
				return nil, errors.New("malformed Forwarded header")
			}
		}
		elements = append(elements, e)
		if len(elements) > maxForwardedElements {
			return nil, errors.New("too many Forwarded elements")
		}
	}
	return elements, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar: RFC 9110 section 5.6.2.
func isTchar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
