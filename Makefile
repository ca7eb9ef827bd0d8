# The two commands for a fresh machine are `make demo` and `make test`; each sets up what is missing.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

.PHONY: setup build test test-unit demo bench clean

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

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

clean:
	rm -rf $(BUILD_DIR)
