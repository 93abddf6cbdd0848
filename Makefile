# Switchyard — the two commands: `make run` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
RELEASE_DIR := .build/release

.PHONY: all build run run-edge modbus-demo test bench deps clean fuzz fuzz-build

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
	$(SWIFT) run --skip-build $(BUILD_FLAGS) switchyard pack lint DeviceProfiles/sunspec

# Benchmarks print figures; they are not pass/fail tests.
bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release $(BUILD_FLAGS)
	SWITCHYARD_BENCH_POSTGRES_URL=$$(scripts/test-postgres.sh start) $(RELEASE_DIR)/switchyard-bench --plugins $(RELEASE_DIR)

# libFuzzer targets (docs/fuzzing.md), built apart in .build-fuzz so the normal
# build is untouched. `make fuzz SECONDS=N` runs each target N seconds; new
# corpus entries go to .build-fuzz/corpus, crashes to Fuzz/crashes/NAME (check
# them in: the test suite replays them). `make test` replays the checked-in
# corpora and crashes through the same entry functions (FuzzReplayTests).
SECONDS ?= 60
FUZZ_TARGETS := json config profile registers patch envelope http parameters
FUZZ_BIN := .build-fuzz/release/switchyard-fuzz

fuzz-build:
	$(SWIFT) build --product switchyard-fuzz --scratch-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xcc -DSWITCHYARD_FUZZING

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$t Fuzz/crashes/$$t; \
		echo "== fuzz target $$t, $(SECONDS) s"; \
		SWITCHYARD_FUZZ_TARGET=$$t SWITCHYARD_FUZZ_PROFILES=DeviceProfiles $(FUZZ_BIN) .build-fuzz/corpus/$$t Fuzz/corpus/$$t \
			-max_total_time=$(SECONDS) -max_len=16384 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=Fuzz/crashes/$$t/ \
			-print_final_stats=1 || exit 1; \
	done

clean:
	rm -rf .build .build-fuzz
