package chiadapter_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestChiApp runs every requester against GET, PUT and DELETE of a normal
// and the secret article through a chi router, over a real server.
func TestChiApp(t *testing.T) {
	p := newPolicy(t, nil, nil)
	srv := httptest.NewServer(articleApp(p, &chiadapter.Guard{Policy: p}, nil))
	defer srv.Close()
	rs := requesters(t)

	const (
		ok   = http.StatusOK
		unau = http.StatusUnauthorized
		forb = http.StatusForbidden
	)
	// want is keyed by "METHOD article".
	tests := []struct {
		requester    string
		invalidToken bool
		want         map[string]int
	}{
		{"anonymous", false, map[string]int{
			"GET normal": ok, "PUT normal": unau, "DELETE normal": unau,
			"GET secret": unau, "PUT secret": unau, "DELETE secret": unau,
		}},
		{"editor", false, map[string]int{
			"GET normal": ok, "PUT normal": ok, "DELETE normal": forb,
			"GET secret": forb, "PUT secret": forb, "DELETE secret": forb,
		}},
		{"admin", false, map[string]int{
			"GET normal": ok, "PUT normal": ok, "DELETE normal": ok,
			"GET secret": ok, "PUT secret": ok, "DELETE secret": ok,
		}},
		{"plain", false, map[string]int{
			"GET normal": ok, "PUT normal": forb, "DELETE normal": forb,
			"GET secret": forb, "PUT secret": forb, "DELETE secret": forb,
		}},
		// baduser claims the admins group, but the finder rejects it:
		// it has Everyone's rights only, and its credentials are valid (403).
		{"rejected", false, map[string]int{
			"GET normal": ok, "PUT normal": forb, "DELETE normal": forb,
			"GET secret": forb, "PUT secret": forb, "DELETE secret": forb,
		}},
		// A token that fails is answered 401 everywhere, even where
		// Everyone may view.
		{"broken", true, map[string]int{
			"GET normal": unau, "PUT normal": unau, "DELETE normal": unau,
			"GET secret": unau, "PUT secret": unau, "DELETE secret": unau,
		}},
		{"expired", true, map[string]int{
			"GET normal": unau, "PUT normal": unau, "DELETE normal": unau,
			"GET secret": unau, "PUT secret": unau, "DELETE secret": unau,
		}},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			for _, article := range []string{"normal", "secret"} {
				key := method + " " + article
				t.Run(tt.requester+"/"+key, func(t *testing.T) {
					want, found := tt.want[key]
					if !found {
						t.Fatalf("no expectation for %s", key)
					}
					req, err := http.NewRequest(method, srv.URL+"/articles/"+article, nil)
					if err != nil {
						t.Fatal(err)
					}
					if tok := rs[tt.requester].token; tok != "" {
						req.Header.Set("Authorization", "JWT token="+tok)
					}
					resp, err := srv.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					if err != nil {
						t.Fatal(err)
					}
					body := string(b)
					if resp.StatusCode != want {
						t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, want, body)
					}
					checkChallengeOf(t, resp.StatusCode, resp.Header, body, tt.invalidToken)
					if want == forb {
						if e := jsonError(body); e != "forbidden" {
							t.Errorf("403 body error = %q; want forbidden", e)
						}
					}
				})
			}
		}
	}
}

// TestChiAppResourceLookup: the context resource is found before any
// guard runs, so a missing article is 404 for every requester, and a
// finder failure 500.
func TestChiAppResourceLookup(t *testing.T) {
	p := newPolicy(t, nil, nil)
	app := articleApp(p, &chiadapter.Guard{Policy: p}, nil)
	rs := requesters(t)
	tests := []struct {
		requester, method, id string
		want                  int
	}{
		{"anonymous", http.MethodGet, "missing", http.StatusNotFound},
		{"admin", http.MethodGet, "missing", http.StatusNotFound},
		{"editor", http.MethodPut, "missing", http.StatusNotFound},
		{"admin", http.MethodDelete, "missing", http.StatusNotFound},
		// The 404 comes from Context, which runs before the guard.
		{"broken", http.MethodGet, "missing", http.StatusNotFound},
		{"admin", http.MethodGet, "boom", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.requester+"/"+tt.method+"/"+tt.id, func(t *testing.T) {
			rec := do(app, tt.method, "/articles/"+tt.id, rs[tt.requester].token)
			if rec.Code != tt.want {
				t.Fatalf("status = %d; want %d", rec.Code, tt.want)
			}
			if strings.Contains(rec.Body.String(), errBoom.Error()) {
				t.Errorf("body %q leaks the finder's error", rec.Body)
			}
		})
	}
}

// TestGroupFinderOncePerRequest: Authenticate, two guards and a handler
// that asks every accessor and the policy itself all share one
// verification and one group finder call per request, although chi copies
// the request with WithContext on its way down.
func TestGroupFinderOncePerRequest(t *testing.T) {
	var calls atomic.Int64
	finder := func(userid string, r *http.Request, c policy.Claims) ([]string, bool) {
		calls.Add(1)
		return groupFinder(userid, r, c)
	}
	p := newPolicy(t, finder, nil)
	g := &chiadapter.Guard{Policy: p}
	handler := func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			policy.UserIDFrom(r.Context())
			policy.PrincipalsFrom(r.Context())
			policy.ClaimsFrom(r.Context())
			policy.IdentityFrom(r.Context())
			_, _ = p.AuthenticatedUserID(r)
			_, _ = p.EffectivePrincipals(r)
			// Also through a copy made here.
			r2 := r.WithContext(r.Context())
			policy.UserIDFrom(r2.Context())
			_, _ = p.AuthenticatedUserID(r2)
		}
		w.WriteHeader(http.StatusOK)
	}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	r.Use(chiadapter.StaticACL("root", rootACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(findArticle))
		r.With(g.Require("view")).Get("/", handler)
		r.With(g.Authenticated, g.Require("view"), g.Require("edit")).Put("/", handler)
	})
	rs := requesters(t)

	tests := []struct {
		requester, method string
		wantStatus        int
		wantCalls         int64
	}{
		{"editor", http.MethodGet, http.StatusOK, 1},
		{"editor", http.MethodPut, http.StatusOK, 1},
		{"admin", http.MethodPut, http.StatusOK, 1},
		{"plain", http.MethodPut, http.StatusForbidden, 1},
		{"rejected", http.MethodGet, http.StatusOK, 1},
		{"rejected", http.MethodPut, http.StatusForbidden, 1},
		// No verified userid: the finder is never asked.
		{"anonymous", http.MethodGet, http.StatusOK, 0},
		{"broken", http.MethodPut, http.StatusUnauthorized, 0},
		{"expired", http.MethodGet, http.StatusUnauthorized, 0},
	}
	for _, tt := range tests {
		t.Run(tt.requester+"/"+tt.method, func(t *testing.T) {
			before := calls.Load()
			rec := do(r, tt.method, "/articles/normal", rs[tt.requester].token)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d", rec.Code, tt.wantStatus)
			}
			if got := calls.Load() - before; got != tt.wantCalls {
				t.Errorf("group finder called %d times; want %d", got, tt.wantCalls)
			}
		})
	}

	t.Run("concurrent requests", func(t *testing.T) {
		srv := httptest.NewServer(r)
		defer srv.Close()
		const n = 16
		before := calls.Load()
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPut, srv.URL+"/articles/normal", nil)
				req.Header.Set("Authorization", "JWT token="+rs["editor"].token)
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("request %d: status %d; want 200", i, s)
			}
		}
		if got := calls.Load() - before; got != n {
			t.Errorf("group finder called %d times for %d requests; want once each", got, n)
		}
	})
}

// TestPlainNetHTTP: the middlewares serve a plain http.ServeMux, with the
// resource found from r.PathValue.
func TestPlainNetHTTP(t *testing.T) {
	p := newPolicy(t, nil, nil)
	g := &chiadapter.Guard{Policy: p}
	root := authorizer.NewNode("docs", nil, authorizer.ACL{
		allowACE(policy.Authenticated, "view"),
	})
	finder := func(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error) {
		switch id := r.PathValue("id"); id {
		case "gone":
			return nil, chiadapter.ErrNotFound
		case "staff":
			return authorizer.NewNode(id, root, authorizer.ACL{allowACE("group:staff", "view"), authorizer.DenyAll}), nil
		default:
			return authorizer.NewNodeWithoutACL(id, root), nil
		}
	}
	var seen []string
	mux := http.NewServeMux()
	mux.Handle("GET /docs/{id}", chiadapter.Authenticate(p)(chiadapter.Context(finder)(g.Require("view")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			userid, _ := policy.UserIDFrom(r.Context())
			seen = append(seen, userid+"@"+authorizer.ResourceName(chiadapter.Resource(r)))
			w.WriteHeader(http.StatusOK)
		})))))
	staff := mint(t, testSecret, userClaims("sam", "staff"))
	rs := requesters(t)

	tests := []struct {
		name, method, path, token string
		want                      int
		wantSeen                  string
	}{
		{"authenticated views a doc", http.MethodGet, "/docs/readme", rs["plain"].token, http.StatusOK, "paul@readme"},
		{"anonymous is challenged", http.MethodGet, "/docs/readme", "", http.StatusUnauthorized, ""},
		{"staff views the staff doc", http.MethodGet, "/docs/staff", staff, http.StatusOK, "sam@staff"},
		{"others may not", http.MethodGet, "/docs/staff", rs["plain"].token, http.StatusForbidden, ""},
		{"broken token", http.MethodGet, "/docs/readme", rs["broken"].token, http.StatusUnauthorized, ""},
		{"not found", http.MethodGet, "/docs/gone", rs["plain"].token, http.StatusNotFound, ""},
		{"method not routed", http.MethodPost, "/docs/readme", rs["plain"].token, http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			rec := do(mux, tt.method, tt.path, tt.token)
			if rec.Code != tt.want {
				t.Fatalf("status = %d; want %d", rec.Code, tt.want)
			}
			var want []string
			if tt.wantSeen != "" {
				want = []string{tt.wantSeen}
			}
			if !slices.Equal(seen, want) {
				t.Errorf("handler saw %q; want %q", seen, want)
			}
		})
	}
}

// TestGuardWithoutAuthenticate: a guard with no Authenticate above it
// works the request's state out itself and decides as with it.
func TestGuardWithoutAuthenticate(t *testing.T) {
	p := newPolicy(t, nil, nil)
	g := &chiadapter.Guard{Policy: p}
	var decision authorizer.Decision
	var hasDecision bool
	r := chi.NewRouter()
	r.Use(chiadapter.StaticACL("root", rootACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(findArticle))
		h := func(w http.ResponseWriter, r *http.Request) {
			decision, hasDecision = chiadapter.DecisionOf(r)
			w.WriteHeader(http.StatusNoContent)
		}
		r.With(g.Require("view")).Get("/", h)
		r.With(g.Authenticated, g.Require("edit")).Put("/", h)
	})
	rs := requesters(t)

	tests := []struct {
		requester, method, id string
		want                  int
		invalidToken          bool
		wantPrincipals        []string // of the decision the handler saw
	}{
		{"anonymous", http.MethodGet, "normal", http.StatusNoContent, false, []string{policy.Everyone}},
		{"anonymous", http.MethodPut, "normal", http.StatusUnauthorized, false, nil},
		{"editor", http.MethodPut, "normal", http.StatusNoContent, false,
			[]string{"eddie", policy.Everyone, policy.Authenticated, "group:editors"}},
		{"editor", http.MethodGet, "secret", http.StatusForbidden, false, nil},
		{"admin", http.MethodGet, "secret", http.StatusNoContent, false,
			[]string{"alice", policy.Everyone, policy.Authenticated, "group:admins"}},
		{"rejected", http.MethodGet, "normal", http.StatusNoContent, false, []string{policy.Everyone}},
		{"rejected", http.MethodPut, "normal", http.StatusForbidden, false, nil},
		{"broken", http.MethodGet, "normal", http.StatusUnauthorized, true, nil},
		{"expired", http.MethodPut, "normal", http.StatusUnauthorized, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.requester+"/"+tt.method+"/"+tt.id, func(t *testing.T) {
			decision, hasDecision = authorizer.Decision{}, false
			rec := do(r, tt.method, "/articles/"+tt.id, rs[tt.requester].token)
			if rec.Code != tt.want {
				t.Fatalf("status = %d; want %d", rec.Code, tt.want)
			}
			checkChallenge(t, rec, tt.invalidToken)
			if tt.wantPrincipals == nil {
				return
			}
			if !hasDecision || !decision.Allowed {
				t.Fatalf("handler saw decision %v (ok %v); want an allowing one", decision, hasDecision)
			}
			if !slices.Equal(decision.Principals, tt.wantPrincipals) {
				t.Errorf("decision principals = %q; want %q", decision.Principals, tt.wantPrincipals)
			}
		})
	}
}
