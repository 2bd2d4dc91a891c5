package chiadapter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/pyramid-go/jwtauth/authorizer"
	"github.com/pyramid-go/jwtauth/chiadapter"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestCustomAnswers: a guard's Forbidden and Unauthorized handlers replace
// the 403 and the challenge, and read the decision with DecisionOf.
func TestCustomAnswers(t *testing.T) {
	p := newPolicy(t, nil, nil)
	type seen struct {
		by string
		d  authorizer.Decision
		ok bool
	}
	var got []seen
	record := func(by string, status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, ok := chiadapter.DecisionOf(r)
			got = append(got, seen{by, d, ok})
			w.Header().Set("X-Answered-By", by)
			w.WriteHeader(status)
		})
	}
	g := &chiadapter.Guard{
		Policy:       p,
		Forbidden:    record("forbidden", http.StatusTeapot),
		Unauthorized: record("unauthorized", http.StatusPaymentRequired),
	}
	app := articleApp(p, g, record("handler", http.StatusOK))
	rs := requesters(t)

	editor := []string{"eddie", policy.Everyone, policy.Authenticated, "group:editors"}
	admin := []string{"alice", policy.Everyone, policy.Authenticated, "group:admins"}
	everyone := []string{policy.Everyone}
	tests := []struct {
		name, requester, method, article string
		wantStatus                       int
		wantBy                           string
		wantDecision                     bool // whether DecisionOf has one
		allowed, defaultDeny             bool
		ace                              authorizer.ACE // when not a default deny
		location                         string
		principals                       []string
		permission                       string
	}{
		{"editor may not delete", "editor", http.MethodDelete, "normal", http.StatusTeapot, "forbidden",
			true, false, true, authorizer.ACE{}, "normal", editor, "delete"},
		{"secret denies the editor", "editor", http.MethodGet, "secret", http.StatusTeapot, "forbidden",
			true, false, false, authorizer.DenyAll, "secret", editor, "view"},
		{"rejected user may not edit", "rejected", http.MethodPut, "normal", http.StatusTeapot, "forbidden",
			true, false, true, authorizer.ACE{}, "normal", everyone, "edit"},
		{"anonymous may not edit", "anonymous", http.MethodPut, "normal", http.StatusPaymentRequired, "unauthorized",
			true, false, true, authorizer.ACE{}, "normal", everyone, "edit"},
		{"secret denies anonymous", "anonymous", http.MethodGet, "secret", http.StatusPaymentRequired, "unauthorized",
			true, false, false, authorizer.DenyAll, "secret", everyone, "view"},
		{"admin edits the secret", "admin", http.MethodPut, "secret", http.StatusOK, "handler",
			true, true, false, allowAllACE("group:admins"), "secret", admin, "edit"},
		{"editor edits", "editor", http.MethodPut, "normal", http.StatusOK, "handler",
			true, true, false, allowACE("group:editors", "edit"), "root", editor, "edit"},
		// A failed token is refused whatever the ACL says; the decision,
		// made for Everyone alone, still reaches the handler.
		{"broken token", "broken", http.MethodGet, "normal", http.StatusPaymentRequired, "unauthorized",
			true, true, false, allowACE(policy.Everyone, "view"), "root", everyone, "view"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			rec := do(app, tt.method, "/articles/"+tt.article, rs[tt.requester].token)
			if rec.Code != tt.wantStatus || rec.Header().Get("X-Answered-By") != tt.wantBy {
				t.Fatalf("status %d by %q; want %d by %q", rec.Code, rec.Header().Get("X-Answered-By"), tt.wantStatus, tt.wantBy)
			}
			if v := rec.Header().Values("WWW-Authenticate"); len(v) != 0 {
				t.Errorf("WWW-Authenticate %q set although the custom handler answered", v)
			}
			if len(got) != 1 {
				t.Fatalf("%d handlers ran; want 1", len(got))
			}
			s := got[0]
			if s.ok != tt.wantDecision {
				t.Fatalf("DecisionOf ok = %v; want %v", s.ok, tt.wantDecision)
			}
			if !s.ok {
				return
			}
			d := s.d
			if d.Allowed != tt.allowed || d.DefaultDeny != tt.defaultDeny {
				t.Errorf("Allowed %v DefaultDeny %v; want %v %v (%s)", d.Allowed, d.DefaultDeny, tt.allowed, tt.defaultDeny, d)
			}
			if !d.ACE.Equal(tt.ace) {
				t.Errorf("ACE = %s; want %s", d.ACE, tt.ace)
			}
			if name := authorizer.ResourceName(d.Location); name != tt.location {
				t.Errorf("Location = %s; want %s", name, tt.location)
			}
			if !slices.Equal(d.Principals, tt.principals) || d.Permission != tt.permission {
				t.Errorf("asked about %q %q; want %q %q", d.Principals, d.Permission, tt.principals, tt.permission)
			}
			if tt.defaultDeny && (!d.ACLFound || !slices.EqualFunc(d.ACL, rootACL, authorizer.ACE.Equal)) {
				t.Errorf("default deny's ACL = %s (found %v); want the root ACL, the last one read", d.ACL, d.ACLFound)
			}
		})
	}

	t.Run("Authenticated guard", func(t *testing.T) {
		r := chi.NewRouter()
		r.Use(chiadapter.Authenticate(p))
		r.With(g.Authenticated).Get("/me", record("handler", http.StatusOK).ServeHTTP)
		for _, c := range []struct {
			requester, wantBy string
		}{{"anonymous", "unauthorized"}, {"broken", "unauthorized"}, {"rejected", "forbidden"}, {"plain", "handler"}} {
			got = nil
			rec := do(r, http.MethodGet, "/me", rs[c.requester].token)
			if by := rec.Header().Get("X-Answered-By"); by != c.wantBy {
				t.Errorf("%s: answered by %q; want %q", c.requester, by, c.wantBy)
			}
			// No permission was checked: there is no decision.
			if len(got) != 1 || got[0].ok {
				t.Errorf("%s: DecisionOf ok in %d handlers: %+v; want one handler, no decision", c.requester, len(got), got)
			}
		}
	})
}

// TestDebugLog: a guard with Debug logs one sentence per permission check
// to its Logger; without Debug it logs nothing; the token is never logged.
func TestDebugLog(t *testing.T) {
	rs := requesters(t)
	const rootACLText = "[(Allow, system.Everyone, [view]), (Allow, group:editors, [edit]), (Allow, group:admins, ALL_PERMISSIONS)]"
	tests := []struct {
		requester, method, article string
		wantStatus                 int
		want                       []string // decision sentences, in order
	}{
		{"anonymous", http.MethodPut, "n1", http.StatusUnauthorized, []string{
			"ACLAllowed permission 'view' via ACE '(Allow, system.Everyone, [view])' in ACL '" + rootACLText + "' on context root for principals [system.Everyone]",
			"ACLDenied permission 'edit' via ACE '<default deny>' in ACL '" + rootACLText + "' on context n1 for principals [system.Everyone]",
		}},
		{"editor", http.MethodPut, "n1", http.StatusOK, []string{
			"ACLAllowed permission 'view' via ACE '(Allow, system.Everyone, [view])' in ACL '" + rootACLText + "' on context root for principals [eddie, system.Everyone, system.Authenticated, group:editors]",
			"ACLAllowed permission 'edit' via ACE '(Allow, group:editors, [edit])' in ACL '" + rootACLText + "' on context root for principals [eddie, system.Everyone, system.Authenticated, group:editors]",
		}},
		{"editor", http.MethodPut, "secret", http.StatusForbidden, []string{
			"ACLDenied permission 'view' via ACE '(Deny, system.Everyone, ALL_PERMISSIONS)' in ACL '[(Allow, group:admins, ALL_PERMISSIONS), (Deny, system.Everyone, ALL_PERMISSIONS)]' on context secret for principals [eddie, system.Everyone, system.Authenticated, group:editors]",
		}},
		{"rejected", http.MethodGet, "n1", http.StatusOK, []string{
			"ACLAllowed permission 'view' via ACE '(Allow, system.Everyone, [view])' in ACL '" + rootACLText + "' on context root for principals [system.Everyone]",
		}},
		// Refused by the first guard whatever its decision, made for
		// Everyone alone, which is logged.
		{"broken", http.MethodPut, "n1", http.StatusUnauthorized, []string{
			"ACLAllowed permission 'view' via ACE '(Allow, system.Everyone, [view])' in ACL '" + rootACLText + "' on context root for principals [system.Everyone]",
		}},
	}
	for _, debug := range []bool{true, false} {
		for _, tt := range tests {
			name := tt.requester + "/" + tt.method + "/" + tt.article
			if !debug {
				name = "nodebug/" + name
			}
			t.Run(name, func(t *testing.T) {
				var guardLog, policyLog bytes.Buffer
				p := newPolicy(t, nil, slog.New(slog.NewTextHandler(&policyLog, nil)))
				g := &chiadapter.Guard{Policy: p, Debug: debug, Logger: slog.New(slog.NewJSONHandler(&guardLog, nil))}
				r := chi.NewRouter()
				r.Use(chiadapter.Authenticate(p))
				r.Use(chiadapter.StaticACL("root", rootACL))
				r.Route("/articles/{id}", func(r chi.Router) {
					r.Use(chiadapter.Context(findArticle))
					r.With(g.Require("view"), g.Require("edit")).Put("/", okHandler)
					r.With(g.Require("view")).Get("/", okHandler)
				})
				token := rs[tt.requester].token
				rec := do(r, tt.method, "/articles/"+tt.article, token)
				if rec.Code != tt.wantStatus {
					t.Fatalf("status = %d; want %d", rec.Code, tt.wantStatus)
				}
				var sentences []string
				sc := bufio.NewScanner(bytes.NewReader(guardLog.Bytes()))
				for sc.Scan() {
					var rec map[string]any
					if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
						t.Fatalf("log line %q: %v", sc.Text(), err)
					}
					if rec["method"] != tt.method || rec["path"] != "/articles/"+tt.article {
						t.Errorf("log record %v lacks method and path", rec)
					}
					s, _ := rec["decision"].(string)
					sentences = append(sentences, s)
				}
				want := tt.want
				if !debug {
					want = nil
				}
				if !slices.Equal(sentences, want) {
					t.Errorf("logged decisions:\n%s\nwant:\n%s", strings.Join(sentences, "\n"), strings.Join(want, "\n"))
				}
				if token != "" {
					sig := token[strings.LastIndexByte(token, '.')+1:]
					for name, log := range map[string]string{"guard": guardLog.String(), "policy": policyLog.String()} {
						if strings.Contains(log, token) || strings.Contains(log, sig) {
							t.Errorf("the %s log holds the token: %s", name, log)
						}
					}
				}
			})
		}
	}
}

// TestAuthenticatedGuard: Guard.Authenticated lets only an authenticated
// user through.
func TestAuthenticatedGuard(t *testing.T) {
	p := newPolicy(t, nil, nil)
	g := &chiadapter.Guard{Policy: p}
	r := chi.NewRouter()
	r.Use(chiadapter.Authenticate(p))
	r.With(g.Authenticated).Get("/me", okHandler)
	rs := requesters(t)

	tests := []struct {
		name, authorization string
		want                int
		invalidToken        bool
		wantBody            string
	}{
		{"no token", "", http.StatusUnauthorized, false, ""},
		{"another scheme", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, false, ""},
		{"broken token", "JWT token=" + rs["broken"].token, http.StatusUnauthorized, true, ""},
		{"expired token", "JWT token=" + rs["expired"].token, http.StatusUnauthorized, true, ""},
		{"rejected user", "JWT token=" + rs["rejected"].token, http.StatusForbidden, false, ""},
		{"good token", "JWT token=" + rs["plain"].token, http.StatusOK, false, "ok paul"},
		{"good token, quoted", `JWT token="` + rs["editor"].token + `"`, http.StatusOK, false, "ok eddie"},
		{"good token, token68", "JWT " + rs["admin"].token, http.StatusOK, false, "ok alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "/me", nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d; want %d", rec.Code, tt.want)
			}
			checkChallenge(t, rec, tt.invalidToken)
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body = %q; want %q", rec.Body, tt.wantBody)
			}
		})
	}
}
