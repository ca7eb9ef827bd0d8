#!/usr/bin/env bash
# docs/quality.md's per-data-set tables: prepares Gift Cards, Fashion (5-core reviews,
# leave-last-out), the Magazine 5-core reviews and ratings CSV (global 80/10/10 time split, as
# scripts/results.sh), Games and Games subsampled to 2k, 8k and 20k users (`prepare --sample-users
# N --sample-seed 1`: users drawn uniformly, all their interactions kept), ids only (no metadata),
# and generated data (`twotower generate`: 20k users, 5k items, 300k reviews in 8 planted
# clusters, seed 1; leave-last-out);
# scores popularity, item-kNN and EASE on test (`evaluate --baselines-only`: fit on train + valid,
# EASE's lambda the best NDCG@10 on valid of its default grid, fit on train, or of EASE_LAMBDAS,
# e.g. EASE_LAMBDAS=200,500,1000), trains
# configs/pair.yaml refit on train + valid for its 4 epochs (data.seed 42) and configs/best.yaml
# (training.refit: its epochs selected on valid, then train + valid; SEEDS, default 42) unless
# NO_TRAIN=1, and prints one table per data set. ONLY=sequence runs the sequence model alone (the
# baselines and pair.yaml rows then print only where their files exist). Every step is skipped when its output exists, so a stopped run
# resumes. Needs ../shared/data. Usage: scripts/quality_tables.sh [NAME ...] (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data/amazon-2018
R=${RESULTS_DIR:-runs/quality}
TT=build/twotower
THREADS=${THREADS:-2}
[ -d "$D" ] || { echo "quality_tables: $D is absent (see the README's Data section)"; exit 1; }
mkdir -p "$R/data"

prepare() {  # NAME ARGS...: prepare into $R/data/NAME unless it is there
  local name=$1; shift
  [ -f "$R/data/$name/stats.json" ] || $TT prepare "$@" --out "$R/data/$name" --overwrite -q
}
prepare_all() {
  prepare gift_cards --reviews $D/gift_cards/Gift_Cards_5.json.gz
  prepare fashion --reviews $D/fashion/AMAZON_FASHION_5.json.gz
  prepare magazine --reviews $D/magazine/Magazine_Subscriptions_5.json.gz --split time
  prepare magazine_csv --reviews $D/magazine/Magazine_Subscriptions.csv.gz --split time
  for n in 2000 8000 20000; do
    prepare games_$n --reviews $D/games/Games.inter.gz --sample-users $n --sample-seed 1
  done
  prepare games --reviews $D/games/Games.inter.gz
  [ -f "$R/raw_generated/reviews.json.gz" ] || $TT generate --out "$R/raw_generated" --users 20000 --items 5000 \
    --reviews 300000 --review-words 0 --seed 1 > /dev/null
  prepare generated --reviews "$R/raw_generated/reviews.json.gz"
}

baselines() {  # NAME: popularity, item-kNN and EASE on test, with the fit's time and peak memory
  local name=$1
  [ -f "$R/$name.baselines.json" ] || /usr/bin/time -v $TT evaluate --data "$R/data/$name" --baselines-only \
    --split test --k 10,20 --threads $THREADS ${EASE_LAMBDAS:+--ease-lambdas $EASE_LAMBDAS} \
    --out "$R/$name.baselines.json" > "$R/$name.baselines.log" 2>&1
}

best_refit() {  # NAME: configs/pair.yaml on train + valid for its 4 epochs, scored on test
  local name=$1 run=$R/$name-best-refit
  [ -f "$run/metrics_test.json" ] && return
  $TT train --config configs/pair.yaml data.data_path="$R/data/$name" "data.train_splits=[train, valid]" \
    training.best_metric=train_loss training.output_dir="$run" training.threads=$THREADS > "$run.log" 2>&1
  $TT evaluate --run "$run" --split test --k 10,20 --no-baselines --threads $THREADS >> "$run.log" 2>&1
}

sequence_refit() {  # NAME: configs/best.yaml (selection on valid, then refit), per seed, on test
  local name=$1 seed run
  for seed in ${SEEDS:-42}; do
    run=$R/$name-sequence-$seed
    [ -f "$run/metrics_test.json" ] && continue
    /usr/bin/time -f "%e s wall" -o "$run.time" $TT train --config configs/best.yaml data.data_path="$R/data/$name" \
      data.seed=$seed training.output_dir="$run" training.threads=$THREADS > "$run.log" 2>&1
    $TT evaluate --run "$run" --split test --k 10,20 --no-baselines --threads $THREADS >> "$run.log" 2>&1
  done
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(gift_cards fashion magazine magazine_csv games_2000 games_8000 games_20000 games generated)
prepare_all
for name in "${names[@]}"; do
  if [ "${ONLY:-}" != sequence ]; then
    baselines "$name"
    [ "${NO_TRAIN:-0}" = 1 ] || best_refit "$name"
  fi
  [ "${NO_TRAIN:-0}" = 1 ] || sequence_refit "$name"
done
.venv/bin/python scripts/quality_table.py "$R" "${names[@]}"
