package pemkey_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/pemkey"
	"github.com/pyramid-go/jwtauth/internal/testkit"
)

type keys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
	x   *ecdh.PrivateKey
}

var testKeys = sync.OnceValue(func() keys {
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return keys{testkit.MustRSA(2048), testkit.MustEC(elliptic.P256()), testkit.MustEd25519(), x}
})

func pemOf(t *testing.T, typ string, der []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("marshal %s: %v", typ, err)
	}
	return testkit.PEM(typ, der)
}

// certificate is a self-signed certificate for k, long expired: validity is
// not checked.
func certificate(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	return testkit.PEM("CERTIFICATE", testkit.SelfSigned(t, k, "test", time.Unix(0, 0), time.Unix(1, 0)))
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func TestPublicKey(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name string
		pem  []byte
		want crypto.PublicKey
	}{
		{"SPKI RSA", testkit.PublicPEM(t, &k.rsa.PublicKey), &k.rsa.PublicKey},
		{"SPKI EC", testkit.PublicPEM(t, &k.ec.PublicKey), &k.ec.PublicKey},
		{"SPKI Ed25519", testkit.PublicPEM(t, k.ed.Public()), k.ed.Public()},
		{"PKCS1 RSA", pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey), nil), &k.rsa.PublicKey},
		{"expired certificate", certificate(t, k.ec), &k.ec.PublicKey},
		{"trailing whitespace", append(testkit.PublicPEM(t, &k.ec.PublicKey), " \r\n\t\n"...), &k.ec.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pemkey.PublicKey(tt.pem)
			if err != nil {
				t.Fatalf("PublicKey: %v", err)
			}
			if !tt.want.(equaler).Equal(got) {
				t.Errorf("PublicKey = %T, not the key encoded", got)
			}
		})
	}
}

func TestPrivateKey(t *testing.T) {
	k := testKeys()
	ecDER, ecErr := x509.MarshalECPrivateKey(k.ec)
	tests := []struct {
		name string
		pem  []byte
		want crypto.PublicKey
	}{
		{"PKCS8 RSA", testkit.PrivatePEM(t, k.rsa), &k.rsa.PublicKey},
		{"PKCS8 EC", testkit.PrivatePEM(t, k.ec), &k.ec.PublicKey},
		{"PKCS8 Ed25519", testkit.PrivatePEM(t, k.ed), k.ed.Public()},
		{"PKCS1 RSA", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa), nil), &k.rsa.PublicKey},
		{"SEC1 EC", pemOf(t, "EC PRIVATE KEY", ecDER, ecErr), &k.ec.PublicKey},
		{"trailing newlines", append(testkit.PrivatePEM(t, k.ec), "\n\n"...), &k.ec.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pemkey.PrivateKey(tt.pem)
			if err != nil {
				t.Fatalf("PrivateKey: %v", err)
			}
			if !tt.want.(equaler).Equal(got.Public()) {
				t.Errorf("PrivateKey = %T, not the key encoded", got)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	k := testKeys()
	pub := testkit.PublicPEM(t, &k.ec.PublicKey)
	priv := testkit.PrivatePEM(t, k.ec)
	withHeaders := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   x509.MarshalPKCS1PrivateKey(k.rsa),
	})
	pkcs8DER, _ := x509.MarshalPKCS8PrivateKey(k.rsa)
	corrupt := func(p []byte) []byte {
		b, _ := pem.Decode(p)
		b.Bytes = b.Bytes[:len(b.Bytes)/2]
		return pem.EncodeToMemory(b)
	}
	type reader func([]byte) (any, error)
	public := func(b []byte) (any, error) { return pemkey.PublicKey(b) }
	private := func(b []byte) (any, error) { return pemkey.PrivateKey(b) }
	tests := []struct {
		name    string
		read    reader
		input   []byte
		wantErr error // nil: any error
	}{
		{"public: no PEM", public, []byte("not a key at all"), pemkey.ErrNoPEM},
		{"public: empty", public, nil, pemkey.ErrNoPEM},
		{"public: DER without armour", public, func() []byte { b, _ := pem.Decode(pub); return b.Bytes }(), pemkey.ErrNoPEM},
		{"public: two keys", public, append(pub, pub...), pemkey.ErrTrailingData},
		{"public: text after the block", public, append(pub, "trailing"...), pemkey.ErrTrailingData},
		{"public: a private key", public, priv, pemkey.ErrUnsupported},
		{"public: PKCS1 private key", public, pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsa), nil), pemkey.ErrUnsupported},
		{"public: with headers", public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Comment": "x"}, Bytes: []byte{1}}), pemkey.ErrUnsupported},
		{"public: corrupt SPKI", public, corrupt(pub), nil},
		{"public: SPKI in an RSA PUBLIC KEY block", public, pemOf(t, "RSA PUBLIC KEY", func() []byte { b, _ := pem.Decode(pub); return b.Bytes }(), nil), nil},
		{"public: corrupt certificate", public, corrupt(certificate(t, k.ec)), nil},

		{"private: no PEM", private, []byte("-----BEGIN nothing"), pemkey.ErrNoPEM},
		{"private: two keys", private, append(priv, priv...), pemkey.ErrTrailingData},
		{"private: a public key", private, pub, pemkey.ErrUnsupported},
		{"private: a certificate", private, certificate(t, k.ec), pemkey.ErrUnsupported},
		{"private: encrypted PKCS8", private, pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}, nil), pemkey.ErrUnsupported},
		{"private: legacy encrypted PEM", private, withHeaders, pemkey.ErrUnsupported},
		{"private: X25519 cannot sign", private, testkit.PrivatePEM(t, k.x), pemkey.ErrUnsupported},
		{"private: PKCS8 in an RSA PRIVATE KEY block", private, pemOf(t, "RSA PRIVATE KEY", pkcs8DER, nil), nil},
		{"private: PKCS8 in an EC PRIVATE KEY block", private, pemOf(t, "EC PRIVATE KEY", pkcs8DER, nil), nil},
		{"private: corrupt PKCS8", private, corrupt(priv), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := tt.read(tt.input)
			if err == nil {
				t.Fatalf("read succeeded with %T, want an error", key)
			}
			// A failed read returns a nil interface, not a typed nil pointer
			// that a caller's "key != nil" would take for a key.
			if key != nil {
				t.Errorf("key = %#v (%T), want nil alongside error %v", key, key, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			assertNoPEMText(t, err, tt.input)
		})
	}
}

// assertNoPEMText fails when err repeats the armour or any base64 line of
// input.
func assertNoPEMText(t *testing.T, err error, input []byte) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "-----") {
		t.Errorf("error holds PEM armour: %s", msg)
	}
	for line := range strings.Lines(string(input)) {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
			t.Errorf("error holds PEM text %q: %s", line[:16], msg)
		}
	}
}
