# Muster — two commands on a machine that has never seen the project:
#   make run    installs what is missing, builds, starts the broker with the five simulated agencies
#   make test   installs what is missing, builds, runs every test (unit, broker, integration, fuzzing)
SWIFT ?= swift
BIN   := .build/debug/muster

.PHONY: deps build test unit integration run bench release clean fuzz fuzz-build fuzz-short

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	.build/debug/FuzzWire Fuzz/corpus/wire
	.build/debug/FuzzCore Fuzz/corpus/core

integration: build
	MUSTER_BIN=$(CURDIR)/$(BIN) python3 -m pytest integration -q

# One line per stage and a summary; each stage's whole output is in .build/test-logs/ (the build's
# is shown in full if it fails). The last line is "N passed, N failed, N skipped".
test: deps
	@SWIFT="$(SWIFT)" scripts/test.sh

# libFuzzer targets for the codec and the core (docs/SECURITY.md). fuzz: 1,000,000 inputs each;
# fuzz-short (what make test runs): about 25 s each.
fuzz-build: deps
	$(SWIFT) build -c release --sanitize=fuzzer --product FuzzWire --scratch-path .build-fuzz -Xswiftc -DFUZZING
	$(SWIFT) build -c release --sanitize=fuzzer --product FuzzCore --scratch-path .build-fuzz -Xswiftc -DFUZZING

fuzz: fuzz-build
	scripts/fuzz.sh 1000000

fuzz-short: fuzz-build
	scripts/fuzz.sh 1000000 25

run: build
	@scripts/run.sh $(BIN)

release: deps
	$(SWIFT) build -c release

bench: release
	.build/release/muster bench all

clean:
	rm -rf .build data
