# jwtauth for Go. `make run` starts the example server on its embedded
# default; `make test` checks formatting, vets and runs every test under the
# race detector (the fuzz targets' seed corpora under testdata/fuzz included),
# then the bench module's checks that each contender really verifies;
# `make fuzz` runs each fuzz target in turn for FUZZTIME; `make bench`
# measures this library against its Go peers (internal/bench, a module of its
# own); `make load` drives the example server from a second process (the
# Go generator internal/bench/cmd/load; LOADGEN=wrk for wrk) at 16 and 64
# connections, and reports the authenticated route's requests/s over the
# public route's.
# `make browser` (run by `make test`) installs Debian's chromium when it is
# missing, for the tests that drive a headless browser (internal/browser);
# JWTAUTHTEST_SKIP_BROWSER=1 skips both the install and those tests.
# `make redis` (run by `make test` too) installs Debian's redis-server when it
# is missing, for the tests that run a real Redis (internal/redistest);
# JWTAUTHTEST_SKIP_REDIS=1 skips both the install and those tests.
# `make oidc` (run by `make test` too) installs Node's oidc-provider, pinned by
# internal/oidctest/provider/package-lock.json, with npm ci when node_modules
# is missing or stale, for the tests that get tokens from a real OpenID
# provider (internal/oidctest); JWTAUTHTEST_SKIP_OIDC=1 skips both.

GO ?= go
ADDR ?= 127.0.0.1:8080
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 10s

.PHONY: run test browser redis oidc fmt vet fuzz bench load

run:
	$(GO) run ./examples/server -addr $(ADDR) $(if $(CONFIG),-config $(CONFIG)) $(if $(DEMO_USERS),-demo-users)

test: browser redis oidc fmt vet
	$(GO) test -race -count=1 ./...
	cd internal/bench && $(GO) vet ./... && $(GO) test -count=1 ./...

fmt:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

browser:
	scripts/ensure-chromium.sh

redis:
	scripts/ensure-redis.sh

oidc:
	scripts/ensure-oidc-provider.sh

# go test -fuzz takes one target per run. New inputs the fuzzer finds stay in
# the Go build cache; a failing one is written to the package's
# testdata/fuzz/<target>/, where `make test` replays it. Minimizing each new
# input for go's default of 60s would eat most of a short run.
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME)

fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzToken$$' ./internal/authheader
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzCandidate$$' ./internal/authheader
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzVerifyRequest$$' ./policy
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzScopeClaim$$' ./policy
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzDecodeRegistered$$' ./policy
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzVerifyProof$$' ./policy/dpop
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzNormalizeURI$$' ./policy/dpop
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzForwarded$$' ./policy/dpop
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzBasicHeader$$' ./policy/basic
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzParseSettings$$' ./settings
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzDecodeObject$$' ./internal/strictjson

# One table per workload (cold: a new token on every request; warm: a pool
# of 1,000 tokens presented again and again), each row's ratio to the
# fastest peer and to the floor (the signature check alone), and the
# targets of cold and warm; then the scale workloads (50,000 tokens through
# a cache of 10,000 against cold, 1,000 keys against one, the heap per
# cached token), each against its baseline and target.
BENCHCOUNT ?= 5
BENCHTIME ?= 500ms
# The suite runs BENCHCOUNT times in turn, each benchmark once a round,
# rather than each benchmark BENCHCOUNT times in a row: a burst of noise on
# a shared machine then falls on every row alike, not on one row's runs.
bench:
	cd internal/bench && for round in $$(seq $(BENCHCOUNT)); do \
		$(GO) test -run '^$$' -bench . -benchmem -count 1 -benchtime $(BENCHTIME) || { echo "FAIL: bench round $$round"; exit 1; }; \
	done | $(GO) run ./cmd/benchtable

load:
	scripts/load.sh
