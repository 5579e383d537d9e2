# Two commands: `make up` runs Ordo, `make test` passes the tests. Both set up a fresh machine first.
CARGO ?= cargo
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup build up test lint record-histories

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

# Re-records the replay fixtures (after a deliberate workflow change made with the patching API).
record-histories: setup
	$(CARGO) test -p ordo --test record_histories -- --ignored --nocapture
