# Switchyard — the two commands: `make run` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
RELEASE_DIR := .build/release

.PHONY: all build run run-edge modbus-demo test bench deps clean

all: build

deps:
	@scripts/install-deps.sh run

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# The whole embedded stack until Ctrl-C: the config server (SQLite) with a
# demo organization, a simulated Modbus device, and an edge syncing from the server.
run: build
	scripts/demo-stack.sh .build/debug

# Only the edge, on the embedded simulated site (no server).
run-edge: build
	.build/debug/switchyard-edge run

# A Modbus site without hardware: simulated devices on Modbus TCP and an edge polling them.
modbus-demo: build
	scripts/modbus-demo.sh .build/debug

test:
	@scripts/install-deps.sh test
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	scripts/test-postgres.sh start > .build/test-postgres-url
	SWITCHYARD_TEST_POSTGRES_URL=$$(cat .build/test-postgres-url) $(SWIFT) test --skip-build $(BUILD_FLAGS)
	python3 scripts/check-profile-schema.py
	python3 scripts/sunspec-pack.py --check

# Benchmarks print figures; they are not pass/fail tests.
bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release $(BUILD_FLAGS)
	SWITCHYARD_BENCH_POSTGRES_URL=$$(scripts/test-postgres.sh start) $(RELEASE_DIR)/switchyard-bench --plugins $(RELEASE_DIR)

clean:
	rm -rf .build
