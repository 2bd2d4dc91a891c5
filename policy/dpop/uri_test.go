package dpop

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestNormalizeURI(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com/resource":            "https://api.example.com/resource",
		"HTTPS://API.EXAMPLE.COM/resource":            "https://api.example.com/resource",
		"https://api.example.com:443/resource":        "https://api.example.com/resource",
		"https://api.example.com:/resource":           "https://api.example.com/resource",
		"http://api.example.com:80/resource":          "http://api.example.com/resource",
		"http://api.example.com:443/resource":         "http://api.example.com:443/resource",
		"https://api.example.com:80/resource":         "https://api.example.com:80/resource",
		"https://api.example.com:08443/resource":      "https://api.example.com:8443/resource",
		"https://api.example.com":                     "https://api.example.com/",
		"https://api.example.com?q=1":                 "https://api.example.com/",
		"https://api.example.com/a?q=1#frag":          "https://api.example.com/a",
		"https://api.example.com/a#frag?x":            "https://api.example.com/a",
		"https://api.example.com/%7euser/%41":         "https://api.example.com/~user/A",
		"https://api.example.com/a%2fb":               "https://api.example.com/a%2Fb",
		"https://api.example.com/a%2Fb":               "https://api.example.com/a%2Fb",
		"https://api.example.com/caf%c3%a9":           "https://api.example.com/caf%C3%A9",
		"https://api.example.com/a b":                 "https://api.example.com/a%20b",
		"https://api.example.com/caf\u00e9":           "https://api.example.com/caf%C3%A9",
		"https://api.example.com/a/./b/../c":          "https://api.example.com/a/c",
		"https://api.example.com/a/%2E%2E/c":          "https://api.example.com/c",
		"https://api.example.com/../../a":             "https://api.example.com/a",
		"https://api.example.com/a/..":                "https://api.example.com/",
		"https://api.example.com//a":                  "https://api.example.com//a",
		"https://api.example.com/a/":                  "https://api.example.com/a/",
		"https://[2001:DB8::1]:443/a":                 "https://[2001:db8::1]/a",
		"https://[2001:db8::1]/a":                     "https://[2001:db8::1]/a",
		"https://[2001:db8::1]:8443/a":                "https://[2001:db8::1]:8443/a",
		"https://192.0.2.1:443/a":                     "https://192.0.2.1/a",
		"https://api.example.com/a;p=1/b:c@d!$&'()*+": "https://api.example.com/a;p=1/b:c@d!$&'()*+",
	} {
		got, err := NormalizeURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "/a", "api.example.com/a", "ftp://api.example.com/a", "https:///a", "https://u:p@api.example.com/a",
		"https://api.example.com:99999/a", "https://api.example.com:x/a", "https://api.example.com/%", "https://api.example.com/%zz",
		"https://api.example.com/%4", "mailto:a@example.com", "https:api.example.com",
	} {
		if got, err := NormalizeURI(in); err == nil {
			t.Errorf("NormalizeURI(%q) = %q; want an error", in, got)
		}
	}
}

func TestHTUMatches(t *testing.T) {
	keys(t)
	v := newTestVerifier(t, Config{})
	// The request is a GET of https://api.example.com/resource?x=1, over TLS.
	for _, htu := range []string{
		"https://api.example.com/resource",
		"HTTPS://API.EXAMPLE.com/resource",
		"HTTPS://EXAMPLE.com:443/a" + "", // replaced below
		"https://api.example.com:443/resource",
		"https://api.example.com/resource?x=1",
		"https://api.example.com/resource?other=2",
		"https://api.example.com/resource#fragment",
		"https://api.example.com/%72esource",
		"https://api.example.com/./resource",
	} {
		if htu == "HTTPS://EXAMPLE.com:443/a" {
			htu = "HTTPS://API.EXAMPLE.com:443/resource"
		}
		r := httptest.NewRequest("GET", "https://api.example.com/resource?x=1", nil)
		r.Header.Set("DPoP", mint(t, spec{claims: map[string]any{"htu": htu}}))
		if _, err := v.Verify(context.Background(), r, testToken); err != nil {
			t.Errorf("htu %q: %v", htu, err)
		}
	}
	for _, htu := range []string{
		"https://api.example.com/other",
		"https://api.example.com/resource/",
		"https://api.example.com/Resource",
		"https://api.example.com/",
		"https://api.example.com",
		"https://other.example.com/resource",
		"https://api.example.com.evil.example/resource",
		"https://api.example.com:8443/resource",
		"http://api.example.com/resource",
		"http://api.example.com:443/resource",
		"https://api.example.com/resource%2F",
	} {
		r := httptest.NewRequest("GET", "https://api.example.com/resource?x=1", nil)
		r.Header.Set("DPoP", mint(t, spec{claims: map[string]any{"htu": htu}}))
		_, err := v.Verify(context.Background(), r, testToken)
		wantReason(t, err, ErrURIMismatch)
	}
}

func TestTargetURIOfTheRequest(t *testing.T) {
	plain := httptest.NewRequest("GET", "http://api.example.com:8080/a%7eb?q", nil)
	tlsReq := httptest.NewRequest("GET", "/x", nil)
	tlsReq.Host = "API.example.com:443"
	tlsReq.TLS = &tls.ConnectionState{}
	absolute := httptest.NewRequest("GET", "http://api.example.com/abs", nil)
	absolute.RequestURI = "http://api.example.com/abs?q=1"
	inCode := httptest.NewRequest("GET", "https://api.example.com/code/p%41th", nil)
	inCode.RequestURI = ""
	for _, tc := range []struct {
		r    *http.Request
		want string
	}{
		{plain, "http://api.example.com:8080/a~b"},
		{tlsReq, "https://api.example.com/x"},
		{absolute, "http://api.example.com/abs"},
		{inCode, "https://api.example.com/code/pAth"},
	} {
		got, err := TargetURI(tc.r, nil)
		want := tc.want
		if err != nil || got != want {
			t.Errorf("TargetURI = %q, %v; want %q", got, err, want)
		}
	}
	star := httptest.NewRequest("OPTIONS", "/", nil)
	star.RequestURI = "*"
	if _, err := TargetURI(star, nil); err == nil {
		t.Error("OPTIONS *: no error")
	}
}

func TestTrustedProxies(t *testing.T) {
	keys(t)
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	v := newTestVerifier(t, Config{TrustedProxies: proxies})
	// Behind the proxy, the request comes over plain HTTP to an inner host.
	inner := func(remote string, headers map[string][]string) error {
		r := httptest.NewRequest("GET", "http://backend.internal:8080/resource", nil)
		r.RemoteAddr = remote
		for k, vs := range headers {
			r.Header[k] = vs
		}
		r.Header.Set("DPoP", mint(t, spec{}))
		_, err := v.Verify(context.Background(), r, testToken)
		return err
	}
	xf := map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com"}}
	fwd := map[string][]string{"Forwarded": {`for=192.0.2.60;proto=https;host=api.example.com`}}
	for name, tc := range map[string]struct {
		remote  string
		headers map[string][]string
		ok      bool
	}{
		"X-Forwarded from a trusted proxy":      {"10.1.2.3:5555", xf, true},
		"X-Forwarded from a trusted IPv6 proxy": {"[fd00::1]:5555", xf, true},
		"X-Forwarded from an IPv4-mapped proxy": {"[::ffff:10.1.2.3]:5555", xf, true},
		"X-Forwarded from anyone else":          {"192.0.2.1:5555", xf, false},
		"Forwarded from a trusted proxy":        {"10.1.2.3:5555", fwd, true},
		"Forwarded from anyone else":            {"192.0.2.1:5555", fwd, false},
		"Forwarded, quoted":                     {"10.1.2.3:5555", map[string][]string{"Forwarded": {`For="[2001:db8::1]:4711"; Proto="https"; Host="api.example.com:443"`}}, true},
		"Forwarded wins over X-Forwarded":       {"10.1.2.3:5555", map[string][]string{"Forwarded": fwd["Forwarded"], "X-Forwarded-Host": {"evil.example"}}, true},
		"Forwarded chain of trusted proxies":    {"10.1.2.3:5555", map[string][]string{"Forwarded": {`for=192.0.2.60;proto=https;host=api.example.com, for=10.9.9.9;proto=http;host=lb.internal`}}, true},
		"Forwarded chain spoofed by the client": {"10.1.2.3:5555", map[string][]string{"Forwarded": {`for=1.2.3.4;proto=https;host=api.example.com, for=192.0.2.60;proto=https;host=evil.example`}}, false},
		"Forwarded in two fields":               {"10.1.2.3:5555", map[string][]string{"Forwarded": {`for=192.0.2.60;proto=https;host=api.example.com`, `for=10.9.9.9;proto=http;host=lb.internal`}}, true},
		"Forwarded malformed":                   {"10.1.2.3:5555", map[string][]string{"Forwarded": {`for=192.0.2.60;proto`}}, false},
		"Forwarded parameter twice":             {"10.1.2.3:5555", map[string][]string{"Forwarded": {`host=api.example.com;host=evil.example;proto=https`}}, false},
		"Forwarded proto gopher":                {"10.1.2.3:5555", map[string][]string{"Forwarded": {`proto=gopher;host=api.example.com`}}, false},
		"X-Forwarded-Host two values":           {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example, api.example.com"}}, false},
		"X-Forwarded-Host two fields":           {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com", "api.example.com"}}, false},
		"X-Forwarded-Host with a path":          {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com/resource#"}}, false},
		"X-Forwarded-Proto only":                {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"https"}}, false},
		"no forwarded header from a proxy":      {"10.1.2.3:5555", nil, false},
		"a RemoteAddr without port":             {"10.1.2.3", xf, true},
		"a RemoteAddr that is no address":       {"proxy:5555", xf, false},
		"X-Forwarded with the port written":     {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"HTTPS"}, "X-Forwarded-Host": {"API.example.com:443"}}, true},
		"X-Forwarded with another port":         {"10.1.2.3:5555", map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com:8443"}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := inner(tc.remote, tc.headers)
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				wantReason(t, err, ErrURIMismatch)
			}
		})
	}
	// Without trusted proxies, headers are never read.
	plain := newTestVerifier(t, Config{})
	r := httptest.NewRequest("GET", "http://backend.internal:8080/resource", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header["X-Forwarded-Proto"] = []string{"https"}
	r.Header["X-Forwarded-Host"] = []string{"api.example.com"}
	r.Header.Set("DPoP", mint(t, spec{}))
	_, err := plain.Verify(context.Background(), r, testToken)
	wantReason(t, err, ErrURIMismatch)
}

func TestParseForwarded(t *testing.T) {
	got, err := parseForwarded([]string{`for=a;proto=https, For="[::1]:80";HOST="x\"y"`, ` by=b `})
	if err != nil || len(got) != 3 || got[0]["proto"] != "https" || got[1]["for"] != "[::1]:80" || got[1]["host"] != `x"y` || got[2]["by"] != "b" {
		t.Fatalf("%v, %v", got, err)
	}
	for _, bad := range []string{"", "for", "for=", `for="a`, `for="a\`, "for=a;;", "for=a,", "for=a b", "=a", `for=a;for=b`} {
		if _, err := parseForwarded([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	many := "for=a"
	for range maxForwardedElements {
		many += ",for=a"
	}
	if _, err := parseForwarded([]string{many}); err == nil {
		t.Error("too many elements: no error")
	}
}
