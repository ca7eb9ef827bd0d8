#!/usr/bin/env bash
# Continued training measured (docs/continued_training.md) on one of two splits into "old" and "new":
#   DATA=games (default)  Games, each user's history split by position: per user the first 80%
#                         (floor, at least 1) old, the rest new. Both parts leave-last-out, so
#                         each user's test item is their last new one.
#   DATA=magazine_csv     the Magazine ratings CSV split by time: all interactions sorted by
#                         timestamp (ties in file order), the first floor(80%) old, the rest new.
#                         Both parts time-split by fractions 0.8 / 0.1, so in the extended folder
#                         train is the old part and valid + test (the newest 20%) the new one.
# The old part is prepared and a run trained on it; the new part extends that folder (prepare
# --extend, the split recomputed). Then, per seed:
#   (a) scratch    CONFIG from zero on the extended folder
#   (b) full       --init-from the old run, every training interaction, CONT_EPOCHS epochs
#   (c) new+replay --init-from the old run, the new interactions + as many old ones, CONT_EPOCHS epochs
# each evaluated on the extended folder's test split (Recall/NDCG@10), with the train command's
# process time (user + system CPU seconds) and wall time from /usr/bin/time. Runs already
# evaluated in OUT are kept; CONT_EPOCHS may list several counts (the table shows every one run).
# CONFIG replaces configs/pair.yaml in every run, and CONT_ARGS is added to (b) and (c): the
# sequence model (its old and scratch runs refit on train + valid) continues on train + valid too:
#   CONFIG=configs/best.yaml CONT_ARGS="training.refit=false data.train_splits=[train,valid]
#     training.best_metric=last" SEEDS="42 43 44" scripts/experiments/continued_training.sh runs/continued_seq
#   SEEDS="42 43 44" CONT_EPOCHS=1 THREADS=2 scripts/experiments/continued_training.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/continued}
SEEDS=${SEEDS:-42}
CONT_EPOCHS=${CONT_EPOCHS:-1}
THREADS=${THREADS:-2}
CONFIG=${CONFIG:-configs/pair.yaml}
read -r -a CONT <<< "${CONT_ARGS:-}"
TT=build/twotower
DATA=${DATA:-games}
case $DATA in
  games) SRC=../shared/data/amazon-2018/games/Games.inter.gz EXT=inter SPLIT=loo ;;
  magazine_csv) SRC=../shared/data/amazon-2018/magazine/Magazine_Subscriptions.csv.gz EXT=csv SPLIT=time ;;
  *) echo "continued_training: DATA=$DATA, expected games or magazine_csv"; exit 1 ;;
esac
[ -f "$SRC" ] || { echo "continued_training: $SRC is absent (see shared/data/README.md)"; exit 1; }
mkdir -p "$OUT"

# The split into old and new (see the top of this file).
[ -f "$OUT/new.$EXT" ] ||
.venv/bin/python - "$SRC" "$OUT" "$DATA" <<'PY'
import collections, gzip, sys
src, out, data = sys.argv[1:4]
with gzip.open(src, "rt") as f:
    header = f.readline() if data == "games" else ""
    sep, time_col, user_col = ("\t", 2, 0) if data == "games" else (",", 3, 1)
    rows = [line.rstrip("\r\n").split(sep) for line in f if line.strip()]
old, new = [], []
if data == "games":  # by position in each user's history
    by_user = collections.defaultdict(list)
    for r in rows:
        by_user[r[user_col]].append(r)
    for user, rs in by_user.items():
        rs.sort(key=lambda r: float(r[time_col]))
        k = max(1, int(0.8 * len(rs)))
        old += rs[:k]
        new += rs[k:]
    how = f"position split of {len(by_user)} users"
else:  # by time over all interactions, ties in file order (sorted() is stable)
    rows = sorted(rows, key=lambda r: int(r[time_col]))
    k = int(0.8 * len(rows))
    old, new = rows[:k], rows[k:]
    how = f"time split at timestamp {new[0][time_col]}"
ext = "inter" if data == "games" else "csv"
for name, part in (("old", old), ("new", new)):
    with open(f"{out}/{name}.{ext}", "w") as f:
        f.write(header)
        f.writelines(sep.join(r) + "\n" for r in part)
print(f"{how}: {len(old)} old and {len(new)} new interactions", file=sys.stderr)
PY
[ -d "$OUT/data_new" ] || {
$TT prepare --reviews "$OUT/old.$EXT" --split $SPLIT --out "$OUT/data_old" --overwrite -q
$TT prepare --extend "$OUT/data_old" --reviews "$OUT/new.$EXT" --out "$OUT/data_new" --overwrite
}

train() {  # train NAME SEED ARGS...: /usr/bin/time's "elapsed user system" into OUT/NAME.time
  local name=$1 seed=$2
  shift 2
  [ -s "$OUT/$name.eval" ] && return 0  # finished in an earlier invocation (remove OUT to redo all)
  /usr/bin/time -f "%e %U %S" -o "$OUT/$name.time" $TT train --config "$CONFIG" data.seed=$seed \
    training.threads=$THREADS training.output_dir="$OUT/$name" "$@" > "$OUT/$name.log" 2>&1
  $TT evaluate --run "$OUT/$name" --split test --k 10 --no-baselines > "$OUT/$name.eval"
}

for seed in $SEEDS; do
  train old-$seed $seed data.data_path="$OUT/data_old"
  train scratch-$seed $seed data.data_path="$OUT/data_new"
  for e in $CONT_EPOCHS; do
    train full$e-$seed $seed data.data_path="$OUT/data_new" --init-from "$OUT/old-$seed" training.num_epochs=$e \
      "${CONT[@]}"
    train replay$e-$seed $seed data.data_path="$OUT/data_new" --init-from "$OUT/old-$seed" \
      training.num_epochs=$e training.incremental=new+replay training.replay_ratio=1 "${CONT[@]}"
  done
done

.venv/bin/python - "$OUT" "$CONFIG" "$CONT_EPOCHS" $SEEDS <<'PY'
import json, os, statistics, sys
out, config, epochs, seeds = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
def metrics(run):
    return json.load(open(f"{out}/{run}/metrics_test.json"))
rows = {}
kinds = ["old", "scratch"] + [f"{k}{e}" for e in epochs for k in ("full", "replay")]
for kind in kinds:
    if not all(os.path.exists(f"{out}/{kind}-{s}.eval") for s in seeds):
        continue
    recall, ndcg, cpu, wall = [], [], [], []
    for s in seeds:
        m = metrics(f"{kind}-{s}")
        recall.append(m["recall@10"]); ndcg.append(m["ndcg@10"])
        e, u, sy = map(float, open(f"{out}/{kind}-{s}.time").read().split()[-3:])
        cpu.append(u + sy); wall.append(e)
    rows[kind] = [statistics.mean(x) for x in (recall, ndcg, cpu, wall)]
names = {"old": f"old run: {config} on the old part (its own test split, not comparable)",
         "scratch": f"(a) from zero on everything, {config}"}
for e in epochs:
    names[f"full{e}"] = f"(b) continued, full, {e} epoch(s)"
    names[f"replay{e}"] = f"(c) continued, new+replay (ratio 1), {e} epoch(s)"
print(f"| run (mean of seeds {' '.join(seeds)}) | Recall@10 | NDCG@10 | vs (a) | process s | / (a) | wall s |")
print("|---|---|---|---|---|---|---|")
a = rows["scratch"]
for kind, (r, n, c, w) in rows.items():
    print(f"| {names[kind]} | {r:.4f} | {n:.4f} | {r - a[0]:+.4f} | {c:.1f} | {c / a[2]:.2f} | {w:.1f} |")
print("\ntarget: (b) Recall@10 - (a) >= -0.005 with process time (b) / (a) <= 0.33")
PY
