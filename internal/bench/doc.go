// Package bench measures the cost of authenticating one request through a
// chi router with this project (policy plus chiadapter) and with its peers,
// against a floor of the standard library's signature checks. It is a module
// of its own, so that the library's go.mod keeps only its real
// dependencies.
//
//	go test -run '^$' -bench . -benchmem -count 5 | go run ./cmd/benchtable
//
// Benchmark names are Benchmark<Name>/alg=<alg>/work=<workload>/impl=<contender>.
// cold presents a token never seen before on every request (each benchmark
// run builds its router anew, so that a cache starts empty); warm cycles a
// pool of 1,000 tokens, presented once each before the timer starts; bare
// runs the JOSE libraries alone on cold tokens, without HTTP, to show what
// of the cold cost is theirs. The scale workloads (BenchmarkScale, see
// scale_test.go) are cycle (50,000 tokens through a cache of 10,000,
// against cold), keys (a key set of 1,000 keys against one) and heap (the
// bytes a cached 500-byte token holds).
package bench
