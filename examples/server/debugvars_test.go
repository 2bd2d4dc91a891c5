package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
)

// TestRunDebugVars: GET /debug/vars is expvar's page, the admins' only,
// and its "jwtauth" counters move as requests are made, over real HTTP.
func TestRunDebugVars(t *testing.T) {
	path := writeINI(t,
		"jwtauth.revocation = memory",
		"multiauth.policies = api svc",
		"multiauth.policy.api.use = jwt",
		"multiauth.policy.api.master_secret = "+testSecret,
		"multiauth.policy.svc.use = basic",
		"multiauth.policy.svc.check = example:basiccheck",
		"multiauth.groupfinder = example:groupfinder",
	)
	r := startRun(t, "-config", path, "-demo-users", "-addr", "127.0.0.1:0")

	if got := do(t, http.MethodGet, r.base+"/debug/vars", "", ""); got.status != http.StatusUnauthorized {
		t.Errorf("GET /debug/vars anonymous: %d %s", got.status, got.raw)
	}
	if got := doBasic(t, http.MethodGet, r.base+"/debug/vars", "alice", "alice"); got.status != http.StatusForbidden {
		t.Errorf("GET /debug/vars as alice, an editor: %d %s", got.status, got.raw)
	}
	counters := func() policy.CountersSnapshot {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth("admin", "admin")
		got := send(t, http.DefaultClient, http.MethodGet, r.base+"/debug/vars", req.Header, "")
		var vars struct {
			Jwtauth  *policy.CountersSnapshot `json:"jwtauth"`
			Memstats json.RawMessage          `json:"memstats"`
		}
		if err := json.Unmarshal([]byte(got.body), &vars); got.status != http.StatusOK || err != nil || vars.Jwtauth == nil || vars.Memstats == nil {
			t.Fatalf("GET /debug/vars as admin: %d %v %.300s", got.status, err, got.body)
		}
		return *vars.Jwtauth
	}
	before := counters()

	carol := mint(t, []byte(testSecret), userClaims("carol", []string{"editors"}))
	for range 3 {
		if got := do(t, http.MethodGet, r.base+"/auth", carol, ""); got.status != http.StatusOK {
			t.Fatalf("GET /auth as carol: %d %s", got.status, got.raw)
		}
	}
	do(t, http.MethodGet, r.base+"/auth", testkit.BreakSignature(t, carol), "")
	expired := userClaims("carol", nil)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	do(t, http.MethodGet, r.base+"/auth", mint(t, []byte(testSecret), expired), "")
	if got := doBasic(t, http.MethodPost, r.base+"/users/carol/revoke", "admin", "admin"); got.status != http.StatusOK {
		t.Fatalf("POST /users/carol/revoke: %d %s", got.status, got.raw)
	}
	if got := do(t, http.MethodGet, r.base+"/auth", carol, ""); got.status != http.StatusUnauthorized {
		t.Fatalf("GET /auth with carol's revoked token: %d %s", got.status, got.raw)
	}
	after := counters()

	delta := func(name string, a, b uint64, want uint64) {
		if b-a != want {
			t.Errorf("%s moved by %d, want %d (before %+v, after %+v)", name, b-a, want, before, after)
		}
	}
	// Allowed: carol three times, the admin's revocation and second read.
	delta("allowed", before.Allowed, after.Allowed, 5)
	delta("allowed_by_policy api", before.AllowedByPolicy["api"], after.AllowedByPolicy["api"], 3)
	delta("allowed_by_policy svc", before.AllowedByPolicy["svc"], after.AllowedByPolicy["svc"], 2)
	delta("denied", before.Denied, after.Denied, 3)
	for _, reason := range []error{policy.ErrInvalidSignature, policy.ErrTokenExpired, policy.ErrTokenRevoked} {
		delta("denied_by_reason "+reason.Error(), before.DeniedByReason[reason.Error()], after.DeniedByReason[reason.Error()], 1)
	}
	// The cache takes a token the second time it verifies.
	delta("jwt_cache_miss", before.JWTCacheMiss, after.JWTCacheMiss, 4)
	delta("jwt_cache_hit", before.JWTCacheHit, after.JWTCacheHit, 2)
	delta("revoked", before.Revoked, after.Revoked, 1)
	if code := r.stop(); code != 0 {
		t.Errorf("run returned %d; stderr %q", code, r.stderr.String())
	}
	if strings.Contains(r.stderr.String(), carol) {
		t.Error("the log shows the token")
	}
}
