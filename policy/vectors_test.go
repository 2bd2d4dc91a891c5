package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pyramid-go/jwtauth/internal/sharedpath"
)

// The external vectors are read from ../shared/testdata/external (or
// $JOSE_VECTORS_DIR), never copied into the project.
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir, tried, ok := sharedpath.Find("JOSE_VECTORS_DIR", "testdata", "external")
	if !ok {
		t.Skipf("no external JOSE vectors; tried %q. Set JOSE_VECTORS_DIR to run them.", tried)
	}
	return dir
}

// knownDataBugs are Wycheproof vectors whose labels are wrong, by tcId of
// json_web_signature_test.json, with the reason.
var knownDataBugs = map[int]string{
	367: "byte-identical to the valid tcId 357 but labelled invalid (C2SP/wycheproof#236)",
	370: "byte-identical to the valid tcId 357 but labelled invalid (C2SP/wycheproof#236)",
	372: "labelled valid but holds '?', which a strict base64url decoder rightly rejects",
	373: "labelled valid but holds '?', which a strict base64url decoder rightly rejects",
}

// strictRejections are vectors labelled valid that this verifier refuses
// on purpose, with the reason it must give.
var strictRejections = map[int]struct {
	reason error
	why    string
}{
	346: {ErrAlgorithmNotAllowed, "RFC 7520's Figure 20 is a PS384 token, but Wycheproof's JWK says alg PS256: one algorithm per key (jwt-security.md row 3)"},
	350: {ErrAlgorithmNotAllowed, "RFC 7520's Figure 20 is a PS384 token, but Wycheproof's JWK says alg PS256: one algorithm per key (jwt-security.md row 3)"},
}

type wycheproofFile struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			Result  string          `json:"result"`
			Flags   []string        `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// vectorKey is a group's key: a JWK, or the one JWK of a set of one;
// several is false for a set of more keys, which only keyset.ParseJWKS
// reads (its tests run these groups: this package's tests cannot import
// it).
func vectorKey(raw json.RawMessage) (key json.RawMessage, several bool) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(raw, &set) != nil || set.Keys == nil {
		return raw, false
	}
	if len(set.Keys) != 1 {
		return nil, true
	}
	return set.Keys[0], false
}

// vectorKeys reads a group's key, a JWK, the way the policy reads keys:
// bound to its own alg. HMAC keys are allowed, as a configured secret
// would be.
func vectorKeys(raw json.RawMessage) ([]Key, error) {
	k, err := KeyFromJWK(raw, "", true)
	if err != nil {
		return nil, err
	}
	return []Key{k}, nil
}

// verifyWithKeys runs the policy's structural and signature steps on raw,
// allowing exactly the algorithms the keys are bound to.
func verifyWithKeys(raw string, keys []Key) error {
	var algs []jose.SignatureAlgorithm
	for _, k := range keys {
		algs = append(algs, jose.SignatureAlgorithm(k.Algorithm))
	}
	jws, sigCanonical, err := parseJWS(raw, algs, nil)
	if err != nil {
		return err
	}
	if !sigCanonical {
		return invalid(ErrInvalidSignature, nil)
	}
	return verifySignature(jws, raw, keys)
}

func TestWycheproof(t *testing.T) {
	dir := vectorsDir(t)
	for _, name := range []string{"json_web_signature_test.json", "json_web_key_test.json", "json_web_crypto_test.json"} {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			var f wycheproofFile
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			var ran int
			for _, g := range f.TestGroups {
				keyJSON := g.Public
				if keyJSON == nil {
					keyJSON = g.Private
				}
				keyJSON, several := vectorKey(keyJSON)
				if several {
					continue
				}
				keys, keyErr := vectorKeys(keyJSON)
				for _, tc := range g.Tests {
					if tc.JWS == nil {
						continue // a JWE case: this verifier reads JWS only
					}
					// A compact JWS is a JSON string; a JSON serialization is
					// an object, which goes to the verifier as its text.
					raw := string(tc.JWS)
					var compact string
					if json.Unmarshal(tc.JWS, &compact) == nil {
						raw = compact
					}
					t.Run(g.Comment+"/"+strconv.Itoa(tc.TcID)+"-"+tc.Comment, func(t *testing.T) {
						if reason, ok := knownDataBugs[tc.TcID]; ok && name == "json_web_signature_test.json" {
							t.Skip(reason)
						}
						ran++
						err := keyErr
						if err == nil {
							err = verifyWithKeys(raw, keys)
						}
						if want, ok := strictRejections[tc.TcID]; ok && name == "json_web_signature_test.json" {
							if !errors.Is(err, want.reason) {
								t.Fatalf("labelled %s, and refused on purpose (%s) with %v; got %v", tc.Result, want.why, want.reason, err)
							}
							return
						}
						switch tc.Result {
						case "valid":
							if err != nil {
								t.Errorf("valid vector rejected (flags %v): %v", tc.Flags, err)
							}
						case "invalid":
							if err == nil {
								t.Errorf("invalid vector accepted (flags %v)", tc.Flags)
							}
						default:
							t.Fatalf("unknown result %q", tc.Result)
						}
					})
				}
			}
			if ran == 0 {
				t.Fatal("no vector ran")
			}
		})
	}
}

// TestRFC7520Cookbook verifies the compact examples of RFC 7520 section 4
// with their keys; the detached-content example is verified with its
// content put back.
func TestRFC7520Cookbook(t *testing.T) {
	dir := vectorsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "4_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no RFC 7520 section 4 files in %s", dir)
	}
	var ran int
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ex struct {
				Input struct {
					Key json.RawMessage `json:"key"`
					Alg json.RawMessage `json:"alg"`
				} `json:"input"`
				Signing json.RawMessage `json:"signing"`
				Output  struct {
					Compact string `json:"compact"`
				} `json:"output"`
			}
			if err := json.Unmarshal(data, &ex); err != nil {
				t.Fatal(err)
			}
			if ex.Output.Compact == "" {
				t.Skip("no compact serialization in this example (JSON serialization only)")
			}
			raw := ex.Output.Compact
			if parts := strings.Split(raw, "."); len(parts) == 3 && parts[1] == "" {
				var signing struct {
					SigInput string `json:"sig-input"` // protected.payload
				}
				if err := json.Unmarshal(ex.Signing, &signing); err != nil {
					t.Fatal(err)
				}
				raw = signing.SigInput + "." + parts[2]
			}
			var alg string
			if err := json.Unmarshal(ex.Input.Alg, &alg); err != nil {
				t.Fatalf("alg: %v", err)
			}
			k, err := KeyFromJWK(ex.Input.Key, alg, true)
			if err != nil {
				t.Fatalf("key: %v", err)
			}
			ran++
			if err := verifyWithKeys(raw, []Key{k}); err != nil {
				t.Fatalf("RFC 7520 example rejected: %v", err)
			}
			// And one flipped bit of the signature is not accepted.
			i := strings.LastIndexByte(raw, '.') + 1
			flipped := []byte(raw)
			flipped[i] = "AB"[slices.Index([]byte("AB"), flipped[i])+1&1]
			if flipped[i] == raw[i] {
				flipped[i] = 'A'
			}
			if err := verifyWithKeys(string(flipped), []Key{k}); err == nil {
				t.Fatal("a changed signature was accepted")
			}
		})
	}
	if ran == 0 {
		t.Fatal("no example ran")
	}
}
