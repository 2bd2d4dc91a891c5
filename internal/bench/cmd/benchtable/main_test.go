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

// TestRunFailed reports a failed benchmark as an error, with the lines
// that say why on the progress output.
func TestRunFailed(t *testing.T) {
	in := "BenchmarkAuth/alg=HS256/work=cold/impl=floor-2   100  1000 ns/op\n--- FAIL: BenchmarkAuth/alg=HS256\n    bench_test.go:80: got 503\nBenchmarkAuth/alg=HS256/work=cold/impl=none-2   100  1000 ns/op\n"
	var progress bytes.Buffer
	if err := run(strings.NewReader(in), io.Discard, &progress); err == nil {
		t.Fatal("no error for a failed benchmark")
	}
	if !strings.Contains(progress.String(), "    bench_test.go:80: got 503\n") || strings.Contains(progress.String(), "impl=none") {
		t.Errorf("the progress output does not say why, or says more:\n%s", progress.String())
	}
}

// TestRunColdTargets: the cold table is followed by its targets per
// algorithm: the cost above the floor over go-jose alone's, beside the
// least it can be on go-jose (its parse and the router over go-jose
// alone's cost above the floor; none without those rows), the allocations
// over go-jose alone's, the time over go-oidc's; the warm one
// by this project over the fastest peer, go-oidc among the peers.
func TestRunColdTargets(t *testing.T) {
	in := `BenchmarkAuth/alg=RS256/work=cold/impl=jwtauth-2   100  40000 ns/op  100 B/op  60 allocs/op
BenchmarkAuth/alg=RS256/work=cold/impl=golang-jwt-2   100  42000 ns/op  60 B/op  87 allocs/op
BenchmarkAuth/alg=RS256/work=cold/impl=go-oidc-2   100  80000 ns/op  150 B/op  168 allocs/op
BenchmarkAuth/alg=RS256/work=cold/impl=go-jose-2   100  50000 ns/op  100 B/op  120 allocs/op
BenchmarkAuth/alg=RS256/work=cold/impl=floor-2   100  30000 ns/op  10 B/op  9 allocs/op
BenchmarkAuth/alg=RS256/work=cold/impl=none-2   100  1000 ns/op  10 B/op  9 allocs/op
BenchmarkBare/alg=RS256/work=bare/impl=go-jose-parse-2   100  4000 ns/op  3000 B/op  47 allocs/op
BenchmarkAuth/alg=ES256/work=cold/impl=jwtauth-2   100  90000 ns/op  100 B/op  100 allocs/op
BenchmarkAuth/alg=ES256/work=cold/impl=go-oidc-2   100  80000 ns/op  150 B/op  168 allocs/op
BenchmarkAuth/alg=ES256/work=cold/impl=go-jose-2   100  85000 ns/op  100 B/op  120 allocs/op
BenchmarkAuth/alg=ES256/work=cold/impl=floor-2   100  65000 ns/op  10 B/op  9 allocs/op
BenchmarkAuth/alg=RS256/work=warm/impl=jwtauth-2   100  3000 ns/op  2000 B/op  15 allocs/op
BenchmarkAuth/alg=RS256/work=warm/impl=golang-jwt-2   100  42000 ns/op  6000 B/op  87 allocs/op
BenchmarkAuth/alg=RS256/work=warm/impl=go-oidc-2   100  20000 ns/op  6000 B/op  87 allocs/op
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| RS256 | coreos/go-oidc v3 (IDTokenVerifier) | 80,000 | 150 | 168 | 1.90 | 2.67 |",
		"| RS256 | +10,000 | +20,000 | 0.50 (met) | 0.25 | 0.50 (met) | 0.50 (met) |",
		"| ES256 | +25,000 | +20,000 | 1.25 (not met) | – | 0.83 (not met) | 1.12 (not met) |",
		"| RS256 | coreos/go-oidc v3 (IDTokenVerifier) ★ | 20,000 |",
		"| RS256 | 0.15 (not met) | ≤ 0.10 |",
		"go-chi/jwtauth, auth0, golang-jwt, go-oidc",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tables lack %q:\n%s", want, out.String())
		}
	}
}

// TestRunScale: the scale workloads' tables, each against its baseline
// and target: the 50,000-token cycle against cold, 1,000 keys against one
// (with the B/op and allocs/op the keys add), and the heap per cached
// token, a custom metric.
func TestRunScale(t *testing.T) {
	in := `BenchmarkScale/alg=HS256/work=cycle/impl=jwtauth-cold-2   100  20000 ns/op  9000 B/op  120 allocs/op
BenchmarkScale/alg=HS256/work=cycle/impl=jwtauth-cycle-50k-2   100  19000 ns/op  8000 B/op  110 allocs/op
BenchmarkScale/alg=ES256/work=keys/impl=keys-1-2   100  80000 ns/op  10000 B/op  150 allocs/op
BenchmarkScale/alg=ES256/work=keys/impl=keys-1000-2   100  88000 ns/op  130000 B/op  160 allocs/op
BenchmarkScale/alg=EdDSA/work=keys/impl=keys-1-2   100  60000 ns/op  9000 B/op  130 allocs/op
BenchmarkScale/alg=EdDSA/work=keys/impl=keys-1000-2   100  61000 ns/op  9000 B/op  130 allocs/op
BenchmarkScale/alg=HS256/work=heap/impl=cache-10000-2   1  2000000000 ns/op  1100 B/entry  10000 entries  300000000 B/op  3000000 allocs/op
BenchmarkScale/alg=HS256/work=heap/impl=cache-10000-2   1  2000000000 ns/op  600 B/entry  10000 entries  300000000 B/op  3000000 allocs/op
BenchmarkScale/alg=HS256/work=heap/impl=cache-10000-2   1  2000000000 ns/op  650 B/entry  10000 entries  300000000 B/op  3000000 allocs/op
`
	var out bytes.Buffer
	if err := run(strings.NewReader(in), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"target ≤ 1.00)",
		"| jwtauth, 50,000 tokens cycled (cache_size 10,000) | 19,000 | 8,000 | 110 | 0.95 (met) |",
		"| alg | contender | ns/op | B/op | allocs/op | × baseline | B/op over baseline | allocs/op over baseline |",
		"| ES256 | jwtauth, key set of 1 key | 80,000 | 10,000 | 150 | 1.00 | 0 | 0 |",
		"| ES256 | jwtauth, key set of 1,000 keys (kid picks the last) | 88,000 | 130,000 | 160 | 1.10 (not met) | +120,000 | +10 |",
		"| EdDSA | jwtauth, key set of 1,000 keys (kid picks the last) | 61,000 | 9,000 | 130 | 1.02 (met) | 0 | 0 |",
		"target B/entry ≤ 700)",
		"| HS256 | jwtauth, cache filled with 10,000 tokens of 500 bytes | 650 (met) | 10,000 |",
		"medians of 3 runs",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the tables lack %q:\n%s", want, out.String())
		}
	}
}
