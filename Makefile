# Two commands: `make up` runs Ordo, `make test` passes the tests. Both set up a fresh machine first.
CARGO ?= cargo
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup build up test lint record-histories bench

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) build --bin ordo

up: build
	./target/debug/ordo up

test: setup
	scripts/test.sh

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Records the replay fixtures that are missing (after a deliberate workflow change made with the
# patching API). Provisioning's and hooks' record tests keep the files already there: delete one to
# record it again.
record-histories: setup
	$(CARGO) test -p ordo --test record_histories -- --ignored --nocapture
	$(CARGO) test -p ordo --test application -- --ignored record --nocapture
	$(CARGO) test -p ordo-hooks --test hooks -- --ignored record_lifecycle_histories  # writes only missing files

# Benchmarks on a release build (about 20 minutes on 2 cores): Ordo against the skeleton, trivial and
# Python references, shared and pinned, 1,000 parked runs; then the chaos suite at its large size; then a
# release of 20 deploys x 4 environments against its no-op skeleton.
# Reports go to bench/results/ (see bench/README.md).
bench: setup
	$(CARGO) build --release --bin ordo --bin ordo-bench
	./target/release/ordo-bench provision --runs 300 --concurrency 20 --pin --parked 1000
	./target/release/ordo-bench chaos --runs 200 --workers 4 --kill-every-secs 3
	./target/release/ordo-bench release --deploys 20 --error-rate 30 --rounds 3
	./target/release/ordo-bench hooks --rate 200 --rate-requests 2000 --requests 3000 --process-requests 200
	./target/release/ordo-bench orders --orders 300 --chaos-orders 1000 --chaos-workers 3 --kill-every-secs 5 --failure-rate 0.3
