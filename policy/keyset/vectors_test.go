package keyset_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/sharedpath"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// The JWK sets of Wycheproof's JOSE vectors, through the one parser. A key
// set is public, so its symmetric keys are never kept: the sets of HMAC
// keys (labelled valid for a library that takes secrets from a set) have
// no usable key, the mixed set keeps its EC key alone, and the set naming
// one kid twice has no usable key either. Of the sets of one asymmetric
// key, those labelled invalid (ROCA, 1024 bits, exponent 1, a key for
// RSA1_5, a modified key) keep nothing, and the valid one keeps its key.
func TestWycheproofKeySets(t *testing.T) {
	dir, tried, ok := sharedpath.Find("JOSE_VECTORS_DIR", "testdata", "external")
	if !ok {
		t.Skipf("no external JOSE vectors; tried %q. Set JOSE_VECTORS_DIR to run them.", tried)
	}
	want := map[string][]string{ // the kids kept, by group comment
		"jws_mixedSymmetryKeyset": {"kid-ec-sign"},
		"rs256":                   nil, // two groups: the valid key, and one for RSA1_5
		"jws_keyset":              nil,
		"jws_duplicate_kid":       nil,
	}
	ran := 0
	for _, name := range []string{"json_web_key_test.json", "json_web_crypto_test.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			TestGroups []struct {
				Comment string          `json:"comment"`
				Private json.RawMessage `json:"private"`
				Public  json.RawMessage `json:"public"`
				Tests   []struct {
					Result string `json:"result"`
				} `json:"tests"`
			} `json:"testGroups"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		for _, g := range f.TestGroups {
			body := g.Public
			if body == nil {
				body = g.Private
			}
			var probe struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if json.Unmarshal(body, &probe) != nil || probe.Keys == nil {
				continue // a lone JWK: the policy package's vectors
			}
			ran++
			keys, _, err := keyset.ParseJWKS(body, nil, true)
			kept := keyIDs(keys)
			switch {
			case g.Comment == "rs256" && len(g.Tests) == 1 && g.Tests[0].Result == "valid":
				if err != nil || !slices.Equal(kept, []string{"kid-rsa-sign"}) {
					t.Errorf("%s %s (valid): kept %q, %v", name, g.Comment, kept, err)
				}
			case want[g.Comment] != nil:
				if !slices.Equal(kept, want[g.Comment]) {
					t.Errorf("%s %s: kept %q (%v), want %q", name, g.Comment, kept, err, want[g.Comment])
				}
			default:
				if err == nil {
					t.Errorf("%s %s: kept %q, want no usable key", name, g.Comment, kept)
				}
			}
		}
	}
	if ran == 0 {
		t.Fatal("no key set ran")
	}
}
