#!/usr/bin/env bash
# Reproduces the README's results table: prepares Games (leave-last-out), the Magazine 5-core
# reviews with their metadata and the Magazine ratings CSV (both with a global 80/10/10 time
# split), embeds the Games titles with all-mpnet-base-v2, trains the reference, the best (=
# default) and the pair configurations, evaluates each on test with the popularity, item-kNN and EASE
# baselines, prints the table. Needs ../shared/data. Took 8.9 minutes on 2 idle cores in session
# 4 (the title embeddings 4.5 of them).
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data/amazon-2018
R=${RESULTS_DIR:-runs}
TT=build/twotower
[ -d "$D" ] || { echo "results: $D is absent (see the README's Data section)"; exit 1; }
$TT prepare --reviews $D/games/Games.inter.gz --meta $D/games/Games.item.gz --out $R/data/games --overwrite -q
$TT prepare --reviews $D/magazine/Magazine_Subscriptions.csv.gz --split time --out $R/data/magazine_csv --overwrite -q
$TT prepare --reviews $D/magazine/Magazine_Subscriptions_5.json.gz --meta $D/magazine/meta_Magazine_Subscriptions.json.gz \
  --split time --out $R/data/magazine --overwrite -q
$TT embed --data $R/data/games --model all-mpnet-base-v2 --threads 2

$TT train --config configs/reference.yaml data.data_path=$R/data/games training.output_dir=$R/games-reference training.threads=2
$TT train --config configs/reference.yaml data.data_path=$R/data/games \
  data.text_embeddings=$R/data/games/text_emb_all-mpnet-base-v2.npy training.output_dir=$R/games-reference-mpnet training.threads=2
$TT train --config configs/best.yaml data.data_path=$R/data/games training.output_dir=$R/games-best training.threads=2
$TT train --config configs/pair.yaml data.data_path=$R/data/games training.num_epochs=1 \
  training.output_dir=$R/games-pair-1epoch training.threads=2
$TT train --config configs/pair.yaml data.data_path=$R/data/games "data.train_splits=[train, valid]" \
  training.best_metric=train_loss training.output_dir=$R/games-pair-refit training.threads=2
$TT train --config configs/reference.yaml data.data_path=$R/data/magazine training.output_dir=$R/magazine-reference training.threads=2
$TT train --config configs/reference.yaml data.data_path=$R/data/magazine_csv training.output_dir=$R/magazine_csv-reference training.threads=2
$TT train --config configs/best.yaml data.data_path=$R/data/magazine_csv training.output_dir=$R/magazine_csv-best training.threads=2
# EASE (lambda searched on valid: 7 fits, minutes on Games) with the first run of each data set
# alone: the table takes the baselines from there.
for run in games-reference games-reference-mpnet games-best games-pair-1epoch games-pair-refit magazine-reference magazine_csv-reference magazine_csv-best; do
  case $run in games-reference|magazine-reference|magazine_csv-reference) ease="" ;; *) ease=--no-ease ;; esac
  $TT evaluate --run $R/$run --split test --k 10,20 $ease > $R/$run.eval
done
.venv/bin/python scripts/results_table.py \
  "Games: reference config=$R/games-reference" \
  "Games: reference config + all-mpnet-base-v2 titles=$R/games-reference-mpnet" \
  "Games: configs/best.yaml (one command: selection on valid, then refit)=$R/games-best" \
  "Games: configs/pair.yaml, 1 epoch=$R/games-pair-1epoch" \
  "Games: configs/pair.yaml, refit on train+valid=$R/games-pair-refit" \
  "Magazine 5-core + metadata: reference config (category, brand)=$R/magazine-reference" \
  "Magazine CSV: reference config=$R/magazine_csv-reference" \
  "Magazine CSV: configs/best.yaml (one command)=$R/magazine_csv-best"
