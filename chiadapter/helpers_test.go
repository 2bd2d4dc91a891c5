package chiadapter_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// The policy's secret, and another one for tokens whose signature fails.
var (
	testSecret  = []byte("chiadapter-test-secret-0123456789abcdef")
	wrongSecret = []byte("not-the-secret-the-policy-knows-0123456789")
)

// testNow is the policy's clock: tokens are minted around it, so that no
// test depends on the time it runs.
var testNow = time.Unix(1_900_000_000, 0)

// mint signs claims with HS256 using go-jose directly, independently of the
// policy's own token-making code.
func mint(t testing.TB, secret []byte, claims map[string]any) string {
	t.Helper()
	return testkit.Mint(t, jose.HS256, secret, claims)
}

// userClaims are the claims of a valid token for sub with groups.
func userClaims(sub string, groups ...string) map[string]any {
	c := map[string]any{
		"sub": sub,
		"iat": testNow.Add(-time.Minute).Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
	if groups != nil {
		c["groups"] = groups
	}
	return c
}

// requester is one client of the test app: token is empty for an anonymous
// one.
type requester struct {
	name  string
	token string
}

// requesters returns the clients of the tables: anonymous, an editor, an
// admin, a user without groups, a user the group finder rejects (who
// claims to be an admin), a token signed with another secret and an
// expired token, both of an admin.
func requesters(t testing.TB) map[string]requester {
	t.Helper()
	expired := userClaims("admin", "admins")
	expired["exp"] = testNow.Add(-time.Second).Unix()
	rs := map[string]requester{
		"anonymous": {name: "anonymous"},
		"editor":    {name: "editor", token: mint(t, testSecret, userClaims("eddie", "editors"))},
		"admin":     {name: "admin", token: mint(t, testSecret, userClaims("alice", "admins"))},
		"plain":     {name: "plain", token: mint(t, testSecret, userClaims("paul"))},
		"rejected":  {name: "rejected", token: mint(t, testSecret, userClaims("baduser", "admins"))},
		"broken":    {name: "broken", token: mint(t, wrongSecret, userClaims("alice", "admins"))},
		"expired":   {name: "expired", token: mint(t, testSecret, expired)},
	}
	return rs
}

// groupFinder rejects every userid containing "bad" and gives the others
// "group:<g>" for each string g of their "groups" claim.
func groupFinder(userid string, _ *http.Request, claims policy.Claims) ([]string, bool) {
	if strings.Contains(userid, "bad") {
		return nil, false
	}
	var groups []string
	names, _ := claims.Strings("groups")
	for _, g := range names {
		groups = append(groups, "group:"+g)
	}
	return groups, true
}

// newPolicy builds the JWT policy of the tests, with finder (groupFinder
// when nil) and logger (discarding when nil).
func newPolicy(t testing.TB, finder policy.GroupFinder, logger *slog.Logger) *policy.JWT {
	t.Helper()
	if finder == nil {
		finder = groupFinder
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := policy.NewJWT(policy.Config{
		MasterSecret: testSecret,
		GroupFinder:  finder,
		Logger:       logger,
		Now:          func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return p
}

func allowACE(principal string, perms ...string) authorizer.ACE {
	return authorizer.ACE{Action: authorizer.Allow, Principal: principal, Permissions: authorizer.Perms(perms...)}
}

func allowAllACE(principal string) authorizer.ACE {
	return authorizer.ACE{Action: authorizer.Allow, Principal: principal, Permissions: authorizer.AllPermissions}
}

// rootACL is the static ACL above the articles.
var rootACL = authorizer.ACL{
	allowACE(policy.Everyone, "view"),
	allowACE("group:editors", "edit"),
	allowAllACE("group:admins"),
}

// secretACL is the ACL of the article "secret": admins only.
var secretACL = authorizer.ACL{allowAllACE("group:admins"), authorizer.DenyAll}

// errBoom is a finder failure that is not ErrNotFound.
var errBoom = errors.New("the article store is down")

// findArticle finds the article named by the chi URL parameter id under
// parent: "secret" has its own ACL, "missing" does not exist, "boom" fails,
// and every other article has no ACL.
func findArticle(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error) {
	id, err := chiadapter.URLParam(r, "id")
	if err != nil {
		return nil, err
	}
	switch id {
	case "missing":
		return nil, chiadapter.ErrNotFound
	case "boom":
		return nil, errBoom
	case "secret":
		return authorizer.NewNode(id, parent, secretACL), nil
	default:
		return authorizer.NewNodeWithoutACL(id, parent), nil
	}
}

// okHandler answers 200 with the authenticated userid, if any.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	userid, _ := policy.UserIDFrom(r.Context())
	_, _ = io.WriteString(w, "ok "+userid)
})

// articleApp is the chi app of the tests: Authenticate and a static root
// ACL on every route, and /articles/{id} with its resource found by
// findArticle and GET, PUT and DELETE requiring view, edit and delete.
func articleApp(p policy.AuthenticationPolicy, g *chiadapter.Guard, h http.Handler) http.Handler {
	if h == nil {
		h = okHandler
	}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	r.Use(chiadapter.StaticACL("root", rootACL))
	r.Route("/articles/{id}", func(r chi.Router) {
		r.Use(chiadapter.Context(findArticle))
		r.With(g.Require("view")).Get("/", h.ServeHTTP)
		r.With(g.Require("edit")).Put("/", h.ServeHTTP)
		r.With(g.Require("delete")).Delete("/", h.ServeHTTP)
	})
	return r
}

// do serves one request of method on target with token (none when empty)
// and returns the response.
func do(h http.Handler, method, target, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "JWT token="+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonError returns the "error" member of a JSON body, or "".
func jsonError(body string) string {
	var m map[string]string
	_ = json.Unmarshal([]byte(body), &m)
	return m["error"]
}

// checkChallenge checks the answer of a refused request: a 401 asks for
// credentials with "WWW-Authenticate: JWT", with error="invalid_token" when
// the request presented a token that failed, and a 403 asks for nothing.
func checkChallenge(t *testing.T, rec *httptest.ResponseRecorder, invalidToken bool) {
	t.Helper()
	checkChallengeOf(t, rec.Code, rec.Header(), rec.Body.String(), invalidToken)
}

func checkChallengeOf(t *testing.T, code int, h http.Header, body string, invalidToken bool) {
	t.Helper()
	got := h.Values("WWW-Authenticate")
	switch {
	case code == http.StatusForbidden:
		// RFC 6750: valid credentials that are not enough.
		if len(got) != 1 || got[0] != `JWT error="insufficient_scope"` {
			t.Errorf("status 403 with WWW-Authenticate %q; want [JWT error=\"insufficient_scope\"]", got)
		}
	case code != http.StatusUnauthorized:
		if len(got) != 0 {
			t.Errorf("status %d with WWW-Authenticate %q; want none", code, got)
		}
	case invalidToken:
		if len(got) != 1 || !strings.HasPrefix(got[0], "JWT ") || !strings.Contains(got[0], `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate = %q; want JWT with error=\"invalid_token\"", got)
		}
		if e := jsonError(body); e != "invalid_token" {
			t.Errorf("body error = %q; want invalid_token (body %s)", e, body)
		}
	default:
		if len(got) != 1 || got[0] != "JWT" {
			t.Errorf("WWW-Authenticate = %q; want exactly [JWT], no error attribute", got)
		}
	}
}
