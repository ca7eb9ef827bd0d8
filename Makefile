# The two commands for a fresh machine are `make demo` and `make test`; each sets up what is missing.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

.PHONY: setup build test test-unit test-asan demo bench clean fuzz

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2

# The fast tests alone (tiny inline data; no shared data sets, CLI runs, long trainings or
# PyTorch reference): the labels are set in tests/CMakeLists.txt.
test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 -L unit

# The unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/; any
# report fails the test): scripts/test_asan.sh.
test-asan: setup
	bash scripts/test_asan.sh

demo: build
	bash scripts/demo.sh

# Every Google Benchmark program of bench/ in turn; each prints the command that ran it and the
# machine (CPU, cores, load) before its figures. BENCH_ARGS goes to each, e.g.
# make bench BENCH_ARGS=--benchmark_filter=fused
bench: build
	@set -e; for b in $(BUILD_DIR)/bench/*_bench; do echo "== $$b $(BENCH_ARGS)"; "$$b" $(BENCH_ARGS); done

clean:
	rm -rf $(BUILD_DIR)

# libFuzzer targets for the readers (fuzz/, clang-16): each runs FUZZ_SECONDS (default 60).
fuzz: setup
	bash scripts/fuzz.sh
