package basic_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
	"github.com/pyramid-go/jwtauth/policy/multiauth"
)

// TestBasicCrossOrigin: a browser sends the Basic credentials it was given
// by itself, another site's page's requests included, so an unsafe
// request from another origin that they authenticate is refused (403
// csrf, the handler not run), unless the origin is trusted; safe methods,
// the site's own pages and clients outside a browser pass, and so does a
// request another policy's header credentials authenticate.
func TestBasicCrossOrigin(t *testing.T) {
	check := basic.Passwords(map[string]string{"alice": "secret"}, nil)
	p, err := basic.New(basic.Config{Check: check, TrustedOrigins: []string{"https://app.example"}})
	if err != nil {
		t.Fatal(err)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))
	for _, tt := range []struct {
		method  string
		headers map[string]string
		refused bool
	}{
		{"POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"DELETE", map[string]string{"Origin": "https://evil.example"}, true},
		{"PUT", map[string]string{"Sec-Fetch-Site": "same-site"}, true},
		{"POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
		{"POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}, false},
		{"POST", nil, false}, // curl
		{"GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
	} {
		r := httptest.NewRequest(tt.method, "http://example.com/", nil)
		r.Header.Set("Authorization", auth)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		var saw string
		ran := false
		policy.Authenticate(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			saw, _ = policy.UserIDFrom(r.Context())
		})).ServeHTTP(rec, r)
		var body map[string]string
		json.Unmarshal(rec.Body.Bytes(), &body)
		switch {
		case tt.refused && (rec.Code != 403 || ran || body["error"] != "csrf"):
			t.Errorf("%s %v: %d, handler ran %v; want 403 csrf", tt.method, tt.headers, rec.Code, ran)
		case !tt.refused && (!ran || saw != "alice"):
			t.Errorf("%s %v: %d, handler saw %q; want alice", tt.method, tt.headers, rec.Code, saw)
		}
		if _, err := p.AuthenticatedUserID(r); tt.refused != errors.Is(err, policy.ErrCrossOrigin) {
			t.Errorf("%s %v: AuthenticatedUserID's error %v", tt.method, tt.headers, err)
		}
	}

	// In a stack, the Basic policy's refusal holds: no other policy
	// authenticated the request.
	jwtP, err := policy.NewJWT(policy.Config{MasterSecret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := multiauth.New(multiauth.Config{Policies: []multiauth.Named{{Name: "svc", Policy: p}, {Name: "api", Policy: jwtP}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "http://example.com/", nil)
	r.Header.Set("Authorization", auth)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	policy.Authenticate(stack)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, r)
	if rec.Code != 403 {
		t.Errorf("a cross-site POST with Basic credentials through a stack: %d; want 403", rec.Code)
	}

	if _, err := basic.New(basic.Config{Check: check, TrustedOrigins: []string{"https://app.example/path"}}); err == nil {
		t.Error("a trusted origin with a path was accepted")
	} else if ce := (*policy.ConfigError)(nil); !errors.As(err, &ce) || ce.Key != "trusted_origins" {
		t.Errorf("a trusted origin with a path: %v; want a ConfigError for trusted_origins", err)
	}
}
