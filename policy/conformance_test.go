package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
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

// TestPyramidSecurityConformance runs the shared "authentication" cases
// of $PYRAMID_SECURITY_CASES, else of
// ../shared/conformance/pyramid-security.json seen from the module root
// (skipped when neither exists); the other kinds belong to the authorizer
// package.
func TestPyramidSecurityConformance(t *testing.T) {
	cases := sharedpath.Cases[conformanceCase](t, false, "PYRAMID_SECURITY_CASES", "conformance", "pyramid-security.json")
	for _, c := range cases {
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
