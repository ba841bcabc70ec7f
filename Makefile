# Echo's everyday commands. `make run` starts Echo; `make test` runs every test.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/echo/target
export npm_config_cache ?= $(HOME)/.cache/echo/npm
DATA_DIR ?= ./data
PORT ?= 8080

.PHONY: run dev cluster model web test test-rust test-web e2e test-slack-sdk schemathesis fuzz openapi lint fmt bench bench-full bench-scaled

## Build the web app, fetch the embedding model and run all of Echo on http://localhost:$(PORT),
## data in $(DATA_DIR).
run: web model
	cargo run --release -p echo-server -- up --data-dir $(DATA_DIR) --port $(PORT)

## Develop: the web app with hot reload on http://localhost:5173, proxying to `echo-server up` on
## :8080, which is rebuilt and restarted when Rust sources change.
dev: model
	scripts/dev.sh

## The sentence-embedding model for semantic search and summaries (skipped when present).
model:
	scripts/fetch-model.sh

## Build the web app (frontend/dist), reinstalling its packages when the lock file changed.
web: frontend/node_modules/.installed
	npm --prefix frontend run build

frontend/node_modules/.installed: frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund
	touch $@

## Every test: Rust (both backends, scaled topology), the web app's unit and browser tests,
## Slack's own Python clients against Echo, schemathesis over the API document, and a bounded
## fuzzing run.
test: test-rust test-web e2e test-slack-sdk schemathesis fuzz

test-rust: model
	cargo nextest run --workspace --no-fail-fast

test-web: frontend/node_modules/.installed
	npm --prefix frontend test

## Browser end-to-end tests against a real `echo-server up`, then against the scaled topology
## (`echo-server cluster`); needs Chromium.
e2e: web
	cargo build -p echo-server
	scripts/e2e.sh
	scripts/e2e.sh --scaled

## The scaled topology on this machine: gateways on :8080 and :8081, two message-service
## replicas, PostgreSQL and Redis from here, files in a local S3 server.
cluster: web model
	cargo run -p echo-server -- cluster

## schemathesis over the whole API document against a real `echo-server up`: no 5xx, every response
## as documented. A fixed seed keeps test runs reproducible; `make schemathesis ST_SEED=` explores a
## fresh one (printed at the end).
ST_SEED ?= 278113389849499601062057510960816070560
schemathesis:
	cargo build -p echo-server
	ST_SEED=$(ST_SEED) scripts/schemathesis.sh

## The parsers of untrusted input under cargo-fuzz (nightly), FUZZ_SECONDS (default 60) each.
fuzz:
	scripts/fuzz.sh

## After changing a route: refresh the web app's copy of the API document and the types generated
## from it (frontend/src/api/openapi.json, schema.d.ts); a test fails while they are stale.
openapi: frontend/node_modules/.installed
	cargo run -q -p echo-server -- openapi > frontend/src/api/openapi.json
	npm --prefix frontend run api:types

## Slack's official Python clients (slack-sdk, slack-bolt, from PyPI into ~/.cache/echo/venv)
## against a real `echo-server up`.
test-slack-sdk:
	cargo build -p echo-server
	scripts/slack-sdk.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

SYNAPSE_VENV ?= $(HOME)/.cache/echo/synapse-venv

.PHONY: bench bench-full

## Echo beside Matrix Synapse (from PyPI into $(SYNAPSE_VENV), on the PostgreSQL at
## $$ECHO_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432): start-up, durable send
## against the databases' commit ceilings, fan-out to 10 and 100 members; a few minutes, ending
## in the headline table. Figures and how to read them: docs/benchmarks.md.
bench: $(SYNAPSE_VENV)/.installed
	cargo build --release -p echo-bench -p echo-server
	$(CARGO_TARGET_DIR)/release/echo-bench headline

## The full runs recorded in docs/benchmarks.md (about forty-five minutes).
bench-full: $(SYNAPSE_VENV)/.installed
	cargo build --release -p echo-bench -p echo-server
	$(CARGO_TARGET_DIR)/release/echo-bench startup
	$(CARGO_TARGET_DIR)/release/echo-bench send --charts docs/charts
	$(CARGO_TARGET_DIR)/release/echo-bench fanout 10 100 1000 --latency-messages 100 --burst-messages 200 --idle 10000 50000 --charts docs/charts
	$(CARGO_TARGET_DIR)/release/echo-bench mixed
	$(CARGO_TARGET_DIR)/release/echo-bench reads 1000000

## The scaled topology (echo-server cluster on this machine's PostgreSQL and Redis) beside
## embedded Echo: send, fan-out, idle memory (a few minutes).
bench-scaled:
	cargo build --release -p echo-bench -p echo-server
	$(CARGO_TARGET_DIR)/release/echo-bench scaled

$(SYNAPSE_VENV)/.installed:
	python3 -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install --quiet 'matrix-synapse[postgres]'
	touch $@
