#!/usr/bin/env bash
# The one sanitizer build (build-asan/, or ASAN_BUILD_DIR): clang-16 with AddressSanitizer and
# UndefinedBehaviorSanitizer, libFuzzer's coverage hooks in every object, at -O1 (as the
# sanitizers' documentation advises: shorter to build than -O3, and reports keep their frames).
# `make test-asan` runs its unit tests (scripts/test_asan.sh), `make fuzz` its fuzz targets
# (scripts/fuzz.sh); neither needs the CLI, the Python module or the benchmark programs.
#   scripts/sanitizer_build.sh TARGET...     configures if needed, then builds the targets
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
CXX_CLANG=${FUZZ_CXX:-clang++-16}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  mkdir -p "$BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" -DTWOTOWER_SANITIZE=ON -DTWOTOWER_BUILD_FUZZ=ON \
    -DTWOTOWER_BUILD_BENCH=OFF -DTWOTOWER_BUILD_PYTHON=OFF >"$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; rm -f "$BUILD_DIR/build.ninja"; exit 1; }
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "$@"
