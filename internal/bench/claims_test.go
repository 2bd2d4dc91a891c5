package bench

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// claimsPayload is an access token's payload of the usual size: the
// registered claims, scopes, groups and a profile.
var claimsPayload = []byte(`{"iss":"https://issuer.bench.example/","sub":"user-0001","aud":["bench-api","account"],"exp":1900003600,"nbf":1900000000,"iat":1900000000,"jti":"4f9c2a7e1b6d4e0f8a3c5b7d9e1f2a4c","scope":"openid profile email articles:read","groups":["editors","readers"],"name":"Alice Example","email":"alice@example.com","email_verified":true,"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`)

// claimsDecoders are the ways to read a payload into claims with numbers
// as json.Number, as the policy hands them out. strict tells whether the
// decoder refuses what readers read differently: duplicate member names,
// invalid UTF-8, lone surrogates.
var claimsDecoders = []struct {
	impl   string
	strict bool
	decode func([]byte) (map[string]any, error)
}{
	{"encoding-json", false, decodeEncodingJSON},
	{"jsontext-check+encoding-json", true, func(b []byte) (map[string]any, error) {
		if !jsontext.Value(b).IsValid() { // a strict pass, then the lenient decoder
			return nil, errors.New("invalid JSON")
		}
		return decodeEncodingJSON(b)
	}},
	{"json-v2-experiment", true, decodeJSONv2},
	{"strictjson", true, strictjson.DecodeObject},
}

// decodeEncodingJSON is the standard library's decoder, as the policy
// used it before it read claims strictly.
func decodeEncodingJSON(b []byte) (map[string]any, error) {
	d := stdjson.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// v2Numbers makes go-json-experiment's Unmarshal read numbers into an any
// as json.Number (its own default is float64, which loses large integers).
var v2Numbers = jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(d *jsontext.Decoder, v *any) error {
	if d.PeekKind() != '0' {
		return errors.ErrUnsupported // the default for every other kind
	}
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	*v = stdjson.Number(tok.String())
	return nil
}))

// decodeJSONv2 is go-json-experiment's Unmarshal (the upstream of Go's
// encoding/json/v2), strict by default.
func decodeJSONv2(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := jsonv2.Unmarshal(b, &m, v2Numbers); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	return m, nil
}

// BenchmarkClaimsDecode measures the claims decoders on one payload: the
// policy's choice is the fastest of the strict ones. Its table's last
// column is each decoder's time over encoding/json's.
func BenchmarkClaimsDecode(b *testing.B) {
	for _, c := range claimsDecoders {
		b.Run("alg=JSON/work=claims/impl="+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decode(claimsPayload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestClaimsDecoders checks that the decoders do the same work (each reads
// the payload to the same claims) and that the strict ones are strict, so
// that the benchmark compares like with like.
func TestClaimsDecoders(t *testing.T) {
	want, err := decodeEncodingJSON(claimsPayload)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := want["exp"].(stdjson.Number); !ok {
		t.Fatalf("exp is a %T, not a json.Number", want["exp"])
	}
	hostile := []string{`{"sub":"alice","sub":"admin"}`, `{"a":{"b":1,"b":2}}`, "{\"sub\":\"\xff\"}", `{"sub":"\ud800"}`}
	for _, c := range claimsDecoders {
		got, err := c.decode(claimsPayload)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, %v", c.impl, got, err)
		}
		for _, h := range hostile {
			if _, err := c.decode([]byte(h)); (err != nil) != c.strict {
				t.Errorf("%s (strict %v) on %q: %v", c.impl, c.strict, h, err)
			}
		}
	}
}
