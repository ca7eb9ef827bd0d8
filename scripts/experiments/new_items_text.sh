#!/usr/bin/env bash
# How an untrained new item's vector ranks before any update when the item tower reads the title
# (docs/continued_training.md). The Games position split of continued_training.sh
# (its OUT/old.inter and OUT/new.inter), with the titles of Games.item.gz:
#   1. the old part prepared with the metadata of its reviewed items only, so that the items first
#      seen in the new part are new at the extend;
#   2. titles embedded with all-mpnet-base-v2 (twotower embed, its cache copied from DATA_CACHE
#      when given, so only titles not embedded before are computed);
#   3. configs/pair.yaml with the titles (model.use_text) and model.item_id_dropout 0.3 trained on
#      the old part;
#   4. the new part extends it with the catalogue (prepare --extend --meta), its new titles
#      embedded, and train --init-from writes init_from.json: the rank of every validation target
#      whose item is new, before any update, beside the old items' targets.
#   scripts/experiments/new_items_text.sh [OUT] [DATA_CACHE]
#   scripts/experiments/new_items_text.sh runs/continued_seq runs/data/games/embed_cache
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/continued}
CACHE=${2:-}
THREADS=${THREADS:-2}
TT=build/twotower
META=../shared/data/amazon-2018/games/Games.item.gz
[ -f "$META" ] || { echo "new_items_text: $META is absent (see shared/data/README.md)"; exit 1; }
[ -f "$OUT/new.inter" ] || { echo "new_items_text: $OUT/new.inter is absent: run scripts/experiments/continued_training.sh $OUT first"; exit 1; }
W=$OUT/text
mkdir -p "$W"
EMB=text_emb_all-mpnet-base-v2.npy
TEXT="model.use_text=true data.emb_dim=768 model.item_id_dropout=0.3 training.threads=$THREADS"
[ -d "$W/data_old" ] || {
  $TT prepare --reviews "$OUT/old.inter" --meta "$META" --reviewed-items-only --out "$W/data_old" --overwrite -q
  [ -z "$CACHE" ] || cp -r "$CACHE" "$W/data_old/embed_cache"
}
[ -f "$W/data_old/$EMB" ] || $TT embed --data "$W/data_old" --model all-mpnet-base-v2 --threads "$THREADS"
[ -f "$W/old/metrics_test.json" ] || {
  $TT train --config configs/pair.yaml data.data_path="$W/data_old" data.text_embeddings="$W/data_old/$EMB" $TEXT \
    training.output_dir="$W/old" > "$W/old.log" 2>&1
  $TT evaluate --run "$W/old" --split test --k 10 --no-baselines > "$W/old.eval"
}
[ -d "$W/data_new" ] || $TT prepare --extend "$W/data_old" --reviews "$OUT/new.inter" --meta "$META" --out "$W/data_new" --overwrite
[ -f "$W/data_new/$EMB" ] || $TT embed --data "$W/data_new" --model all-mpnet-base-v2 --threads "$THREADS"
[ -f "$W/continued/init_from.json" ] ||
  $TT train --config configs/pair.yaml data.data_path="$W/data_new" data.text_embeddings="$W/data_new/$EMB" $TEXT \
    --init-from "$W/old" training.num_epochs=1 training.output_dir="$W/continued" > "$W/continued.log" 2>&1
.venv/bin/python -c "import json, sys; print(json.dumps(json.load(open(sys.argv[1]))['new_item_ranks'], indent=1))" \
  "$W/continued/init_from.json"
