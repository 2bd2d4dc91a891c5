// Package pemkey reads PEM-encoded keys with the standard library, and never
// puts key material in the errors it returns.
package pemkey

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrNoPEM is returned when the input holds no PEM block.
var ErrNoPEM = errors.New("no PEM block found")

// ErrUnsupported is returned for a PEM block of a type that is not a key of
// the kind asked for.
var ErrUnsupported = errors.New("unsupported PEM block type")

// ErrTrailingData is returned when something other than whitespace follows
// the one PEM block; a file holding two keys is ambiguous.
var ErrTrailingData = errors.New("data after the PEM block")

// PublicKey reads one public key: SPKI ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC
// KEY") or an X.509 certificate ("CERTIFICATE"), whose public key is taken
// (the certificate's validity is not checked).
func PublicKey(data []byte) (crypto.PublicKey, error) {
	block, err := one(data)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, wrap(block.Type, err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, wrap(block.Type, err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, wrap(block.Type, err)
		}
		return c.PublicKey, nil
	}
	return nil, fmt.Errorf("%w %q for a public key (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", ErrUnsupported, block.Type)
}

// PrivateKey reads one private key: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA
// PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"). Encrypted PEM is not supported.
func PrivateKey(data []byte) (crypto.Signer, error) {
	block, err := one(data)
	if err != nil {
		return nil, err
	}
	var k any
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w %q for a private key (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", ErrUnsupported, block.Type)
	}
	if err != nil {
		return nil, wrap(block.Type, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: a %T cannot sign", ErrUnsupported, k)
	}
	return s, nil
}

func one(data []byte) (*pem.Block, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, ErrNoPEM
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers (an encrypted key?)", ErrUnsupported)
	}
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return nil, ErrTrailingData
		}
	}
	return block, nil
}

// wrap names the block type; the x509 errors carry no key bytes.
func wrap(typ string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cannot parse %s block: %w", typ, err)
}
