#!/usr/bin/env bash
# Trains the same seeded runs with two twotower binaries and compares what they produced bit for
# bit: the exported user/item embeddings and every history.json value but the timings. Used to
# show that a refactoring changed no result.
#   scripts/same_results.sh OLD_TWOTOWER NEW_TWOTOWER [WORK_DIR]
set -euo pipefail
OLD=$1 NEW=$2 WORK=${3:-/tmp/twotower-same-results}
cd "$(dirname "$0")/.."
rm -rf "$WORK" && mkdir -p "$WORK"
"$NEW" generate --out "$WORK/raw" --users 1500 --items 800 --reviews 30000 --clusters 8 --seed 7 >/dev/null 2>&1
"$NEW" prepare --reviews "$WORK/raw/reviews.json.gz" --meta "$WORK/raw/meta.json.gz" --out "$WORK/data" >/dev/null 2>&1
common="data.data_path=$WORK/data training.threads=2 data.emb_dim=8"
status=0
# The reference design with the speed options, pair.yaml, and pair.yaml with bf16 products where
# this CPU has them (the run is refused, and skipped here, where it does not).
for cfg in reference pair pair-bf16; do
  extra="training.num_epochs=2"
  [ "$cfg" = reference ] && extra="$extra training.embedding_optimizer=lazy_adam training.shared_user_tower=true model.use_text=false"
  [ "$cfg" = pair-bf16 ] && extra="$extra training.matmul_precision=bf16"
  for side in old new; do
    bin=$OLD; [ $side = new ] && bin=$NEW
    if ! "$bin" train --config configs/${cfg%-bf16}.yaml $common $extra training.output_dir="$WORK/$cfg-$side" \
        >"$WORK/$cfg-$side.log" 2>&1; then
      if grep -q "expected fp32 here" "$WORK/$cfg-$side.log"; then echo "$cfg: skipped (no bf16 product on this CPU)"
      else echo "$cfg: $side run failed:"; tail -2 "$WORK/$cfg-$side.log"; status=1; fi
      continue 2
    fi
  done
  for f in user_embeddings.npy item_embeddings.npy; do
    if cmp -s "$WORK/$cfg-old/$f" "$WORK/$cfg-new/$f"; then echo "$cfg: $f identical"; else echo "$cfg: $f DIFFERS"; status=1; fi
  done
  if python3 - "$WORK/$cfg-old/history.json" "$WORK/$cfg-new/history.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
drop = {"seconds", "pairs_per_s"}
strip = lambda h: [{k: v for k, v in e.items() if k not in drop} for e in h["epochs"]]
same = strip(a) == strip(b) and a["best_epoch"] == b["best_epoch"]
print(json.dumps(strip(b)[-1]))
sys.exit(0 if same else 1)
PY
  then echo "$cfg: history.json identical (timings aside)"; else echo "$cfg: history.json DIFFERS"; status=1; fi
done
exit $status
