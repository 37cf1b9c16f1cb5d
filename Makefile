# fanout — `make test` is the README's test command (make lint && go test
# -race -count=1 ./...), which .ci/run runs.
GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)

.PHONY: all build test lint bench fuzz cover golden demo

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/fanout ./cmd/fanout

# lint, then every test with the race detector.
test: lint
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Engine overhead per task, and the loopback farm comparisons.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash bench/check-farm.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseTarget -fuzztime 30s ./config

cover:
	$(GO) test -race -coverprofile=cover.out ./... && $(GO) tool cover -func=cover.out | tail -1

golden:
	$(GO) test ./report -update

demo:
	$(GO) run ./cmd/fanout demo
