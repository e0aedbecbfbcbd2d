# RTES — the two quick-start commands are `make run` and `make test`. Each installs what it
# needs first (.ci/deps, idempotent; make test also installs the ops checkers).
SHELL := /bin/bash
CONFIG ?= configs/config.dev.json
# The accounts that may log in; the bundled development file unless the environment names one.
RTES_API_KEYS_FILE ?= configs/api_keys.dev.json
export RTES_API_KEYS_FILE
ARGS ?=
SWIFT ?= swift

.PHONY: help deps build run client feed loadgen replay test test-long fuzz-wire fuzz-fix bench clean

help:
	@echo "make run        build in release and start the exchange on $(CONFIG) (ARGS=\"--demo-flow 20000\" feeds a demo order stream)"
	@echo "               (on the dev profile it also starts liquidity agents once /ready answers; AGENTS=0: without them)"
	@echo "make build      build every product in release, once (run, client, feed, loadgen, replay and install share it)"
	@echo "make agents     build rtes-agents and run the agents against a running exchange (docs/AGENTS.md)"
	@echo "make client     build rtes-client (one order, cancel or replace from the command line)"
	@echo "make feed       build rtes-feed and follow the running exchange's ITCH feed (ARGS=\"--snapshot DEMO1\", its password in RTES_FEED_PASSWORD)"
	@echo "make loadgen    build rtes-loadgen and run it (ARGS=\"--connections 2 --count 100000\")"
	@echo "make replay     replay a generated order stream through the engine and summarise it"
	@echo "make test       build and run every test, and check the operational files (what CI runs)"
	@echo "make test-long  the differential test at 10 M commands, in release"
	@echo "make fuzz-wire  fuzz the SoupBinTCP/OUCH decoders with libFuzzer + ASan (SECONDS=60)"
	@echo "make fuzz-fix   fuzz the FIX 4.4 codec and session with libFuzzer + ASan (SECONDS=60)"
	@echo "make bench      run every benchmark; results in benchmarks/results/"
	@echo "make install    install binaries, systemd unit and config on this host (systemd/README.md)"
	@echo "make clean      remove build products"

deps:
	@.ci/deps

# One release build of every product (the exchange and every tool): run, client, feed,
# loadgen, replay and install all use it, so switching between them builds nothing new.
# (Building one --product at a time gave each its own build plan, and each switch rebuilt.)
build: deps
	$(SWIFT) build -c release

# Liquidity agents (docs/AGENTS.md): on by default with the development profile, whose
# accounts LOAD1…LOAD8 they log in as; AGENTS=0 runs the exchange alone.
AGENTS ?= $(if $(filter configs/config.dev.json,$(CONFIG)),1,0)
AGENTS_CONFIG ?= configs/agents.dev.json
AGENTS_PASSWORDS ?= configs/agents.dev.passwords
AGENTS_ARGS ?= --report-seconds 10
AGENTS_RUN = .build/release/rtes-agents $(CONFIG) --agents $(AGENTS_CONFIG) --password-file $(AGENTS_PASSWORDS)

.PHONY: agents

# With AGENTS=1 the agents start in the background once the admin plane's /ready answers
# and are stopped when the exchange stops (Ctrl-C stops both).
run: build
ifeq ($(AGENTS),1)
	@.build/release/trading_exchange $(CONFIG) $(ARGS) & exchange=$$!; \
	trap 'kill -INT $$exchange 2>/dev/null' INT TERM; \
	metrics=$$(jq -r '.exchange.metrics_port // 8080' $(CONFIG) 2>/dev/null || echo 8080); \
	( for i in $$(seq 1 300); do \
	    kill -0 $$exchange 2>/dev/null || exit 0; \
	    curl -sf -o /dev/null "http://127.0.0.1:$$metrics/ready" && exec $(AGENTS_RUN) $(AGENTS_ARGS); \
	    sleep 0.2; \
	  done; echo "make run: /ready did not answer on port $$metrics; no agents (make agents starts them)" >&2 ) & agents=$$!; \
	status=0; while kill -0 $$exchange 2>/dev/null; do wait $$exchange; status=$$?; done; kill -TERM $$agents 2>/dev/null; wait $$agents 2>/dev/null; exit $$status
else
	.build/release/trading_exchange $(CONFIG) $(ARGS)
endif

# The agents alone, from a second terminal beside a running exchange (ARGS for rtes-agents).
agents: build
	$(AGENTS_RUN) $(ARGS)

client: build

# Follows a running exchange's market-data feed (docs/MARKETDATA.md), from a second terminal.
feed: build
	.build/release/rtes-feed $(CONFIG) $(ARGS)

loadgen: build
	.build/release/rtes-loadgen $(ARGS)

replay: build
	.build/release/rtes-replay $(CONFIG) $(ARGS)

# The release build of ExchangeCore checks the compiler's proof that processing a command
# takes no lock and allocates nothing (the annotations are checked on optimized builds).
# The release build of the gateway target (and everything below it) is where the compiler
# checks the @_noLocks/@_noAllocation proofs of the hot paths.
test: deps
	$(SWIFT) build -c release --target ExchangeGateway
	$(SWIFT) build --build-tests
	$(SWIFT) test
	.ci/check-ops
	.ci/webview

# 8 seeds × 1.25 M commands through the engine and the reference model, every event compared.
test-long: deps
	RTES_DIFFERENTIAL_COMMANDS=1250000 $(SWIFT) test -c release -Xswiftc -enable-testing --filter DifferentialTests

# libFuzzer with AddressSanitizer over the SoupBinTCP/OUCH decoders (SECONDS=300 for longer).
SECONDS ?= 60
fuzz-wire:
	.ci/fuzz-wire $(SECONDS)

# The same over the FIX 4.4 codec, session and application mapping.
fuzz-fix:
	.ci/fuzz-fix $(SECONDS)

# SwiftPM can keep a stale file list of the root package in the benchmarks' build plan;
# dropping the plan (not the build) makes it re-read the sources.
bench: deps
	$(SWIFT) build -c release --product trading_exchange
	rm -f benchmarks/.build/*/release/description.json
	cd benchmarks && $(SWIFT) build -c release
	cd benchmarks && .build/release/engine-bench $(ARGS)
	cd benchmarks && .build/release/levels-bench
	cd benchmarks && .build/release/ring-bench --realtime-priority 10
	cd benchmarks && .build/release/gateway-bench
	cd benchmarks && .build/release/marketdata-bench

clean:
	rm -rf .build benchmarks/.build

# Operations: install the appliance on this host (systemd/README.md) and check the
# operational files (tuning/, systemd/, docs/monitoring/). BUILD=0 installs what is
# already in RELEASE_DIR without building; PURGE=1 makes uninstall remove /etc/rtes and
# the rtes user too. DESTDIR=DIR installs into (uninstalls from) the tree under DIR without
# touching the host (install.sh --root).
PREFIX ?= /usr/local
RELEASE_DIR ?= .build/release
BUILD ?= 1
PURGE ?= 0

.PHONY: install uninstall check-ops

install:
ifeq ($(BUILD),1)
	@.ci/deps
	$(SWIFT) build -c release
endif
	systemd/install.sh install --from "$(RELEASE_DIR)" --prefix "$(PREFIX)" $(if $(DESTDIR),--root "$(DESTDIR)")

uninstall:
	systemd/install.sh uninstall --prefix "$(PREFIX)" $(if $(DESTDIR),--root "$(DESTDIR)") $(if $(filter 1,$(PURGE)),--purge)

check-ops:
	.ci/check-ops
