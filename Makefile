# mirrorleech — `make help` lists the targets.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Tests may take a while on 2 cores; the whole suite stays well inside this.
TEST_TIMEOUT ?= 20m

.PHONY: help build image redis-image run test test-image-source test-deps vet fmt-check generate generate-check unit e2e bench fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build a static binary into bin/mirrorleech
	@echo ">> building bin/mirrorleech ($(VERSION))"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/mirrorleech ./cmd/mirrorleech

# Container images, built without a registry: the binary (or redis-server)
# comes from this machine and goes into a FROM scratch image.
IMAGE       ?= mirrorleech:local
REDIS_IMAGE ?= mirrorleech-redis:local
DOCKER      ?= docker

image: ## the container image $(IMAGE) from a static binary built here (deploy/Dockerfile, --target prebuilt)
	@echo ">> building $(IMAGE) ($(VERSION))"
	CGO_ENABLED=0 $(GO) build -trimpath -tags timetzdata -ldflags "$(LDFLAGS)" -o bin/image-bin/mirrorleech ./cmd/mirrorleech
	sh deploy/rootfs.sh bin/image-bin/mirrorleech bin/image
	$(DOCKER) build -q -f deploy/Dockerfile --target prebuilt -t $(IMAGE) .
	@$(DOCKER) image inspect -f '{{.Size}}' $(IMAGE) | awk '{printf ">> $(IMAGE): %.1f MB\n", $$1/1e6}'

redis-image: ## a Redis image $(REDIS_IMAGE) from this machine's redis-server (for REDIS_IMAGE in .env where nothing can be pulled)
	@echo ">> building $(REDIS_IMAGE)"
	sh deploy/redis/rootfs.sh bin/redis-image
	$(DOCKER) build -q -f deploy/redis/Dockerfile -t $(REDIS_IMAGE) bin/redis-image

run: ## run the bot with config.env / the environment (BOT_TOKEN, OWNER_ID)
	$(GO) run ./cmd/mirrorleech

# Debian packages some tests drive as real peers: promtool checks the
# monitoring config, chromium renders the actor tree, aria2c seeds a torrent
# to the bot, zip/unzip/7z/xz/bzip2/zstd build and check archives the engine
# reads and writes.
TEST_TOOLS    := promtool chromium aria2c zip unzip 7z xz bzip2 zstd redis-server protoc
TEST_PACKAGES := prometheus chromium aria2 zip unzip p7zip-full xz-utils bzip2 zstd redis-server protobuf-compiler

# Debian packages go in only as root on a machine with apt-get.
CAN_APT     := [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

test-deps: ## install what some tests need (promtool, chromium, aria2c, zip, unzip, 7z) from Debian when missing
	@missing=""; for t in $(TEST_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if $(CAN_APT); then \
		echo ">> installing$$missing ($(TEST_PACKAGES))"; $(APT_INSTALL) $(TEST_PACKAGES) >/dev/null; \
	else echo ">>$$missing missing and cannot install: tests that need them skip with a reason (fail under CI=true)"; fi
	@# tests/deploy drives docker-compose where a Docker engine answers.
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && \
		! command -v docker-compose >/dev/null 2>&1; then \
		if $(CAN_APT); then \
			echo ">> installing docker-compose"; $(APT_INSTALL) docker-compose >/dev/null; \
		else echo ">> docker-compose missing and cannot install: tests/deploy skips (fails under CI=true)"; fi; \
	fi

test: vet fmt-check test-deps generate-check ## vet, gofmt check, every test (race detector on, the e2e bot binary too), the Docker deployment, brief fuzzing
	@# Separate steps, so the multi-process suites (one bot per e2e test, three
	@# race-built bots per cluster test) do not starve the timing-sensitive
	@# engine tests (torrent seeding, rate limits) on a 2-core machine.
	@echo ">> go test -race (packages and engines)"
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v -e '/tests/e2e$$' -e '/tests/cluster$$' -e '/tests/deploy$$')
	@echo ">> go test -race ./tests/e2e/ (the bot built with -race)"
	E2E_RACE=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./tests/e2e/
	@echo ">> go test -race ./tests/cluster/ (three bots built with -race per test)"
	E2E_RACE=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./tests/cluster/
	@echo ">> go test ./tests/deploy/ (images built offline, docker-compose cluster of three replicas; skips without a Docker engine)"
	$(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) ./tests/deploy/
	@$(MAKE) --no-print-directory fuzz

# Cross-node messages: messages/*.proto → messages/*.pb.go, generated with
# Debian's protoc and the protoc-gen-go of go.mod's protobuf version, so
# every machine generates the same bytes.
PROTO_SRC := $(wildcard messages/*.proto)
generate: ## regenerate messages/*.pb.go from messages/*.proto
	@echo ">> protoc $(PROTO_SRC)"
	@$(GO) build -o bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	@PATH="$(CURDIR)/bin:$$PATH" protoc -I messages --go_out=messages --go_opt=paths=source_relative $(PROTO_SRC)

generate-check: ## fail when the committed generated code is not what messages/*.proto generates
	@echo ">> generated code check"
	@$(GO) build -o bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	PATH="$(CURDIR)/bin:$$PATH" protoc -I messages --go_out="$$tmp" --go_opt=paths=source_relative $(PROTO_SRC) && \
	for f in "$$tmp"/*.pb.go; do \
		if ! cmp -s "$$f" "messages/$$(basename $$f)"; then \
			echo "messages/$$(basename $$f) is stale: run make generate"; diff -u "messages/$$(basename $$f)" "$$f" | head -20; exit 1; \
		fi; \
	done

test-image-source: test-deps ## build deploy/Dockerfile's default target from source in Docker and check the image (about 6 min; not in `make test`)
	@# Where no golang image can be pulled, the test makes one with debootstrap.
	@if ! command -v debootstrap >/dev/null 2>&1 && $(CAN_APT); then \
		echo ">> installing debootstrap"; $(APT_INSTALL) debootstrap >/dev/null; \
	fi
	MIRRORLEECH_TEST_SOURCE_BUILD=1 $(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) -run '^TestImageFromSource$$' ./tests/deploy/

FUZZTIME ?= 10s
fuzz: ## run the archive fuzzers briefly (FUZZTIME each) on top of their committed seed corpus
	@# Fails only on a written reproducer or a failing corpus replay, never on
	@# the fuzzing coordinator's own deadline race (see the script).
	@GO=$(GO) bash tests/fuzz/run.sh ./internal/archive/ $(FUZZTIME) FuzzSanitizeName FuzzExtractZip FuzzExtractTar

unit: ## the fast tests only (no end-to-end processes)
	$(GO) test -race -count=1 -short ./...

e2e: ## the end-to-end tests only (the real binary against the fakes)
	$(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) ./tests/...

vet: ## go vet
	@echo ">> go vet"
	$(GO) vet ./...

fmt-check: ## fail when gofmt would change a file
	@echo ">> gofmt check"
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: ## benchmarks side by side with peer tools (aria2c, curl, zip, unzip, 7z) and the leech RSS; not part of test
	bash tests/bench/httpdl.sh
	BENCH_LEECH_RSS=1 $(GO) test -count=1 -run TestLeechPeakRSS -v -timeout 30m ./tests/bench/
	BENCH_ARCHIVE=1 $(GO) test -count=1 -run TestArchiveThroughput -v -timeout 30m ./tests/bench/
	BENCH_TORRENT=1 $(GO) test -count=1 -run TestTorrentThroughput -v -timeout 30m ./tests/bench/
	BENCH_CLUSTER=1 $(GO) test -count=1 -run TestClusterOverhead -v -timeout 30m ./tests/bench/

clean: ## remove build output
	rm -rf bin
