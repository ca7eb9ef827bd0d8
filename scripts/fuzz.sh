#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, in the sanitizer build: scripts/sanitizer_build.sh) and runs
# each for FUZZ_SECONDS (default 60), or for FUZZ_RUNS inputs with a fixed seed (reproducible), from
# its seed corpus (fuzz/corpus/TARGET) plus what earlier runs found (build-asan/fuzz-runs/corpus/TARGET),
# FUZZ_JOBS (default 2) at a time. A crash, leak, sanitizer report or timeout stops with the
# reproducer's path; every one found becomes a regression test. Prints the CPU seconds each used.
#   scripts/fuzz.sh [TARGET ...]     (default: every fuzz/*_fuzz.cc)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
limit=(-max_total_time="$SECONDS_EACH")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS" -seed=1)
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
bash scripts/sanitizer_build.sh twotower_fuzz_targets
BIN=$BUILD_DIR/fuzz
OUT=$BUILD_DIR/fuzz-runs
mkdir -p "$OUT"
# Leaks inside libraries we do not build, each described in fuzz/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi
each="$SECONDS_EACH s"; [ -n "${FUZZ_RUNS:-}" ] && each="$FUZZ_RUNS runs (seed 1)"
echo "fuzz: ${#targets[@]} targets, $each each, ${FUZZ_JOBS:-2} at a time, on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
# checkpoint_fuzz runs in libFuzzer's fork mode (-fork=1: one child process after another on the
# shared corpus), its out-of-memory and crashing children counted and kept as artifacts but not
# stopping the run, for what LibTorch's archive reader does on hostile bytes that our code cannot
# change (docs/robustness.md): it allocates the lengths an archive states before reading them (4
# and 25 GB from a 34 KB file), reads a storage past the end of a record shorter than the archive
# declares (a heap overrun under AddressSanitizer), and the process grows with every archive it
# reads. Each artifact is triaged by hand: ours become regression tests, LibTorch's are listed.
forked() { [ "$1" = checkpoint_fuzz ]; }
# One target: its log in $OUT/TARGET.log, its one-line result in $OUT/TARGET.result.
run_target() {
  local t=$1 corpus=$OUT/corpus/$1 largest max_len mode user sys cpu done_runs ooms
  # Inputs up to 4 KiB, or twice the largest seed (a checkpoint seed is 34 KB).
  largest=$(find "fuzz/corpus/$t" -type f -printf '%s\n' | sort -n | tail -1)
  max_len=$(( ${largest:-0} * 2 > 4096 ? ${largest:-0} * 2 : 4096 ))
  mkdir -p "$corpus" "$OUT/artifacts"
  mode=(); forked "$t" && mode=(-fork=1 -ignore_ooms=1 -ignore_crashes=1 -malloc_limit_mb=2048)
  if ! /usr/bin/time -f "%U %S" -o "$OUT/$t.time" "$BIN/$t" "${limit[@]}" "${mode[@]}" -timeout=10 \
      -rss_limit_mb=2048 -max_len=$max_len -artifact_prefix="$OUT/artifacts/$t-" "$corpus" "fuzz/corpus/$t" \
      >"$OUT/$t.log" 2>&1; then
    { echo "fuzz: $t FAILED, see $OUT/$t.log:"; grep -E "ERROR|SUMMARY|Test unit written" "$OUT/$t.log" | head -5; } \
      >"$OUT/$t.result"
    return 1
  fi
  read -r user sys <"$OUT/$t.time"
  cpu=$(awk "BEGIN {print $user + $sys}")
  # "Done N runs" in a plain run; the last "#N: cov: ..." status line in fork mode.
  done_runs=$(grep -oE "Done [0-9]+ runs" "$OUT/$t.log" | grep -oE "[0-9]+" || true)
  [ -n "$done_runs" ] || done_runs=$(grep -oE "^#[0-9]+:" "$OUT/$t.log" | tail -1 | tr -d '#:')
  ooms=$(grep -oE "oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+" "$OUT/$t.log" | tail -1 || true)
  [ -n "$ooms" ] && done_runs="$done_runs ($ooms)"
  echo "fuzz: $t ok, $done_runs runs, $cpu CPU s" >"$OUT/$t.result"
}
# FUZZ_JOBS targets at a time (default 2, one a core here); each is one process (checkpoint_fuzz's
# fork mode runs one child at a time), so a time limit stays the target's own.
jobs_at_once=${FUZZ_JOBS:-2}
failed=0
pids=(); names=()
wait_one() {
  local i=$1
  wait "${pids[$i]}" || failed=1
  cat "$OUT/${names[$i]}.result"
}
for t in "${targets[@]}"; do
  if ((${#pids[@]} >= jobs_at_once)); then
    wait_one 0
    pids=("${pids[@]:1}"); names=("${names[@]:1}")
  fi
  run_target "$t" & pids+=($!); names+=("$t")
done
for i in "${!pids[@]}"; do wait_one "$i"; done
exit "$failed"
