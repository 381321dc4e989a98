# Berth: `make run` builds and starts it on the embedded defaults; `make test` runs every
# test. Each target installs what it needs first and is safe to run twice.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Build outside the checkout so clean clones (and CI) build incrementally.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/berth-target
export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

BIN := $(CARGO_TARGET_DIR)/release/berth

.PHONY: run build test deps test-deps site static image bench bench-s3 bench-portal load fmt lint

## Build (release) and start Berth on 127.0.0.1:5000 with its data in ./berth-data.
run: build
	$(BIN) serve --listen 127.0.0.1:5000 --data-dir ./berth-data

## Build the front end, then the release binary with it embedded.
build: deps site
	cargo build --release --locked -p berth
	@if [ "$(realpath $(BIN))" != "$(realpath target/release/berth)" ]; then \
	  mkdir -p target/release && cp -f $(BIN) target/release/berth; fi
	@echo "built $(BIN)"

## The portal's WebAssembly, JS and CSS, and the files of public/, in target/site.
site: deps
	bash .ci/build-site

## The static (musl) release binary the container image holds.
static: deps site
	bash .ci/build-static >/dev/null

## The container image (FROM scratch, UID 65532, data in /data) with the docker engine
## at $$DOCKER_HOST; the tag is $$BERTH_IMAGE or berth:VERSION.
image: static
	bash .ci/image "$(CARGO_TARGET_DIR)/x86_64-unknown-linux-musl/release/berth"

## Every test: formatting, lints, unit, integration (on SQLite, then on PostgreSQL, then
## with blobs in S3), real clients, the container image, conformance, then the browser
## journeys.
test: deps test-deps site static
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	{ cargo test --release --locked -p berth -p app -p berth-domain -- --test-threads=4 && \
	  echo "== the integration tests again, stored in PostgreSQL ==" && \
	  bash .ci/with-postgres cargo test --release --locked -p berth -p app --test '*' -- --test-threads=4 && \
	  echo "== the registry API, lifecycle, conformance, crash, replica and balancer suites again, on PostgreSQL with blobs in S3 ==" && \
	  bash .ci/with-postgres bash .ci/with-s3 \
	    cargo test --release --locked -p berth --test registry_api --test lifecycle --test conformance --test crash --test replicas --test balancer -- --test-threads=4; \
	} 2>&1 | awk '{ print } \
	  /^test result:/ { passed += $$4; failed += $$6 } \
	  END { printf "tests: %d passed, %d failed\n", passed, failed }'
	cd end2end && npm ci --no-audit --no-fund --loglevel=error && npm test

## The Rust toolchain (from rust-toolchain.toml) and wasm-bindgen.
deps:
	@bash .ci/install-tools

## Debian packages the real-client tests use (docker, skopeo, ...), and moto's S3 server.
test-deps:
	@bash .ci/install-packages
	@bash .ci/install-s3

## Benchmark a release build against the reference registry (not part of `make test`).
bench: build
	bash .ci/bench

## 50 clients for 60 s of mixed traffic; prints errors (must be 0), latencies, peak RSS.
load: build
	bash .ci/load

## Time the Repositories page of an account with 10,000 repositories (not in `make test`).
## The same with blobs in moto's S3 server, the reference's in the same bucket; pass
## compare.py options in BENCH_ARGS (e.g. BENCH_ARGS="--size-mib 64 --rounds 1").
bench-s3: build test-deps
	bash .ci/with-s3 bash .ci/bench $(BENCH_ARGS)

bench-portal: build
	bash .ci/bench-portal

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings
