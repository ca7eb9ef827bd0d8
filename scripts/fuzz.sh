#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-16) and runs each for FUZZ_SECONDS (default 60), or
# for FUZZ_RUNS inputs with a fixed seed (reproducible: what CI runs), from
# its seed corpus (fuzz/corpus/TARGET) plus what earlier runs found (build-fuzz/corpus/TARGET).
# A crash, leak, sanitizer report or timeout stops with the reproducer's path; every one found
# becomes a regression test. Prints the CPU seconds each target used.
#   scripts/fuzz.sh [TARGET ...]     (default: every fuzz/*_fuzz.cc)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
limit=(-max_total_time="$SECONDS_EACH")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS" -seed=1)
CXX_CLANG=${FUZZ_CXX:-clang++-16}
mkdir -p build-fuzz
cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >build-fuzz/configure.log 2>&1 || { cat build-fuzz/configure.log; exit 1; }
cmake --build build-fuzz -j "$(nproc)"
# Leaks inside libraries we do not build, each described in fuzz/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
each="$SECONDS_EACH s"; [ -n "${FUZZ_RUNS:-}" ] && each="$FUZZ_RUNS runs (seed 1)"
echo "fuzz: ${#targets[@]} targets, $each each, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# checkpoint_fuzz runs in libFuzzer's fork mode (-fork=1: one child process after another on the
# shared corpus), its out-of-memory and crashing children counted and kept as artifacts but not
# stopping the run, for what LibTorch's archive reader does on hostile bytes that our code cannot
# change (docs/robustness.md): it allocates the lengths an archive states before reading them (4
# and 25 GB from a 34 KB file), reads a storage past the end of a record shorter than the archive
# declares (a heap overrun under AddressSanitizer), and the process grows with every archive it
# reads. Each artifact is triaged by hand: ours become regression tests, LibTorch's are listed.
forked() { [ "$1" = checkpoint_fuzz ]; }
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  # Inputs up to 4 KiB, or twice the largest seed (a checkpoint seed is 34 KB).
  largest=$(find "fuzz/corpus/$t" -type f -printf '%s\n' | sort -n | tail -1)
  max_len=$(( ${largest:-0} * 2 > 4096 ? ${largest:-0} * 2 : 4096 ))
  mkdir -p "$corpus" build-fuzz/artifacts
  mode=(); forked "$t" && mode=(-fork=1 -ignore_ooms=1 -ignore_crashes=1 -malloc_limit_mb=2048)
  /usr/bin/time -f "%U %S" -o "build-fuzz/$t.time" "build-fuzz/$t" "${limit[@]}" "${mode[@]}" -timeout=10 \
      -rss_limit_mb=2048 -max_len=$max_len -artifact_prefix="build-fuzz/artifacts/$t-" "$corpus" "fuzz/corpus/$t" \
      >"build-fuzz/$t.log" 2>&1 || { echo "fuzz: $t FAILED, see build-fuzz/$t.log:"; grep -E "ERROR|SUMMARY|Test unit written" "build-fuzz/$t.log" | head -5; exit 1; }
  read -r user sys <"build-fuzz/$t.time"
  cpu=$(awk "BEGIN {print $user + $sys}")
  # "Done N runs" in a plain run; the last "#N: cov: ..." status line in fork mode.
  done_runs=$(grep -oE "Done [0-9]+ runs" "build-fuzz/$t.log" | grep -oE "[0-9]+" || true)
  [ -n "$done_runs" ] || done_runs=$(grep -oE "^#[0-9]+:" "build-fuzz/$t.log" | tail -1 | tr -d '#:')
  ooms=$(grep -oE "oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+" "build-fuzz/$t.log" | tail -1 || true)
  [ -n "$ooms" ] && done_runs="$done_runs ($ooms)"
  echo "fuzz: $t ok, $done_runs runs, $cpu CPU s"
done
