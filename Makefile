# Switchyard — the two commands: `make run` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
RELEASE_DIR := .build/release

.PHONY: all build run modbus-demo test bench deps clean

all: build

deps:
	@scripts/install-deps.sh run

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# Runs the edge on the embedded simulated site until Ctrl-C.
run: build
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
