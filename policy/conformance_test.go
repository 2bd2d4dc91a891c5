package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/sharedpath"
	"github.com/pyramid-go/jwtauth/policy"
)

// conformanceCase is one case of conformance/pyramid-security.json; only
// the fields of the "authentication" kind are read.
type conformanceCase struct {
	Name          string          `json:"name"`
	Kind          string          `json:"kind"`
	ClaimedUserID *string         `json:"claimed_userid"`
	GroupFinder   json.RawMessage `json:"groupfinder"`
	Expect        struct {
		AuthenticatedUserID *string  `json:"authenticated_userid"`
		Principals          []string `json:"effective_principals"`
	} `json:"expect"`
}

// conformanceFile returns the cases file: $PYRAMID_SECURITY_CASES, else
// ../shared/conformance/pyramid-security.json seen from the module root.
// It skips the test when neither exists.
func conformanceFile(t *testing.T) string {
	t.Helper()
	p, tried, ok := sharedpath.Find("PYRAMID_SECURITY_CASES", "conformance", "pyramid-security.json")
	if !ok {
		t.Skipf("no conformance cases file; tried %q. Set PYRAMID_SECURITY_CASES to run them.", tried)
	}
	return p
}

// TestPyramidSecurityConformance runs the shared "authentication" cases;
// the other kinds belong to the authorizer package.
func TestPyramidSecurityConformance(t *testing.T) {
	data, err := os.ReadFile(conformanceFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []conformanceCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("cases file: %v", err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("the cases file holds no cases")
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Kind != "authentication" {
				t.Skip("run by authorizer's conformance test")
			}
			runAuthenticationCase(t, c)
		})
	}
}

func runAuthenticationCase(t *testing.T, c conformanceCase) {
	var finder policy.GroupFinder
	finderCalled := false
	switch gf := bytes.TrimSpace(c.GroupFinder); {
	case string(gf) == `"none"`:
		// no finder configured: the default
	case string(gf) == "null":
		finder = func(string, *http.Request, policy.Claims) ([]string, bool) {
			finderCalled = true
			return nil, false
		}
	default:
		var groups []string
		if err := json.Unmarshal(gf, &groups); err != nil {
			t.Fatalf("groupfinder %s: %v", gf, err)
		}
		finder = func(string, *http.Request, policy.Claims) ([]string, bool) {
			finderCalled = true
			return slices.Clone(groups), true
		}
	}
	p := newPolicy(t, func(cfg *policy.Config) { cfg.GroupFinder = finder })

	r := newRequest()
	if c.ClaimedUserID != nil {
		r = newRequest(jwtAuth(mintHS(t, validClaims(*c.ClaimedUserID))))
	}

	uid, err := p.AuthenticatedUserID(r)
	switch want := c.Expect.AuthenticatedUserID; {
	case want == nil && err == nil:
		t.Errorf("AuthenticatedUserID = %q, want none", uid)
	case want == nil && c.ClaimedUserID == nil && !errors.Is(err, policy.ErrNoCredentials):
		t.Errorf("err = %v, want ErrNoCredentials", err)
	case want == nil && c.ClaimedUserID != nil && !errors.Is(err, policy.ErrUserRejected):
		t.Errorf("err = %v, want ErrUserRejected", err)
	case want != nil && (err != nil || uid != *want):
		t.Errorf("AuthenticatedUserID = %q, %v; want %q", uid, err, *want)
	}

	principals, err := p.EffectivePrincipals(r)
	if err != nil {
		t.Errorf("EffectivePrincipals err = %v", err)
	}
	if !slices.Equal(principals, c.Expect.Principals) {
		t.Errorf("EffectivePrincipals = %q, want %q", principals, c.Expect.Principals)
	}
	if c.ClaimedUserID != nil && (*c.ClaimedUserID == policy.Everyone || *c.ClaimedUserID == policy.Authenticated) && finderCalled {
		t.Error("group finder called for a reserved userid")
	}
}
