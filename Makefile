# Muster — two commands on a machine that has never seen the project:
#   make run    installs what is missing, builds, starts the broker with the five simulated agencies
#   make test   installs what is missing, builds, runs every test (unit, broker, integration)
SWIFT ?= swift
BIN   := .build/debug/muster

.PHONY: deps build test unit integration run bench release clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

integration: build
	MUSTER_BIN=$(CURDIR)/$(BIN) python3 -m pytest integration -q

test: unit integration

run: build
	@scripts/run.sh $(BIN)

release: deps
	$(SWIFT) build -c release

bench: release
	.build/release/muster bench all

clean:
	rm -rf .build data
