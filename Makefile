# RTES — the two quick-start commands are `make run` and `make test`. Each installs what it
# needs first (.ci/deps, idempotent).
SHELL := /bin/bash
CONFIG ?= configs/config.dev.json
ARGS ?=
SWIFT ?= swift

.PHONY: help deps build run test test-long bench clean

help:
	@echo "make run        build in release and replay a generated order stream through the engine ($(CONFIG))"
	@echo "make test       build and run every test (what CI runs)"
	@echo "make test-long  the differential test at 10 M commands, in release"
	@echo "make bench      run every benchmark; results in benchmarks/results/"
	@echo "make clean      remove build products"

deps:
	@.ci/deps

build: deps
	$(SWIFT) build -c release

run: deps
	$(SWIFT) build -c release --product rtes-replay
	.build/release/rtes-replay $(CONFIG) $(ARGS)

# The release build of ExchangeCore checks the compiler's proof that processing a command
# takes no lock and allocates nothing (the annotations are checked on optimized builds).
test: deps
	$(SWIFT) build -c release --target ExchangeCore
	$(SWIFT) build --build-tests
	$(SWIFT) test

# 8 seeds × 1.25 M commands through the engine and the reference model, every event compared.
test-long: deps
	RTES_DIFFERENTIAL_COMMANDS=1250000 $(SWIFT) test -c release -Xswiftc -enable-testing --filter DifferentialTests

# SwiftPM can keep a stale file list of the root package in the benchmarks' build plan;
# dropping the plan (not the build) makes it re-read the sources.
bench: deps
	rm -f benchmarks/.build/*/release/description.json
	cd benchmarks && $(SWIFT) build -c release
	cd benchmarks && .build/release/engine-bench $(ARGS)
	cd benchmarks && .build/release/levels-bench

clean:
	rm -rf .build benchmarks/.build
