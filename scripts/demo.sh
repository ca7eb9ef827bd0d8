#!/usr/bin/env bash
# The main job on an embedded default: generate an Amazon-format data set with planted clusters,
# prepare it, train the default configuration (configs/default.yaml: the sequence model, which
# reads item ids and histories, no text), evaluate on the test split against popularity, item-kNN
# and EASE. Everything lands in demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
TT=build/twotower
OUT=${DEMO_OUT:-demo-out}
EPOCHS=${DEMO_EPOCHS:-5}
mkdir -p "$OUT"

echo "== 1/4 generate: 2,000 users, 1,000 items, 40,000 reviews in 8 planted clusters"
$TT generate --out "$OUT/raw" --users 2000 --items 1000 --reviews 40000 --clusters 8 --seed 42

echo "== 2/4 prepare: per-user leave-last-out split"
$TT prepare --reviews "$OUT/raw/reviews.json.gz" --meta "$OUT/raw/meta.json.gz" --out "$OUT/data" --overwrite

echo "== 3/4 train: configs/default.yaml, at most $EPOCHS epochs chosen on validation, then the refit"
rm -rf "$OUT/run"
$TT train --config configs/default.yaml data.data_path="$OUT/data" training.num_epochs="$EPOCHS" \
  training.output_dir="$OUT/run"

echo "== 4/4 evaluate: test split, full ranking, seen items excluded, with baselines"
$TT evaluate --run "$OUT/run" --split test --k 10,20

echo
echo "demo done: $OUT/run holds config.yaml, train.log, history.json, training_history.png,"
echo "checkpoints/{last,best}.pt, user/item embeddings and metrics_test.json"
