package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestRun feeds run two runs of one algorithm and checks the medians, the
// fastest peer (a peer, never this project nor a reference row, even when
// faster) and the ratios.
func TestRun(t *testing.T) {
	in := `goos: linux
cpu: Test CPU
BenchmarkAuth/alg=HS256/work=cold/impl=jwtauth-2   100  3000 ns/op  10 B/op  1 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=golang-jwt-2   100  2000 ns/op  20 B/op  2 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=auth0-2   100  8000 ns/op  30 B/op  3 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=go-jose-2   100  500 ns/op  5 B/op  1 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=floor-2   100  1000 ns/op  0 B/op  0 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=jwtauth-2   100  5000 ns/op  10 B/op  1 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=golang-jwt-2   100  4000 ns/op  20 B/op  2 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=auth0-2   100  9000 ns/op  30 B/op  3 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=go-jose-2   100  700 ns/op  5 B/op  1 allocs/op
BenchmarkAuth/alg=HS256/work=cold/impl=floor-2   100  1000 ns/op  0 B/op  0 allocs/op
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| HS256 | jwtauth (this) | 4,000 | 10 | 1 | 1.33 | 4.00 |",
		"| HS256 | golang-jwt v5 (bare parser) ★ | 3,000 | 20 | 2 | 1.00 | 3.00 |",
		"| HS256 | auth0 go-jwt-middleware v3 | 8,500 | 30 | 3 | 2.83 | 8.50 |",
		"| HS256 | go-jose v4 alone (reference) | 600 | 5 | 1 | 0.20 | 0.60 |",
		"| HS256 | floor (stdlib) | 1,000 | 0 | 0 | 0.33 | 1.00 |",
		"medians of 2 runs",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunBaseline: a workload of parts (the claims decoders) is set
// against its baseline row, without peers or floor.
func TestRunBaseline(t *testing.T) {
	in := `BenchmarkClaimsDecode/alg=JSON/work=claims/impl=encoding-json-2   100  8000 ns/op  30 B/op  7 allocs/op
BenchmarkClaimsDecode/alg=JSON/work=claims/impl=strictjson-2   100  2000 ns/op  20 B/op  5 allocs/op
BenchmarkClaimsDecode/alg=JSON/work=claims/impl=strictjson-2   100  4000 ns/op  20 B/op  5 allocs/op
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| contender | ns/op | B/op | allocs/op | × baseline |",
		"| encoding/json, UseNumber (lenient) | 8,000 | 30 | 7 | 1.00 |",
		"| internal/strictjson on jsontext (strict; this) | 3,000 | 20 | 5 | 0.38 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "fastest peer") {
		t.Errorf("a table of parts names peers:\n%s", out.String())
	}
}

// TestRunFailed reports a failed benchmark as an error.
func TestRunFailed(t *testing.T) {
	in := "BenchmarkAuth/alg=HS256/work=cold/impl=floor-2   100  1000 ns/op\n--- FAIL: BenchmarkAuth/alg=HS256\n"
	if err := run(strings.NewReader(in), io.Discard, io.Discard); err == nil {
		t.Fatal("no error for a failed benchmark")
	}
}
