// Package strictjson decodes a JSON object as encoding/json does with
// UseNumber (objects as map[string]any, arrays as []any, numbers as
// json.Number), but accepts only what every reader reads alike: one object
// with nothing after it, no duplicate member names at any depth, valid
// UTF-8 and no lone surrogate escapes. encoding/json takes the last of two
// members of one name and replaces invalid text with U+FFFD, so that
// another reader of the same bytes (an issuer, a proxy, a log pipeline)
// can see another object than it does.
//
// The syntax is checked by github.com/go-json-experiment/json's jsontext
// tokenizer (the upstream of Go's encoding/json/jsontext) with its strict
// defaults; this package only builds the values.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrNotObject is returned for JSON text that is not one object.
var ErrNotObject = errors.New("not a JSON object")

// decoders keeps jsontext decoders for reuse: a new one costs a dozen
// allocations, more than a small object's values.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// drained is what a pooled decoder reads from between uses, so that it
// keeps no reference to the last input.
var drained = new(bytes.Reader)

// DecodeObject decodes data, which must be exactly one JSON object,
// surrounded by whitespace at most. The error, when there is one, says
// what is wrong and may quote a member name from data.
func DecodeObject(data []byte) (map[string]any, error) {
	d := decoders.Get().(*jsontext.Decoder)
	defer func() {
		d.Reset(drained)
		decoders.Put(d)
	}()
	d.Reset(bytes.NewBuffer(data))
	if d.PeekKind() != '{' {
		if _, err := d.ReadToken(); err != nil && err != io.EOF {
			return nil, fmt.Errorf("strictjson: %w", err)
		}
		return nil, ErrNotObject
	}
	v, err := value(d)
	if err != nil {
		return nil, fmt.Errorf("strictjson: %w", err)
	}
	switch _, err := d.ReadToken(); {
	case err == io.EOF:
		return v.(map[string]any), nil
	case err != nil:
		return nil, fmt.Errorf("strictjson: %w", err)
	}
	return nil, errors.New("strictjson: data after the JSON object")
}

// Valid reports whether data is what DecodeObject accepts, without
// building the values.
func Valid(data []byte) bool {
	v := jsontext.Value(data)
	return v.Kind() == '{' && v.IsValid()
}

// value reads the next JSON value from d. The tokenizer refuses bad
// syntax, duplicate names, invalid UTF-8 and nesting deeper than 10,000,
// which also bounds this recursion.
func value(d *jsontext.Decoder) (any, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for d.PeekKind() != '}' {
			name, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			key := name.String() // before the next read voids the token
			v, err := value(d)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
		_, err := d.ReadToken()
		return m, err
	case '[':
		s := []any{}
		for d.PeekKind() != ']' {
			v, err := value(d)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		_, err := d.ReadToken()
		return s, err
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected %v", tok.Kind())
}
