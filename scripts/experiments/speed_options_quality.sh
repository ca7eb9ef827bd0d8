#!/usr/bin/env bash
# What each speed option does to results (docs/speed.md, "Which speed options change results"):
# configs/best.yaml (one command: selection, then refit) and configs/pair.yaml (refit on train +
# valid, 4 epochs) on Games, seed 42, each with the defaults and with one option changed at a time,
# evaluated on the test split (Recall/NDCG@10), with the wall time of the train command. A run
# already evaluated in OUT is kept. Then the table: one row per run, and for each option whether
# its embeddings equal the defaults' bit for bit.
#   scripts/experiments/speed_options_quality.sh [OUT] [DATA]     # defaults: runs/speed_options, runs/data/games
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/speed_options}
DATA=${2:-runs/data/games}
THREADS=${THREADS:-2}
BIN=build/twotower
[[ -x $BIN ]] || { echo "speed_options_quality: $BIN not built (make build)" >&2; exit 1; }
[[ -f $DATA/interactions_mapped.parquet ]] || { echo "speed_options_quality: $DATA is not a prepared folder" >&2; exit 1; }
mkdir -p "$OUT"

OPTIONS=(
  "defaults|"
  "fused_adam=false|training.fused_adam=false"
  "prefetch=false|training.prefetch=false"
  "cpu_matmul=torch|training.cpu_matmul=torch"
  "matmul_precision=bf16|training.matmul_precision=bf16"
  "embedding_optimizer=lazy_adam|training.embedding_optimizer=lazy_adam"
  "shared_user_tower=true|training.shared_user_tower=true"
)

run() {  # config name option-args...
  local config=$1 name=$2
  shift 2
  local dir=$OUT/$(basename "$config" .yaml)-$name
  [[ -f $dir/metrics_test.json ]] && return
  local extra=()
  [[ $config == configs/pair.yaml ]] && extra=("data.train_splits=[train, valid]" training.best_metric=train_loss)
  local start=$(date +%s.%N)
  "$BIN" train --config "$config" data.data_path="$DATA" training.threads="$THREADS" training.output_dir="$dir" \
    "${extra[@]}" "$@" > "$dir.log" 2>&1
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' > "$dir.wall"
  "$BIN" evaluate --run "$dir" --no-baselines > "$dir.eval" 2>&1
}

for config in configs/pair.yaml configs/best.yaml; do
  for entry in "${OPTIONS[@]}"; do
    name=${entry%%|*}
    args=${entry#*|}
    echo "== $config $name"
    # shellcheck disable=SC2086
    run "$config" "${name//=/-}" $args
  done
done

.venv/bin/python - "$OUT" <<'PY'
import hashlib, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
def digest(d):
    return hashlib.sha256((d / "user_embeddings.npy").read_bytes() + (d / "item_embeddings.npy").read_bytes()).hexdigest()
print("| config | option | Recall@10 | NDCG@10 | train wall s | embeddings equal the defaults' |")
print("|---|---|---|---|---|---|")
for config in ("pair", "best"):
    base = out / f"{config}-defaults"
    for d in sorted(out.glob(f"{config}-*/")):
        m = json.loads((d / "metrics_test.json").read_text())
        r, n = m["recall@10"], m["ndcg@10"]
        wall = float((out / (d.name + ".wall")).read_text())
        same = "-" if d == base else ("yes" if digest(d) == digest(base) else "no")
        print(f"| {config}.yaml | {d.name[len(config) + 1:]} | {r:.4f} | {n:.4f} | {wall:.0f} | {same} |")
PY
