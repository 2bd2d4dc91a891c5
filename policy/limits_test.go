package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/policy"
)

func TestMaxTokenBytes(t *testing.T) {
	tok := mintHS(t, validClaims("u"))
	forms := map[string]func(string) string{
		"param":  func(s string) string { return "JWT token=" + s },
		"quoted": func(s string) string { return `JWT token="` + s + `"` },
		"bare":   func(s string) string { return "JWT " + s },
	}
	for fname, form := range forms {
		t.Run(fname+"/at the limit", func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.MaxTokenBytes = len(tok) })
			if uid, err := p.AuthenticatedUserID(newRequest(form(tok))); err != nil || uid != "u" {
				t.Errorf("AuthenticatedUserID = %q, %v", uid, err)
			}
		})
		t.Run(fname+"/one byte over", func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.MaxTokenBytes = len(tok) - 1 })
			r := newRequest(form(tok))
			if _, err := p.AuthenticatedUserID(r); !errors.Is(err, policy.ErrTokenTooLarge) {
				t.Errorf("err = %v, want ErrTokenTooLarge", err)
			}
			if uid, ok := p.UnauthenticatedUserID(r); ok {
				t.Errorf("UnauthenticatedUserID of an oversized token = %q", uid)
			}
		})
	}
	t.Run("default limit 8192", func(t *testing.T) {
		c := validClaims("u")
		c["pad"] = strings.Repeat("x", policy.DefaultMaxTokenBytes)
		big := mintHS(t, c)
		p := newPolicy(t, nil)
		if _, err := p.AuthenticatedUserID(newRequest(jwtAuth(big))); !errors.Is(err, policy.ErrTokenTooLarge) {
			t.Errorf("err = %v, want ErrTokenTooLarge", err)
		}
	})
}

func TestHugeHeaders(t *testing.T) {
	mb := strings.Repeat(".", 1<<20)
	tests := []struct {
		name    string
		scheme  string
		max     int
		authz   string
		wantErr error
	}{
		{"bearer and a megabyte of dots", "Bearer", 0, "Bearer " + mb, policy.ErrTokenTooLarge},
		{"JWT token= and a megabyte of dots", "", 0, "JWT token=" + mb, policy.ErrTokenTooLarge},
		{"unterminated quote and a megabyte", "", 0, `JWT token="` + mb, policy.ErrTokenTooLarge},
		{"a megabyte of dots under the largest limit", "Bearer", policy.MaxMaxTokenBytes, "Bearer " + mb, policy.ErrMalformedToken},
		{"a megabyte of segments under the largest limit", "Bearer", policy.MaxMaxTokenBytes, "Bearer " + strings.Repeat("a.", 1<<19), policy.ErrMalformedToken},
		{"another scheme, a megabyte", "", 0, "Basic " + mb, policy.ErrNoCredentials},
		{"a megabyte of spaces", "", 0, "JWT" + strings.Repeat(" ", 1<<20) + "a.b.c", policy.ErrTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, func(c *policy.Config) { c.Schemes = schemes(tt.scheme); c.MaxTokenBytes = tt.max })
			r := newRequest(tt.authz)
			if _, err := p.AuthenticatedUserID(r); !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			p.UnauthenticatedUserID(r)
			p.EffectivePrincipals(r)
			p.UnverifiedClaims(r)
		})
	}
}
