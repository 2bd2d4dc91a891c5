package settings_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testkit"
	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/settings"
)

// spkiPEM is the SPKI PEM ("PUBLIC KEY") of the Ed25519 public key pub,
// whatever its bytes: x509 checks only their length.
func spkiPEM(t *testing.T, pub []byte) []byte {
	t.Helper()
	return testkit.PublicPEM(t, ed25519.PublicKey(pub))
}

// edCertificatePEM is a certificate for the Ed25519 public key pub, issued
// by a CA key of its own (pub has no private key to sign it with).
func edCertificatePEM(t *testing.T, pub []byte) []byte {
	t.Helper()
	ca := testkit.MustEd25519()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "small order"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ed25519.PublicKey(pub), ca)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.PEM("CERTIFICATE", der)
}

// wantKeyRefused checks that err refuses the key of the setting key (the
// policy's ConfigError of policyKey kept), for an unusable key, without
// key material.
func wantKeyRefused(t *testing.T, err error, key, policyKey string, pemText, pub []byte) {
	t.Helper()
	msg := settingsError(t, err, key, settings.ErrBadValue)
	var ce *policy.ConfigError
	if !errors.As(err, &ce) || ce.Key != policyKey {
		t.Errorf("error %q: no policy.ConfigError for %s (%+v)", msg, policyKey, ce)
	}
	if !errors.Is(err, policy.ErrUnusableKey) {
		t.Errorf("error %q does not match policy.ErrUnusableKey", msg)
	}
	noKeyMaterial(t, msg, pemText)
	if strings.Contains(msg, hex.EncodeToString(pub)) {
		t.Errorf("error %q holds the key in hex", msg)
	}
}

// edPEMRefused checks that the Ed25519 public key pub is refused given as
// jwtauth.public_key (inline SPKI PEM and certificate) and
// jwtauth.public_key_file; the error names the setting given.
func edPEMRefused(t *testing.T, pub []byte) {
	t.Helper()
	for _, enc := range []pemEncoding{{"SPKI", spkiPEM(t, pub)}, {"certificate", edCertificatePEM(t, pub)}} {
		for _, inFile := range []bool{false, true} {
			m := keySettings(t, "public_key", enc.pem, inFile, "EdDSA")
			if _, err := settings.Parse(m, nil); err != nil {
				t.Fatalf("%s: Parse: %v (the PEM itself is sound; the key is refused by the policy)", enc.format, err)
			}
			_, err := settings.NewPolicy(m, nil, nil)
			setting := "jwtauth.public_key"
			if inFile {
				setting = "jwtauth.public_key_file"
			}
			wantKeyRefused(t, err, setting, "public_key", enc.pem, pub)
		}
	}
}

// The eight Ed25519 points of small order, in each of their fourteen
// encodings, are refused from PEM: x509 takes any 32 bytes.
func TestSmallOrderEd25519PEMRefused(t *testing.T) {
	for _, e := range testkit.SmallOrderEd25519(t) {
		t.Run(e.Name, func(t *testing.T) { edPEMRefused(t, e.Bytes) })
	}
}

// 32 bytes that are no point of the curve are refused from PEM.
func TestEd25519PEMOffTheCurveRefused(t *testing.T) {
	edPEMRefused(t, testkit.NotOnCurveEd25519(t))
}

// The forgery of issue 10, end to end: jwtauth.public_key_file holding the
// identity, and a token signed R = identity, S = 0 for any userid. The
// policy must not be built.
func TestEd25519IdentityKeyFileForgery(t *testing.T) {
	identity := testkit.IdentityEd25519()
	now := time.Now().Unix()
	tok := testkit.ForgedEdDSA(`{"alg":"EdDSA","typ":"JWT"}`, fmt.Sprintf(`{"sub":"admin","iat":%d,"exp":%d}`, now, now+60))
	i := strings.LastIndexByte(tok, '.')
	if !ed25519.Verify(identity, []byte(tok[:i]), testkit.IdentitySignature()) {
		t.Fatal("ed25519.Verify refuses R = identity, S = 0 under the identity key; the attack this test guards against is gone")
	}
	pemText := spkiPEM(t, identity)
	m := map[string]string{"jwtauth.algorithm": "EdDSA", "jwtauth.public_key_file": writeFile(t, "identity.pem", pemText)}
	p, err := settings.NewPolicy(m, nil, nil)
	if err == nil {
		id, aerr := authenticate(p.(*policy.JWT), tok)
		t.Fatalf("a policy was built with the identity key; it authenticates a forged token as %q (%v)", id, aerr)
	}
	wantKeyRefused(t, err, "jwtauth.public_key_file", "public_key", pemText, identity)
}

// A PEM Ed25519 key of the wrong length never reaches the policy: x509
// refuses it, and the error names the file's setting.
func TestEd25519PEMWrongLength(t *testing.T) {
	good := testkit.MustEd25519().Public().(ed25519.PublicKey)
	for _, n := range []int{31, 33} {
		pub := make([]byte, n)
		copy(pub, good)
		// testkit.PublicPEM would refuse the length; the SPKI is
		// patched instead: the key is the DER's last 32 bytes.
		der, err := x509.MarshalPKIXPublicKey(good)
		if err != nil {
			t.Fatal(err)
		}
		der = append(der[:len(der)-32], pub...)
		der[1] = byte(len(der) - 2)     // SEQUENCE length
		der[len(der)-n-2] = byte(n + 1) // BIT STRING length
		pemText := testkit.PEM("PUBLIC KEY", der)
		m := map[string]string{"jwtauth.algorithm": "EdDSA", "jwtauth.public_key_file": writeFile(t, "short.pem", pemText)}
		_, err = settings.NewPolicy(m, nil, nil)
		msg := settingsError(t, err, "jwtauth.public_key_file", settings.ErrBadValue)
		noKeyMaterial(t, msg, pemText)
	}
}
