# jwtauth for Go. `make run` starts the example server on its embedded
# default; `make test` checks formatting, vets and runs every test under the
# race detector (the fuzz targets' seed corpora under testdata/fuzz included);
# `make fuzz` runs each fuzz target in turn for FUZZTIME.

GO ?= go
ADDR ?= 127.0.0.1:8080
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 10s

.PHONY: run test fmt vet fuzz

run:
	$(GO) run ./examples/server -addr $(ADDR) $(if $(CONFIG),-config $(CONFIG))

test: fmt vet
	$(GO) test -race -count=1 ./...

fmt:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

# go test -fuzz takes one target per run. New inputs the fuzzer finds stay in
# the Go build cache; a failing one is written to the package's
# testdata/fuzz/<target>/, where `make test` replays it. Minimizing each new
# input for go's default of 60s would eat most of a short run.
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME)

fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzToken$$' ./internal/authheader
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzVerifyRequest$$' ./policy
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseSettings$$' ./settings
