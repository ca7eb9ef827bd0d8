#!/usr/bin/env bash
# Issue 18's GPU measurements in one run on the lent GPU machine (docs/speed.md, "On a GPU"), as
# ../shared/device/README.md describes. Here, first:
#   bash ../shared/device/make-kit.sh
#   mkdir -p .device-kit/data .device-kit/reference
#   cp ../shared/data/amazon-2018/games/Games.{inter,item}.gz .device-kit/data/
#   cp runs/data/games/text_emb_all-mpnet-base-v2.npy .device-kit/data/    # scripts/results.sh makes it
#   cp ../shared/reference/seed_reference.py .device-kit/reference/
# then one device run, carry [".device-kit"], timeout about 540 s:
#   bash scripts/gpu-check.sh
# It builds build-gpu (with the test binary), prepares Games, checks that no training step waits
# for the device (SyncFreeStep test), runs every option and config on cuda (DeviceOptions tests),
# `bench train --device cuda` at batch 1024 / 4096 / 8192 beside the reference eager and with
# --compile reduce-overhead, and configs/best.yaml on Games (epoch seconds, test Recall@10).
# Everything goes to $OUT (default runs/gpu-check); a step that fails is logged and the next one
# runs. To check the script itself here on the CPU:
#   SKIP_BUILD=1 BIN=build DEVICE=cpu STEPS=3 BATCHES=1024 BEST_ARGS="training.num_epochs=1" \
#     OUT=/tmp/gpu-check scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-check}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-200}
BATCHES=${BATCHES:-1024 4096 8192}
read -r -a BEST <<< "${BEST_ARGS:-}"
BIN=${BIN:-build-gpu}
THREADS=${THREADS:-$(nproc)}
KIT=.device-kit
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
step() { echo "== $(date +%T) $*"; }

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

step "no step waits for the device (tests/cuda/sync_free_step_test.cc)"
if [[ -x $BIN/tests/twotower_tests ]]; then
  TORCH_SHOW_CPP_STACKTRACES=1 timeout 120 $BIN/tests/twotower_tests --gtest_filter='SyncFreeStep*:EpochRunner*' \
    > "$OUT/sync_free_step.txt" 2>&1
  grep -E "^\[  (PASSED|FAILED|SKIPPED)|Failure|waited for the device" "$OUT/sync_free_step.txt" | head -40
fi

step "every option and config on $DEVICE (tests/device_options_test.cc)"
if [[ -x $BIN/tests/twotower_tests ]]; then
  timeout 240 $BIN/tests/twotower_tests --gtest_filter='DeviceOptions*' \
    > "$OUT/device_options.txt" 2>&1
  tail -3 "$OUT/device_options.txt"
fi

step "bench train --device $DEVICE, reference eager, batch 1024"
$TT bench train --data "$DATA" --device "$DEVICE" --threads "$THREADS" --max-steps "$STEPS" --rounds 1 \
  --work-dir "$OUT/bench-eager" data.text_embeddings="$TEXT" > "$OUT/bench-eager-1024.txt" 2>&1
tail -6 "$OUT/bench-eager-1024.txt"
for b in $BATCHES; do
  step "bench train --device $DEVICE, reference --compile reduce-overhead, batch $b"
  $TT bench train --data "$DATA" --device "$DEVICE" --threads "$THREADS" --max-steps "$STEPS" --rounds 1 \
    --reference-compile reduce-overhead --work-dir "$OUT/bench-compiled" data.text_embeddings="$TEXT" \
    training.batch_size=$b > "$OUT/bench-compiled-$b.txt" 2>&1
  tail -4 "$OUT/bench-compiled-$b.txt"
done

step "configs/best.yaml on $DEVICE"
$TT train --config configs/best.yaml data.data_path="$DATA" training.device="$DEVICE" \
  training.output_dir="$OUT/best" "${BEST[@]}" > "$OUT/best.log" 2>&1
$TT evaluate --run "$OUT/best" --no-baselines > "$OUT/best.eval" 2>&1
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
step done
rm -rf "$OUT/data" "$OUT"/bench-*/generated "$OUT"/bench-*/prepared "$OUT"/bench-*/*.inter "$OUT"/bench-*/*.npy
