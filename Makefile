# Switchyard — the two commands: `make run` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
RELEASE_DIR := .build/release

.PHONY: all build run run-edge modbus-demo test test-plugins sdk-check docs sdk-split bench deps clean fuzz fuzz-build

all: build

deps:
	@scripts/install-deps.sh run

# Builds before issue 24 put the test-only libTestProbe.so beside the shipped
# plugins, where every edge loaded it; an upgraded tree drops that stale copy.
STALE_TEST_PLUGINS := .build/debug/libTestProbe.so .build/release/libTestProbe.so

build: deps
	rm -f $(STALE_TEST_PLUGINS)
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
	$(MAKE) test-plugins sdk-check
	python3 scripts/sdk-reference.py --check
	scripts/test-postgres.sh start > .build/test-postgres-url
	SWITCHYARD_TEST_POSTGRES_URL=$$(cat .build/test-postgres-url) $(SWIFT) test --skip-build $(BUILD_FLAGS)
	python3 scripts/check-profile-schema.py
	python3 scripts/sunspec-pack.py --check
	$(SWIFT) run --skip-build $(BUILD_FLAGS) switchyard pack lint DeviceProfiles/sunspec

# The test-only plugins (Tests/Plugins/TestProbe), a package of their own built
# against SDK/ into .build/test-plugins, where the tests load them from (they
# build it themselves when it is missing). A stale copy in the shipped folders
# is removed, so the tests do not see it twice.
TEST_PLUGINS_CONFIG ?= debug
test-plugins:
	rm -f $(STALE_TEST_PLUGINS)
	$(SWIFT) build --package-path Tests/Plugins/TestProbe --scratch-path .build/test-plugins -c $(TEST_PLUGINS_CONFIG)

# The plugin SDK (SDK/, docs/plugins.md "Depending on the SDK"): the
# walkthrough plugin built out of tree against it alone, its exports and its
# version (scripts/sdk-check.sh, scratch .build/sdk-check).
sdk-check:
	SWIFT=$(SWIFT) scripts/sdk-check.sh

# The SDK reference (docs/reference/), generated from the kit's symbol graphs
# and the header's comments; `make test` checks it is current. With docc in
# the toolchain, also a browsable archive in .build/sdk-check/SwitchyardPluginKit.doccarchive.
docs:
	SWIFT=$(SWIFT) scripts/sdk-check.sh --build-only
	python3 scripts/sdk-reference.py
	@if command -v docc >/dev/null; then \
		rm -rf .build/sdk-check/symbolgraph-kit && mkdir -p .build/sdk-check/symbolgraph-kit && \
		cp .build/sdk-check/symbolgraph/SwitchyardPluginKit*.symbols.json .build/sdk-check/symbolgraph-kit/ && \
		docc convert --additional-symbol-graph-dir .build/sdk-check/symbolgraph-kit \
			--fallback-display-name SwitchyardPluginKit --fallback-bundle-identifier switchyard.plugin-kit \
			--output-path .build/sdk-check/SwitchyardPluginKit.doccarchive >/dev/null && \
		echo "DocC archive: .build/sdk-check/SwitchyardPluginKit.doccarchive"; \
	fi

# Publishes SDK/ as its own repository (SwiftPM needs Package.swift at a
# repository's root): git subtree split, pushed to SDK_REMOTE's main, tagged
# with SDK/VERSION.
sdk-split:
	scripts/sdk-split.sh "$(SDK_REMOTE)"

# Benchmarks print figures; they are not pass/fail tests.
bench:
	@scripts/install-deps.sh bench
	$(SWIFT) build -c release $(BUILD_FLAGS)
	$(MAKE) test-plugins TEST_PLUGINS_CONFIG=release
	SWITCHYARD_BENCH_POSTGRES_URL=$$(scripts/test-postgres.sh start) $(RELEASE_DIR)/switchyard-bench --plugins $(RELEASE_DIR) --test-plugins .build/test-plugins/release

# libFuzzer targets (docs/fuzzing.md), built apart in .build-fuzz so the normal
# build is untouched. `make fuzz SECONDS=N` runs each target N seconds; new
# corpus entries go to .build-fuzz/corpus, crashes to Fuzz/crashes/NAME (check
# them in: the test suite replays them). `make test` replays the checked-in
# corpora and crashes through the same entry functions (FuzzReplayTests).
SECONDS ?= 60
FUZZ_TARGETS := json config profile registers patch envelope http parameters pack chunk
FUZZ_BIN := .build-fuzz/release/switchyard-fuzz

fuzz-build:
	$(SWIFT) build --product switchyard-fuzz --scratch-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xcc -DSWITCHYARD_FUZZING

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$t Fuzz/crashes/$$t; \
		echo "== fuzz target $$t, $(SECONDS) s"; \
		SWIFT_BACKTRACE=enable=no SWITCHYARD_FUZZ_TARGET=$$t SWITCHYARD_FUZZ_PROFILES=DeviceProfiles $(FUZZ_BIN) .build-fuzz/corpus/$$t Fuzz/corpus/$$t \
			-max_total_time=$(SECONDS) -max_len=16384 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=Fuzz/crashes/$$t/ \
			-print_final_stats=1 || exit 1; \
	done

clean:
	rm -rf .build .build-fuzz
