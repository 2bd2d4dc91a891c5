# jwtauth for Go. `make run` starts the example server on its embedded
# default; `make test` checks formatting, vets and runs every test under the
# race detector.

GO ?= go
ADDR ?= 127.0.0.1:8080

.PHONY: run test fmt vet

run:
	$(GO) run ./examples/server -addr $(ADDR) $(if $(CONFIG),-config $(CONFIG))

test: fmt vet
	$(GO) test -race -count=1 ./...

fmt:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...
