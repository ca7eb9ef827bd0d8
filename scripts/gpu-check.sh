#!/usr/bin/env bash
# The GPU measurements in one run on the lent GPU machine (docs/speed.md, "On a GPU"), as
# ../shared/device/README.md describes. Here, first:
#   bash ../shared/device/make-kit.sh
#   mkdir -p .device-kit/data .device-kit/reference
#   cp ../shared/data/amazon-2018/games/Games.{inter,item}.gz .device-kit/data/
#   cp runs/data/games/text_emb_all-mpnet-base-v2.npy .device-kit/data/    # scripts/results.sh makes it
#   cp ../shared/reference/seed_reference.py .device-kit/reference/
# then one device run, carry [".device-kit"], timeout about 540 s:
#   bash scripts/gpu-check.sh
# It builds build-gpu (with the test binary), prepares Games, runs the GPU-only tests (no
# training step waits for the device; replays of the captured step train as eager steps), then
# `bench train --device cuda` on Games at batch 1024 beside the reference eager (twotower eager and
# with training.cuda_graph), at batch 1024 / 4096 / 8192 beside the reference with --compile
# reduce-overhead, at the reference's sizes (each bench also gives both systems' peak device memory
# and the kernels' share of 20 traced warm-up steps), configs/best.yaml on Games (epoch seconds, test
# Recall@10) and last every option and config on cuda (DeviceOptions tests). Everything goes to
# $OUT (default runs/gpu-check); a step that fails is logged and the next one runs. To check the
# script itself here on the CPU (GRAPH= leaves training.cuda_graph out, which the CPU refuses):
#   SKIP_BUILD=1 BIN=build DEVICE=cpu STEPS=3 BATCHES=1024 GRAPH= BEST_ARGS="training.num_epochs=1" \
#     OUT=/tmp/gpu-check scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-check}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-200}
BATCHES=${BATCHES:-1024 8192 4096}
BUDGET=${BUDGET:-480}  # seconds from the start: a step that would begin later is skipped
read -r -a BEST <<< "${BEST_ARGS:-}"
read -r -a GRAPH_ARGS <<< "${GRAPH-training.cuda_graph=true}"
BIN=${BIN:-build-gpu}
THREADS=${THREADS:-$(nproc)}
KIT=.device-kit
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
step() { echo "== $(date +%T) ${SECONDS} s: $*"; }
# False, with a line saying so, once the budget is spent (the device run's limit is 600 s).
due() {
  ((SECONDS < BUDGET)) && return 0
  echo "   skipped: ${SECONDS} s of the ${BUDGET} s budget used"
  return 1
}

if [[ -z ${SKIP_BUILD:-} ]]; then
  step build
  bash $KIT/build.sh -DTWOTOWER_BUILD_TESTS=ON || exit 1
  export LD_LIBRARY_PATH=$PWD/$KIT/prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  # bench train runs the reference from ../shared/reference, which the device run does not send.
  mkdir -p ../shared/reference && cp $KIT/reference/seed_reference.py ../shared/reference/
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
fi
TT=$BIN/twotower
DATA=$OUT/data/games
TEXT=$KIT/data/text_emb_all-mpnet-base-v2.npy
[[ -f $TEXT ]] || TEXT=runs/data/games/text_emb_all-mpnet-base-v2.npy

step prepare
$TT prepare --reviews $KIT/data/Games.inter.gz --meta $KIT/data/Games.item.gz --out "$DATA" --overwrite -q ||
  $TT prepare --reviews ../shared/data/amazon-2018/games/Games.inter.gz \
    --meta ../shared/data/amazon-2018/games/Games.item.gz --out "$DATA" --overwrite -q || exit 1

step "no step waits for the device; replayed graphs train as eager steps (tests/cuda/)"
if [[ -x $BIN/tests/twotower_tests ]]; then
  TORCH_SHOW_CPP_STACKTRACES=1 timeout 150 $BIN/tests/twotower_tests \
    --gtest_filter='SyncFreeStep*:StepGraph*:EpochRunner*:StepTraceCuda*' > "$OUT/device_step_tests.txt" 2>&1
  grep -E "^\[  (PASSED|FAILED|SKIPPED)|Failure|waited for the device|largest difference" \
    "$OUT/device_step_tests.txt" | head -40
fi

# One bench run (at most 180 s): twotower and the reference on $DEVICE; NAME names its output.
bench() {
  local name=$1
  shift
  timeout 180 $TT bench train --device "$DEVICE" --threads "$THREADS" --max-steps "$STEPS" --rounds 1 "$@" \
    > "$OUT/bench-$name.txt" 2>&1
  tail -9 "$OUT/bench-$name.txt"
}
GAMES=(--data "$DATA" --work-dir "$OUT/bench-games" data.text_embeddings="$TEXT")
step "Games, batch 1024, reference eager: twotower with training.cuda_graph"
due && bench games-graph-1024 "${GAMES[@]}" "${GRAPH_ARGS[@]}"
step "Games, batch 1024, reference eager: twotower eager"
due && bench games-eager-1024 "${GAMES[@]}"
for b in $BATCHES; do
  step "Games, batch $b, reference --compile reduce-overhead: twotower with training.cuda_graph"
  due && bench "games-graph-compiled-$b" "${GAMES[@]}" --reference-compile reduce-overhead training.batch_size="$b" \
    "${GRAPH_ARGS[@]}"
  if [[ $b == 8192 ]]; then
    step "reference sizes (generated), batch 1024, reference eager: twotower with training.cuda_graph"
    due && bench refsizes-graph-1024 --generate 93543,159279,260000 --work-dir "$OUT/bench-refsizes" "${GRAPH_ARGS[@]}"
  fi
done

step "configs/best.yaml on $DEVICE"
due && timeout 120 $TT train --config configs/best.yaml data.data_path="$DATA" training.device="$DEVICE" \
  training.output_dir="$OUT/best" "${BEST[@]}" > "$OUT/best.log" 2>&1
[[ -d $OUT/best ]] && $TT evaluate --run "$OUT/best" --no-baselines > "$OUT/best.eval" 2>&1 &&
  grep -E "recall@10|ndcg@10" "$OUT/best.eval"
python3 - "$OUT/best" <<'PY'
import json, pathlib, sys
run = pathlib.Path(sys.argv[1])
for name in ("selection/history.json", "history.json"):
    f = run / name
    if f.exists():
        epochs = json.loads(f.read_text())["epochs"]
        print(name, "epochs", len(epochs), "sum of epoch seconds", round(sum(e["seconds"] for e in epochs), 2))
PY
step "every option and config on $DEVICE (tests/device_options_test.cc)"
if [[ -x $BIN/tests/twotower_tests ]] && due; then
  timeout $((BUDGET + 100 - SECONDS)) $BIN/tests/twotower_tests --gtest_filter='DeviceOptions*' > "$OUT/device_options.txt" 2>&1
  tail -3 "$OUT/device_options.txt"
fi
step done
rm -rf "$OUT/data" "$OUT"/bench-*/generated "$OUT"/bench-*/raw "$OUT"/bench-*/prepared "$OUT"/bench-*/*.inter "$OUT"/bench-*/*.npy
