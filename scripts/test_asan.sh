#!/usr/bin/env bash
# Builds the library, the CLI and the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (TWOTOWER_SANITIZE=ON, in build-asan/) and runs the unit tests (ctest -L unit). Any sanitizer
# report ends its test with a failure, a leak at exit (LeakSanitizer) included. Prints the build
# and test times.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
start=$SECONDS
# -O1, as the sanitizers' documentation advises: the build is shorter than at -O3 (docs/robustness.md)
# and the reports keep their stack frames.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DTWOTOWER_SANITIZE=ON \
  -DTWOTOWER_BUILD_BENCH=OFF -DTWOTOWER_BUILD_PYTHON=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target twotower_tests
built=$SECONDS
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
(cd "$BUILD_DIR" && ctest --output-on-failure -j 2 -L unit)
echo "test-asan: build $((built - start)) s, unit tests $((SECONDS - built)) s, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
