#!/usr/bin/env bash
# The unit tests (ctest -L unit) of the sanitizer build (scripts/sanitizer_build.sh, build-asan/):
# any AddressSanitizer or UndefinedBehaviorSanitizer report ends its test with a failure, a leak
# at exit (LeakSanitizer) included. Prints the build and test times.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
start=$SECONDS
bash scripts/sanitizer_build.sh twotower_tests
built=$SECONDS
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
(cd "$BUILD_DIR" && ctest --output-on-failure -j 2 -L unit)
echo "test-asan: build $((built - start)) s, unit tests $((SECONDS - built)) s, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
