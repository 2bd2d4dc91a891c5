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

// readers keep a decoder and the buffer it reads, for Members.
var readers = sync.Pool{New: func() any { return new(reader) }}

type reader struct {
	d   jsontext.Decoder
	buf bytes.Buffer
}

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

// Members reads data, which must be what DecodeObject accepts, and calls
// member with the name of each of its members (unquoted; valid only
// during the call) and the decoder at the member's value, which member
// must read or skip (d.SkipValue, d.ReadToken, ReadValue, ...). The
// whole of data is held to the same rules as by DecodeObject, the values
// member skips included (no duplicate names at any depth, valid UTF-8,
// nothing after the object), without building what member does not ask
// for. Its errors are those DecodeObject would return, or member's.
func Members(data []byte, member func(name []byte, d *jsontext.Decoder) error) error {
	r := readers.Get().(*reader)
	defer func() {
		r.d.Reset(drained)
		r.buf = bytes.Buffer{}
		readers.Put(r)
	}()
	r.buf = *bytes.NewBuffer(data)
	d := &r.d
	d.Reset(&r.buf)
	if d.PeekKind() != '{' {
		if _, err := d.ReadToken(); err != nil && err != io.EOF {
			return fmt.Errorf("strictjson: %w", err)
		}
		return ErrNotObject
	}
	if _, err := d.ReadToken(); err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	var scratch [64]byte
	for d.PeekKind() != '}' {
		if d.PeekKind() != '"' {
			// Not a name: the tokenizer's error, as DecodeObject's.
			if _, err := d.ReadToken(); err != nil {
				return fmt.Errorf("strictjson: %w", err)
			}
			return errors.New("strictjson: an object member name that is not a string")
		}
		raw, err := d.ReadValue()
		if err != nil {
			return fmt.Errorf("strictjson: %w", err)
		}
		name := raw[1 : len(raw)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			if name, err = jsontext.AppendUnquote(scratch[:0], raw); err != nil {
				return fmt.Errorf("strictjson: %w", err)
			}
		}
		if err := member(name, d); err != nil {
			return fmt.Errorf("strictjson: %w", err)
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	switch _, err := d.ReadToken(); {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("strictjson: %w", err)
	}
	return errors.New("strictjson: data after the JSON object")
}

// ReadValue reads the next JSON value from d as DecodeObject builds it.
func ReadValue(d *jsontext.Decoder) (any, error) { return value(d) }
