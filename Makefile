# smscode: every build, check and publishing step. `make help` lists the targets.
# CI (.ci/run) runs `make ci`'s steps one by one on a fresh machine.

# ---- variables (override on the command line: make run ADDR=127.0.0.1:9090) ----
GO        ?= go
NPM       ?= npm
NPX       ?= npx --no-install

SPEC      ?= openapi.yaml
# The last released spec (highest version in api/released/): `make breaking` fails on
# any breaking change against it. Releasing = copying openapi.yaml there.
RELEASED_SPEC ?= $(shell ls api/released/openapi-*.yaml 2>/dev/null | sort -V | tail -n 1)

# Version stamped into binaries (internal/buildinfo): `smscode -version`, smscode_build_info,
# the image's labels. Outside a git checkout both fall back to what Go records.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   ?= -s -w -X github.com/smscode/smscode/internal/buildinfo.version=$(VERSION) -X github.com/smscode/smscode/internal/buildinfo.revision=$(REVISION)

# `make image`: the OCI image tarball (internal/image), for linux/IMAGE_ARCH, tagged
# IMAGE_TAG; SOURCE_DATE_EPOCH (the commit's time) fixes every timestamp in it.
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
IMAGE_TAR  ?= build/smscode-image.tar
IMAGE_TAG  ?= smscode:$(VERSION)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

# `make run`: listen address and optional config file (-config only when CONFIG is set).
ADDR      ?= 127.0.0.1:8080
CONFIG    ?=

# `make test` / `make bench`: extra flags, e.g. make test TESTFLAGS='-run TestSend -v'.
TESTFLAGS ?=
PKGS      ?= ./...
BENCH     ?= .
BENCHFLAGS ?= -benchmem -count 1
# `make bench`: flags for the load run (go run ./internal/loadbench -h), e.g. LOADFLAGS='-rounds 5 -out bench.json'.
LOADFLAGS ?=
# `make bench`: flags for the scale run (loadbench -scale: allocations per request, cost
# against pending codes and registered apps), e.g. SCALEFLAGS='-rounds 9 -cpuprofile cpu.out'.
SCALEFLAGS ?= -rounds 5

DOCS_OUT  ?= build/docs/index.html

# `make fuzz`: how long each fuzz target runs.
FUZZTIME  ?= 10s

# Pinned Go tools, run with `go run module@version` so that go.mod stays the app's.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
OASDIFF     ?= $(GO) run github.com/oasdiff/oasdiff@v1.37.0
# The first run compiles Helm (about 2 minutes on 2 cores); later runs start at once.
HELM        ?= $(GO) run helm.sh/helm/v3/cmd/helm@v3.22.0

# `make chart`: the Helm chart, and where its renders (one per ci/NAME-values.yaml) are
# committed for internal/chart's test, which cannot run Helm itself.
CHART          ?= deploy/helm/smscode
CHART_RENDERED ?= deploy/helm/rendered

# node_modules is installed from package-lock.json on demand; this stamp records it.
NODE_STAMP := node_modules/.smscode-npm-ci.stamp

# Redocly CLI: no telemetry, no update check.
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

# Go files to gofmt: all of them, gen/ included; node_modules and build are not ours.
GOFILES = $(shell find . \( -path ./node_modules -o -path ./build -o -path ./.git \) -prune -o -name '*.go' -print)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

.PHONY: help generate check-generated lint lint-spec check-samples test fuzz bench run docs breaking tools image chart check-chart ci

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## Regenerate gen/ from openapi.yaml (go generate ./gen)
	$(GO) generate ./gen

check-generated: generate ## Fail if gen/ differs from what openapi.yaml generates
	@if ! git diff --exit-code --stat -- gen/; then \
		echo "check-generated: gen/ is out of date with $(SPEC): run 'make generate' and commit gen/" >&2; \
		exit 1; \
	fi
	@untracked=$$(git ls-files --others --exclude-standard -- gen/); \
	if [ -n "$$untracked" ]; then \
		echo "check-generated: untracked files in gen/:" >&2; echo "$$untracked" >&2; \
		exit 1; \
	fi
	@echo "check-generated: gen/ matches $(SPEC)"

lint: ## gofmt -l (must list nothing), go vet, staticcheck
	@unformatted=$$(gofmt -l $(GOFILES) </dev/null); \
	if [ -n "$$unformatted" ]; then \
		echo "lint: gofmt would change these files (run gofmt -w):" >&2; echo "$$unformatted" >&2; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

lint-spec: $(NODE_STAMP) ## Validate openapi.yaml (kin-openapi + conventions) and lint it with Spectral
	$(GO) run ./internal/tools/speclint $(SPEC)
	$(NPX) spectral lint $(SPEC) --ruleset .spectral.yaml --fail-severity error

check-samples: ## Type-check the spec's TypeScript code samples (examples/samples/*/sample.ts) with openapi-typescript + tsc (pinned in examples/samples/ts)
	scripts/check-ts-samples.sh $(SPEC)

# Tests that need real Redis or Chromium skip without them; the last line of
# `make test` lists the groups that skipped (scripts/skip-summary.sh).
SKIP_REPORT := build/test-skips.txt

test: ## Run every test with the race detector, shuffled (TESTFLAGS adds flags); the last line lists skipped groups
	@mkdir -p $(dir $(SKIP_REPORT)) && rm -f $(SKIP_REPORT)
	@rc=0; SMSCODE_SKIP_REPORT=$(CURDIR)/$(SKIP_REPORT) $(GO) test -race -count=1 -shuffle=on $(TESTFLAGS) $(PKGS) || rc=$$?; \
	scripts/skip-summary.sh $(SKIP_REPORT); exit $$rc

fuzz: ## Run every fuzz target for FUZZTIME each (default 10s), one after another; stops at the first failure (self-tests its flake filter first)
	scripts/fuzz-selftest.sh
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

bench: ## Micro-benchmarks (benchstat format; BENCH selects, BENCHFLAGS adds flags), the load run (ratios vs a bare Echo baseline), the scale run (allocs per request; cost vs pending codes and apps) and memory figures
	$(GO) test -run '^$$' -bench '$(BENCH)' $(BENCHFLAGS) $(PKGS)
	$(GO) run ./internal/loadbench $(LOADFLAGS)
	$(GO) run ./internal/loadbench -scale $(SCALEFLAGS)
	$(GO) run ./internal/loadbench -mem

# `make run` builds first and says so (the first build compiles every dependency),
# then runs the binary in the recipe's place (exec): Ctrl-C reaches the server,
# which stops gracefully and exits 0, so make reports no error.
run: ## Build and run the server on ADDR (default 127.0.0.1:8080); CONFIG=file passes -config
	@echo "make run: building ./cmd/smscode into build/smscode (the first build compiles every dependency, about 90 s; later ones take seconds)"
	@mkdir -p build && $(GO) build -ldflags '$(LDFLAGS)' -o build/smscode ./cmd/smscode
	@echo "make run: starting build/smscode on $(ADDR); Ctrl-C stops it"
	@exec build/smscode -addr $(ADDR)$(if $(CONFIG), -config $(CONFIG))

docs: $(NODE_STAMP) ## Render the spec to one self-contained HTML page, build/docs/index.html
	@mkdir -p $(dir $(DOCS_OUT))
	$(NPX) redocly build-docs $(SPEC) --inlineBundle -o $(DOCS_OUT)
	@if grep -Eq '<script[^>]*[[:space:]]src=|<link[^>]*[[:space:]]href="(https?:)?//|from "(https?:)?//' $(DOCS_OUT); then \
		echo "docs: $(DOCS_OUT) loads scripts from the network; it must be self-contained" >&2; \
		exit 1; \
	fi
	@echo "docs: $(DOCS_OUT) is self-contained"

# api/oasdiff-levels.txt lowers two oasdiff checks to warnings, both for error_code,
# which the spec declares open (clients handle an unknown code by its HTTP status):
# a new value in a response enum (a new code), and anyOf added to a response
# property (1.0.0's closed ErrorCode enum became anyOf [ErrorCode, string], so that
# strict-enum generators accept a new code). Drop the second once a release after
# 1.0.0 is in api/released/.
breaking: ## Fail on breaking changes against the released spec; self-test that oasdiff catches one
	@if [ -z "$(RELEASED_SPEC)" ]; then echo "breaking: no api/released/openapi-*.yaml" >&2; exit 1; fi
	$(OASDIFF) breaking $(RELEASED_SPEC) $(SPEC) --fail-on ERR --severity-levels api/oasdiff-levels.txt --allow-external-refs=false --color never
	OASDIFF='$(OASDIFF)' scripts/breaking-selftest.sh $(SPEC)

image: ## Build the static linux binary and the OCI image tarball build/smscode-image.tar, without Docker (internal/image)
	@mkdir -p build
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o build/smscode-linux-$(IMAGE_ARCH) ./cmd/smscode
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./internal/tools/mkimage -binary build/smscode-linux-$(IMAGE_ARCH) \
		-arch $(IMAGE_ARCH) -version '$(VERSION)' -revision '$(REVISION)' -tag '$(IMAGE_TAG)' -out $(IMAGE_TAR)

chart: ## helm lint --strict and helm template the chart with each ci/NAME-values.yaml into deploy/helm/rendered/NAME.yaml (commit them)
	@mkdir -p $(CHART_RENDERED)
	@rm -f $(CHART_RENDERED)/*.yaml # a render whose values file is gone must go too
	@for values in $(CHART)/ci/*-values.yaml; do \
		name=$$(basename "$$values" -values.yaml); \
		echo "chart: $$values -> $(CHART_RENDERED)/$$name.yaml"; \
		$(HELM) lint --strict $(CHART) -f "$$values"; \
		$(HELM) template smscode $(CHART) --namespace smscode -f "$$values" > $(CHART_RENDERED)/$$name.yaml; \
	done

check-chart: chart ## make chart, then fail if deploy/helm/rendered/ differs from what is committed
	@if ! git diff --exit-code --stat -- $(CHART_RENDERED); then \
		echo "check-chart: $(CHART_RENDERED) is out of date with $(CHART): run 'make chart' and commit it" >&2; \
		exit 1; \
	fi
	@untracked=$$(git ls-files --others --exclude-standard -- $(CHART_RENDERED)); \
	if [ -n "$$untracked" ]; then \
		echo "check-chart: untracked files in $(CHART_RENDERED) (commit them):" >&2; echo "$$untracked" >&2; \
		exit 1; \
	fi
	@echo "check-chart: $(CHART_RENDERED) matches $(CHART)"

tools: $(NODE_STAMP) ## Install the pinned Node tools (npm ci) into node_modules

$(NODE_STAMP): package.json package-lock.json
	scripts/check-node.sh
	$(NPM) ci --no-audit --no-fund
	@touch $@

ci: ## What CI runs, in order (.ci/run also installs Redis and the tools first)
	$(MAKE) --no-print-directory tools
	$(MAKE) --no-print-directory check-generated
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory lint-spec
	$(MAKE) --no-print-directory check-samples
	$(MAKE) --no-print-directory breaking
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s
	scripts/make-run-selftest.sh
	$(MAKE) --no-print-directory check-chart
	$(MAKE) --no-print-directory image
	$(MAKE) --no-print-directory test
