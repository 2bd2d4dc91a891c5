package settings_test

import (
	"crypto"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pyramid-go/jwtauth/internal/pemkey"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// keySettings gives a PEM text inline under key, or in a file under
// key+"_file".
func keySettings(t *testing.T, key string, pemText []byte, inFile bool, alg string) map[string]string {
	t.Helper()
	m := map[string]string{"jwtauth.algorithm": alg}
	if inFile {
		m[settings.Prefix+key+"_file"] = writeFile(t, "key.pem", pemText)
	} else {
		m[settings.Prefix+key] = string(pemText)
	}
	return m
}

func TestPrivateKeys(t *testing.T) {
	for _, k := range testKeys() {
		for _, enc := range privatePEMs(t, k) {
			for _, inFile := range []bool{false, true} {
				name := k.name + "/" + enc.format + "/inline"
				if inFile {
					name = k.name + "/" + enc.format + "/file"
				}
				t.Run(name, func(t *testing.T) {
					m := keySettings(t, "private_key", enc.pem, inFile, k.alg)
					cfg, err := parseConfig(m, nil)
					if err != nil {
						t.Fatal(err)
					}
					if cfg.PrivateKey == nil || cfg.PublicKey != nil {
						t.Fatalf("PrivateKey %T, PublicKey %T", cfg.PrivateKey, cfg.PublicKey)
					}
					if eq, ok := cfg.PrivateKey.(interface{ Equal(crypto.PrivateKey) bool }); !ok || !eq.Equal(k.signer) {
						t.Error("the key read is not the key written")
					}
					p := mustPolicy(t, m)
					// A token signed by go-jose with the key verifies...
					if id, err := authenticate(p, mint(t, k.alg, k.signer, fresh("alice"))); id != "alice" || err != nil {
						t.Errorf("go-jose token: %q, %v", id, err)
					}
					// ...one signed with another key does not...
					if _, err := authenticate(p, mint(t, k.alg, otherKey(t, k), fresh("alice"))); !errors.Is(err, policy.ErrInvalidSignature) {
						t.Errorf("token of another key: %v", err)
					}
					// ...and the policy's tokens verify with go-jose.
					tok, err := p.NewToken("bob", nil)
					if err != nil {
						t.Fatal(err)
					}
					parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.alg)})
					if err != nil {
						t.Fatal(err)
					}
					var c jwt.Claims
					if err := parsed.Claims(k.signer.Public(), &c); err != nil || c.Subject != "bob" {
						t.Errorf("policy token: %+v, %v", c, err)
					}
				})
			}
		}
	}
}

func TestPublicKeys(t *testing.T) {
	for _, k := range testKeys() {
		for _, enc := range publicPEMs(t, k) {
			for _, inFile := range []bool{false, true} {
				name := k.name + "/" + enc.format + "/inline"
				if inFile {
					name = k.name + "/" + enc.format + "/file"
				}
				t.Run(name, func(t *testing.T) {
					m := keySettings(t, "public_key", enc.pem, inFile, k.alg)
					cfg, err := parseConfig(m, nil)
					if err != nil {
						t.Fatal(err)
					}
					if eq, ok := cfg.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.signer.Public()) || cfg.PrivateKey != nil {
						t.Errorf("PublicKey %T, PrivateKey %T", cfg.PublicKey, cfg.PrivateKey)
					}
					p := mustPolicy(t, m)
					if id, err := authenticate(p, mint(t, k.alg, k.signer, fresh("alice"))); id != "alice" || err != nil {
						t.Errorf("go-jose token: %q, %v", id, err)
					}
					if _, err := authenticate(p, mint(t, k.alg, otherKey(t, k), fresh("alice"))); !errors.Is(err, policy.ErrInvalidSignature) {
						t.Errorf("token of another key: %v", err)
					}
					if _, err := p.NewToken("bob", nil); !errors.Is(err, policy.ErrNoSigningKey) {
						t.Errorf("NewToken with a public key only: %v", err)
					}
				})
			}
		}
	}
}

// A private key and its public key may both be given.
func TestPrivateAndPublicKey(t *testing.T) {
	k := testKeys()[1]
	m := map[string]string{
		"jwtauth.algorithm":        k.alg,
		"jwtauth.private_key_file": writeFile(t, "private.pem", privatePEMs(t, k)[1].pem),
		"jwtauth.public_key":       string(publicPEMs(t, k)[0].pem),
	}
	p := mustPolicy(t, m)
	if id, err := authenticate(p, mint(t, k.alg, k.signer, fresh("alice"))); id != "alice" || err != nil {
		t.Errorf("go-jose token: %q, %v", id, err)
	}
	// A public key that is not the private key's is refused.
	m["jwtauth.public_key"] = string(publicPEMs(t, testKey{"EC", "ES256", otherKey(t, k)})[0].pem)
	_, err := settings.NewPolicy(m, nil, nil)
	settingsError(t, err, "jwtauth.public_key", settings.ErrBadValue)
}

func TestKeyErrors(t *testing.T) {
	k := testKeys()[0]
	priv := privatePEMs(t, k)[0].pem
	pub := publicPEMs(t, k)[0].pem
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	garbage := writeFile(t, "garbage.pem", []byte("this is not PEM\n"))
	privFile := writeFile(t, "private.pem", priv)
	pubFile := writeFile(t, "public.pem", pub)
	twoKeys := writeFile(t, "two.pem", append(append([]byte{}, priv...), priv...))

	tests := []struct {
		name string
		m    map[string]string
		key  string
		is   error  // also matched, besides ErrBadValue
		path string // named in the error
	}{
		{"both private", map[string]string{"jwtauth.private_key": string(priv), "jwtauth.private_key_file": privFile}, "jwtauth.private_key", nil, "jwtauth.private_key_file"},
		{"both public", map[string]string{"jwtauth.public_key": string(pub), "jwtauth.public_key_file": pubFile}, "jwtauth.public_key", nil, "jwtauth.public_key_file"},
		{"missing private file", map[string]string{"jwtauth.private_key_file": missing}, "jwtauth.private_key_file", fs.ErrNotExist, missing},
		{"missing public file", map[string]string{"jwtauth.public_key_file": missing}, "jwtauth.public_key_file", fs.ErrNotExist, missing},
		{"directory", map[string]string{"jwtauth.public_key_file": dir}, "jwtauth.public_key_file", nil, dir},
		{"garbage private file", map[string]string{"jwtauth.private_key_file": garbage}, "jwtauth.private_key_file", pemkey.ErrNoPEM, garbage},
		{"garbage public file", map[string]string{"jwtauth.public_key_file": garbage}, "jwtauth.public_key_file", pemkey.ErrNoPEM, garbage},
		{"public key as private", map[string]string{"jwtauth.private_key_file": pubFile}, "jwtauth.private_key_file", pemkey.ErrUnsupported, pubFile},
		{"private key as public", map[string]string{"jwtauth.public_key_file": privFile}, "jwtauth.public_key_file", pemkey.ErrUnsupported, privFile},
		{"two keys in a file", map[string]string{"jwtauth.private_key_file": twoKeys}, "jwtauth.private_key_file", pemkey.ErrTrailingData, twoKeys},
		{"public key inline as private", map[string]string{"jwtauth.private_key": string(pub)}, "jwtauth.private_key", pemkey.ErrUnsupported, ""},
		{"private key inline as public", map[string]string{"jwtauth.public_key": string(priv)}, "jwtauth.public_key", pemkey.ErrUnsupported, ""},
		{"truncated inline", map[string]string{"jwtauth.public_key": string(pub[:len(pub)/2])}, "jwtauth.public_key", pemkey.ErrNoPEM, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m["jwtauth.algorithm"] = k.alg
			_, err := settings.Parse(tt.m, nil)
			msg := settingsError(t, err, tt.key, settings.ErrBadValue)
			t.Log(msg)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", msg, tt.is)
			}
			if !strings.Contains(msg, tt.path) {
				t.Errorf("error %q does not name %s", msg, tt.path)
			}
			noKeyMaterial(t, msg, priv, pub)
			if _, err := settings.NewPolicy(tt.m, nil, nil); err == nil || err.Error() != msg {
				t.Errorf("NewPolicy: %v", err)
			}
		})
	}
}

// The policy refuses keys that do not suit the algorithm; the error names
// the key's setting (the file's, for a key read from a file).
func TestKeyAlgorithmMismatch(t *testing.T) {
	rsaKey, ecKey := testKeys()[0], testKeys()[1]
	for _, tt := range []struct {
		m   map[string]string
		key string
	}{
		{map[string]string{"jwtauth.algorithm": "ES256", "jwtauth.private_key": string(privatePEMs(t, rsaKey)[0].pem)}, "jwtauth.private_key"},
		{map[string]string{"jwtauth.algorithm": "ES256", "jwtauth.private_key_file": writeFile(t, "rsa.pem", privatePEMs(t, rsaKey)[0].pem)}, "jwtauth.private_key_file"},
		{map[string]string{"jwtauth.algorithm": "RS256", "jwtauth.public_key_file": writeFile(t, "ec.pem", publicPEMs(t, ecKey)[0].pem)}, "jwtauth.public_key_file"},
		{map[string]string{"jwtauth.algorithm": "HS256", "jwtauth.master_secret": secret, "jwtauth.public_key": string(publicPEMs(t, ecKey)[0].pem)}, "jwtauth.algorithm"},
		{map[string]string{"jwtauth.algorithm": "ES256", "jwtauth.algorithms": "ES256 ES384", "jwtauth.public_key": string(publicPEMs(t, ecKey)[0].pem)}, "jwtauth.algorithms"},
	} {
		_, err := settings.NewPolicy(tt.m, nil, nil)
		noKeyMaterial(t, settingsError(t, err, tt.key, settings.ErrBadValue))
	}
}
