package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// lenient decodes data as the policy did before this package, with
// encoding/json: the reference for what an accepted object decodes to.
func lenient(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("more")
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("data after the value")
	}
	return m, nil
}

// TestRefuses lists what encoding/json reads one way and another reader
// may read another, each of which DecodeObject refuses. Each input but the
// last group is accepted by encoding/json: the test shows the difference.
func TestRefuses(t *testing.T) {
	differential := map[string]string{
		"duplicate name":                 `{"sub":"alice","exp":1,"sub":"admin"}`,
		"duplicate name, other spelling": `{"sub":"alice","s\u0075b":"admin"}`,
		"duplicate aud":                  `{"aud":"other","sub":"a","aud":"api"}`,
		"duplicate in a nested object":   `{"sub":"a","cnf":{"jkt":"x","jkt":"y"}}`,
		"duplicate in an array's object": `{"sub":"a","x":[1,{"k":1,"k":2}]}`,
		"duplicate deep down":            `{"a":{"b":{"c":[{"d":{"e":1,"e":1}}]}}}`,
		"invalid UTF-8 in a value":       "{\"sub\":\"al\xffice\"}",
		"invalid UTF-8 in a name":        "{\"s\xffub\":\"alice\"}",
		"overlong UTF-8":                 "{\"sub\":\"\xc0\xafalice\"}",
		"UTF-8 of a surrogate":           "{\"sub\":\"\xed\xa0\x80alice\"}",
		"lone high surrogate":            `{"sub":"\ud800alice"}`,
		"lone low surrogate":             `{"sub":"\udc00alice"}`,
		"reversed surrogate pair":        `{"sub":"\ude00\ud83d"}`,
		"lone surrogate in a name":       `{"\ud800":"x"}`,
	}
	for name, in := range differential {
		t.Run(name, func(t *testing.T) {
			if _, err := lenient([]byte(in)); err != nil {
				t.Fatalf("encoding/json refuses it too (%v): not a differential case", err)
			}
			if m, err := DecodeObject([]byte(in)); err == nil {
				t.Fatalf("accepted: %v", m)
			}
			if Valid([]byte(in)) {
				t.Fatal("Valid")
			}
		})
	}
	notOneObject := map[string]string{
		"empty":            ``,
		"whitespace":       " \n",
		"null":             `null`,
		"array":            `[{"sub":"a"}]`,
		"string":           `"sub"`,
		"number":           `1`,
		"two objects":      `{"sub":"a"}{"sub":"b"}`,
		"trailing garbage": `{"sub":"a"} x`,
		"trailing comma":   `{"sub":"a",}`,
		"unterminated":     `{"sub":"a"`,
		"byte-order mark":  "\ufeff{\"sub\":\"a\"}",
		"single quotes":    `{'sub':'a'}`,
		"too deep":         `{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	}
	for name, in := range notOneObject {
		t.Run(name, func(t *testing.T) {
			if m, err := DecodeObject([]byte(in)); err == nil {
				t.Fatalf("accepted: %v", m)
			}
		})
	}
	if _, err := DecodeObject([]byte(`[1]`)); !errors.Is(err, ErrNotObject) {
		t.Errorf("an array: %v, want ErrNotObject", err)
	}
}

// TestDecodes checks that what is accepted decodes as encoding/json with
// UseNumber decodes it.
func TestDecodes(t *testing.T) {
	for _, in := range []string{
		`{}`,
		" {\"sub\":\"alice\"}\r\n\t ",
		`{"sub":"\ud83d\ude00","name":"caf\u00e9","raw":"café","esc":"\"\\\/\b\f\n\r\t\u0000"}`,
		`{"exp":1900000000,"nbf":-1,"iat":1.5e9,"big":123456789012345678901234567890,"z":-0.0}`,
		`{"aud":["api","other"],"empty":[],"obj":{},"t":true,"f":false,"n":null}`,
		`{"a":{"b":[1,[2,[3,{"c":[{}]}]]]},"A":1}`,
		`{"sub":"a","Sub":"b","SUB":"c"}`,
	} {
		got, err := DecodeObject([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		want, err := lenient([]byte(in))
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", in, got, want)
		}
	}
}

// FuzzDecodeObject holds DecodeObject to encoding/json on every input:
// what it accepts decodes to what encoding/json decodes, and what it
// refuses is refused by encoding/json or is invalid under jsontext's
// strict rules (a duplicate name, invalid UTF-8), or is not one object.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"sub":"a","sub":"b"}`, `{"a":[1,{"b":null}]}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":1} {}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeObject(data)
		if Valid(data) != (err == nil) {
			t.Fatalf("Valid = %v, DecodeObject: %v: %q", Valid(data), err, data)
		}
		want, lerr := lenient(data)
		if err == nil {
			if lerr != nil {
				t.Fatalf("accepted what encoding/json refuses (%v): %q", lerr, data)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
			}
			return
		}
		if lerr == nil && want != nil && jsontext.Value(data).IsValid() {
			t.Fatalf("refused a valid object (%v): %q", err, data)
		}
	})
}
