# Soitto: `make run` opens the app, `make test` runs every check.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin

.PHONY: run test deps build servers vet bench sim generate clean

run: build
	@scripts/run.sh

deps:
	@scripts/install-deps.sh

build: deps servers
	$(GO) build -o $(BIN)/soitto .

# Servers build without cgo; soitto-cli with it, for audio (libopus,
# miniaudio, speexdsp).
servers:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ $$($(GO) list ./cmd/... | grep -v /soitto-cli$$)
	$(GO) build -o $(BIN)/ ./cmd/soitto-cli

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

# Unit and integration tests, with the race detector. The integration tests
# (internal/e2e, login/server, ui) run real servers on loopback; the
# PostgreSQL store tests use the database scripts/test-postgres.sh starts
# (they skip, saying so, where that cannot run). -count=1: the e2e tests
# build and run the binaries, which go test's cache cannot see.
test: deps vet
	@if [ -z "$$SOITTO_TEST_POSTGRES" ]; then \
	  export SOITTO_TEST_POSTGRES=$$(scripts/test-postgres.sh 2>/dev/null || true); fi; \
	  $(GO) test -race -count=1 -timeout 20m ./...

# Login throughput and latency on SQLite and PostgreSQL (see the README).
bench:
	@if [ -z "$$SOITTO_TEST_POSTGRES" ]; then \
	  export SOITTO_TEST_POSTGRES=$$(scripts/test-postgres.sh 2>/dev/null || true); fi; \
	  $(GO) test -run '^$$' -bench Login -benchtime 200x ./login/server

# The ring simulator's table: lookup hops and latency, failures, churn.
sim:
	$(GO) run ./cmd/soitto-sim

# Regenerate the protobuf code (checked in) from overlay/wire/wire.proto.
# Needs protoc (Debian: protobuf-compiler); protoc-gen-go is built at the
# version go.mod names.
generate:
	@command -v protoc >/dev/null || { echo "generate: needs protoc (apt-get install protobuf-compiler)"; exit 1; }
	$(GO) build -o $(BIN)/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	protoc --plugin=protoc-gen-go=$(BIN)/protoc-gen-go --go_out=. --go_opt=paths=source_relative overlay/wire/wire.proto

clean:
	rm -rf $(BIN)
