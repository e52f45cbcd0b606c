# scimbridge developer tasks. `make` (or `make help`) lists the targets.
#
# Tools are installed into bin/tools/ from the Go module proxy, pinned below,
# and only when missing.

GO          ?= go
BIN_DIR     := $(CURDIR)/bin
BINARY      := $(BIN_DIR)/scimbridge
TOOLS_DIR   := $(BIN_DIR)/tools

# staticcheck 2026.2; builds and runs with Go 1.26.
STATICCHECK_VERSION := v0.8.0
STATICCHECK         := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)/staticcheck

# Extra flags for `make test`, e.g. make test TESTFLAGS='-run TestUsers -v'.
TESTFLAGS ?=
# How long `make fuzz` runs each fuzz target.
FUZZTIME  ?= 30s
# Extra arguments for `make run`, e.g. make run ARGS='--addr 127.0.0.1:9090'.
ARGS      ?=

.DEFAULT_GOAL := help

.PHONY: help build test test-pool1 lint fmt-check vet staticcheck bench fuzz run clean image-context image

help: ## List the targets
	@echo 'Usage: make TARGET'
	@echo
	@awk 'BEGIN {FS = ":.*?## "} /^[a-zA-Z0-9_-]+:.*?## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build the server binary into bin/scimbridge
	$(GO) build -o $(BINARY) ./cmd/scimbridge

test: ## Run the whole suite with -race, against SQLite and PostgreSQL (SCIMBRIDGE_TEST_DATABASE_URL), then test-pool1
	$(strip $(GO) test -race -count=1 $(TESTFLAGS)) ./...
	@$(MAKE) --no-print-directory test-pool1

# The packages whose tests run a PostgreSQL store behind the service.
POOL1_PKGS := ./internal/store/postgres/ ./internal/directory/ ./scim/ ./internal/server/ ./internal/auditapi/ ./cmd/scimbridge/

test-pool1: ## PostgreSQL-backed packages again on one-connection pools: a nested pool acquisition fails with store.ErrUnavailable (10s acquire timeout)
	SCIMBRIDGE_TEST_PG_POOL_MAX_CONNS=1 $(GO) test -count=1 -timeout 5m $(POOL1_PKGS)

lint: fmt-check vet staticcheck ## Run gofmt -l (must print nothing), go vet and staticcheck

fmt-check: ## Fail if gofmt -l lists any file
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo 'gofmt: these files need formatting (run gofmt -w):'; echo "$$out"; exit 1; fi

vet: ## Run go vet
	$(GO) vet ./...

staticcheck: $(STATICCHECK) ## Run staticcheck (installed into bin/tools/ when missing)
	$(STATICCHECK) ./...

$(STATICCHECK):
	@echo 'installing staticcheck $(STATICCHECK_VERSION) into $(@D)'
	@mkdir -p $(@D)
	GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

bench: ## Go benchmarks, then scimbridge bench --quick (more flags: BENCH_ARGS='--db postgres://...')
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/scimbridge bench --quick $(BENCH_ARGS)

fuzz: ## Run every Fuzz* target for FUZZTIME each (default 30s)
	@set -e; \
	for f in $$(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=node_modules '^func Fuzz' .); do \
	  dir=$$(dirname "$$f"); \
	  for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
	    echo "== $$dir $$fn"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$dir"; \
	  done; \
	done

IMAGE_CONTEXT := $(CURDIR)/build/container
CA_BUNDLE     ?= /etc/ssl/certs/ca-certificates.crt
IMAGE         ?= scimbridge:dev

image-context: ## Stage the container build context (static binary, CA bundle, empty /tmp and /data) in build/container/
	rm -rf $(IMAGE_CONTEXT)
	mkdir -p $(IMAGE_CONTEXT)/tmp $(IMAGE_CONTEXT)/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(IMAGE_CONTEXT)/scimbridge ./cmd/scimbridge
	cp $(CA_BUNDLE) $(IMAGE_CONTEXT)/ca-certificates.crt
	chmod 1777 $(IMAGE_CONTEXT)/tmp

image: image-context ## Build the container image with buildah (or podman) from Containerfile
	@if command -v buildah >/dev/null; then buildah bud --isolation chroot -f Containerfile -t $(IMAGE) $(IMAGE_CONTEXT); \
	elif command -v podman >/dev/null; then podman build -f Containerfile -t $(IMAGE) $(IMAGE_CONTEXT); \
	else echo 'neither buildah nor podman is installed'; exit 1; fi

run: ## Run the server (go run ./cmd/scimbridge serve $(ARGS))
	$(GO) run ./cmd/scimbridge serve $(ARGS)

clean: ## Remove bin/scimbridge and test/profile outputs (keeps bin/tools/)
	rm -f $(BINARY)
	rm -rf build/container
	find . -path ./.git -prune -o -type f \( -name '*.test' -o -name '*.out' -o -name '*.prof' \) -print -exec rm -f {} +
