package chiadapter_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
)

// rawGet sends target as it is in the request line of a GET to srv, over
// a connection of its own, so that no client re-escapes or cleans it, and
// returns the status and body of the answer.
func rawGet(t *testing.T, srv *httptest.Server, target, token string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	auth := ""
	if token != "" {
		auth = "Authorization: JWT token=" + token + "\r\n"
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\n%sConnection: close\r\n\r\n", target, auth); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// echoParams answers with the request line's target and, for each key,
// "key=value" as URLParam returns it (or "key!error").
func echoParams(keys ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out := []string{r.RequestURI}
		for _, k := range keys {
			v, err := chiadapter.URLParam(r, k)
			if err != nil {
				out = append(out, k+"!"+err.Error())
				continue
			}
			out = append(out, k+"="+v)
		}
		_, _ = io.WriteString(w, strings.Join(out, " "))
	}
}

// TestURLParam reads URL parameters through routers of several shapes,
// over a real server so that the request line reaches chi as the client
// wrote it: each segment is decoded exactly once, whether chi routed on
// the escaped path (the URL has a RawPath) or on the decoded one.
func TestURLParam(t *testing.T) {
	segments := []struct{ seg, want string }{
		{"secret", "secret"},
		{"%73ecret", "secret"},         // RawPath set: chi sees %73ecret
		{"secre%74", "secret"},         // the same, at the end
		{"%2573ecret", "%73ecret"},     // no RawPath: chi sees %73ecret, decoded already
		{"%252573ecret", "%2573ecret"}, // decoded once, not twice or thrice
		{"secret%2F..", "secret/.."},   // %2F is data, not a separator
		{"a%2Fb", "a/b"},
		{"%252F", "%2F"},
		{"SECRET", "SECRET"},
		{"%E2%82%AC", "€"},
		{"100%25", "100%"},
	}
	shapes := []struct {
		name string
		// target builds the request's target for a segment.
		target func(seg string) string
		keys   []string
		router func() http.Handler
	}{
		{"top", func(s string) string { return "/articles/" + s }, []string{"id"}, func() http.Handler {
			r := chi.NewRouter()
			r.Get("/articles/{id}", echoParams("id"))
			return r
		}},
		{"route", func(s string) string { return "/articles/" + s }, []string{"id"}, func() http.Handler {
			r := chi.NewRouter()
			r.Route("/articles/{id}", func(r chi.Router) {
				r.Get("/", echoParams("id"))
			})
			return r
		}},
		{"route/trailing-slash", func(s string) string { return "/articles/" + s + "/" }, []string{"id"}, func() http.Handler {
			r := chi.NewRouter()
			r.Route("/articles/{id}", func(r chi.Router) {
				r.Get("/", echoParams("id"))
			})
			return r
		}},
		// A router mounted under another one, itself with nested
		// routes: every level's parameter comes from the same string.
		{"mount", func(s string) string { return "/api/users/" + s + "/articles/" + s }, []string{"user", "id"}, func() http.Handler {
			api := chi.NewRouter()
			api.Route("/users/{user}", func(r chi.Router) {
				r.Route("/articles/{id}", func(r chi.Router) {
					r.Get("/", echoParams("user", "id"))
				})
			})
			r := chi.NewRouter()
			r.Mount("/api", api)
			return r
		}},
		// CleanPath sets the routing path from RawPath when there is one,
		// as chi does.
		{"cleanpath", func(s string) string { return "//articles//" + s }, []string{"id"}, func() http.Handler {
			r := chi.NewRouter()
			r.Use(middleware.CleanPath)
			r.Route("/articles/{id}", func(r chi.Router) {
				r.Get("/", echoParams("id"))
			})
			return r
		}},
		{"wildcard", func(s string) string { return "/files/" + s + "/" + s }, []string{"*"}, func() http.Handler {
			r := chi.NewRouter()
			r.Get("/files/*", echoParams("*"))
			return r
		}},
	}
	for _, sh := range shapes {
		srv := httptest.NewServer(sh.router())
		t.Cleanup(srv.Close)
		for _, sg := range segments {
			t.Run(sh.name+"/"+sg.seg, func(t *testing.T) {
				target := sh.target(sg.seg)
				want := []string{target} // the request went out unchanged
				for _, k := range sh.keys {
					v := sg.want
					if k == "*" {
						v = sg.want + "/" + sg.want
					}
					want = append(want, k+"="+v)
				}
				code, body := rawGet(t, srv, target, "")
				if code != http.StatusOK || body != strings.Join(want, " ") {
					t.Errorf("GET %s: %d %q; want 200 %q", target, code, body, strings.Join(want, " "))
				}
			})
		}
	}
}

// TestURLParamErrors: a value that does not decode matches ErrNotFound
// (Context answers 404); a key the route lacks and a request chi did not
// route are errors that do not (Context answers 500).
func TestURLParamErrors(t *testing.T) {
	var gotErr error
	finder := func(key string) chiadapter.ResourceFinder {
		return func(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error) {
			id, err := chiadapter.URLParam(r, key)
			gotErr = err
			if err != nil {
				return nil, err
			}
			return authorizer.NewNodeWithoutACL(id, parent), nil
		}
	}
	app := func(key string) http.Handler {
		r := chi.NewRouter()
		r.With(chiadapter.Context(finder(key))).Get("/articles/{id}", okHandler)
		return r
	}

	// A server refuses an invalid escape (400) before chi sees it, so
	// this request's RawPath is set by hand: chi routes on it.
	req := httptest.NewRequest(http.MethodGet, "/articles/x", nil)
	req.URL.RawPath = "/articles/%zz"
	rec := httptest.NewRecorder()
	app("id").ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || !errors.Is(gotErr, chiadapter.ErrNotFound) {
		t.Errorf("undecodable value: status %d, error %v; want 404 and ErrNotFound", rec.Code, gotErr)
	}

	rec = httptest.NewRecorder()
	app("article").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/articles/%73ecret", nil))
	if rec.Code != http.StatusInternalServerError || gotErr == nil || errors.Is(gotErr, chiadapter.ErrNotFound) {
		t.Errorf("key the route lacks: status %d, error %v; want 500 and an error other than ErrNotFound", rec.Code, gotErr)
	}

	v, err := chiadapter.URLParam(httptest.NewRequest(http.MethodGet, "/articles/1", nil), "id")
	if err == nil || errors.Is(err, chiadapter.ErrNotFound) || v != "" {
		t.Errorf("request chi did not route: %q, %v; want \"\" and an error other than ErrNotFound", v, err)
	}
}
