"""Prints docs/quality.md's per-data-set tables from what scripts/quality_tables.sh wrote.

usage: quality_table.py RESULTS_DIR NAME [NAME ...]
For each NAME: RESULTS_DIR/NAME.baselines.json (popularity, item-kNN, EASE; EASE's lambda, its
fit time and the process's peak memory from NAME.baselines.log) and, when present,
RESULTS_DIR/NAME-best-refit/metrics_test.json (configs/pair.yaml refit on train + valid) and
RESULTS_DIR/NAME-sequence-SEED/metrics_test.json (configs/best.yaml, one row per seed, then
their mean and spread when there are several)."""
import json
import re
import sys
from pathlib import Path

METRICS = ("recall@10", "ndcg@10", "recall@20", "ndcg@20")


def row(name, m, note=""):
    cells = [name] + [f"{m[k]:.4f}" if m.get(k) is not None else "n/a" for k in METRICS] + [note]
    return "| " + " | ".join(cells) + " |"


def peak_gib(log):
    if not log.exists():
        return None
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text())
    return int(found.group(1)) / 2**20 if found else None


def ease_note(e, peak):
    sel = e.get("selection", {})
    trials = sel.get("trials", [])
    grid = ", ".join(f"{t['lambda']:g}" for t in trials) if trials else "given"
    fits = sum(t["fit_seconds"] for t in trials) + e["fit"]["fit_seconds"]
    note = f"lambda {e['lambda']:g} (best {sel.get('metric', '')} on valid of {grid})"
    note += f"; fit {e['fit']['fit_seconds']:.1f} s"
    note += f", all {len(trials) + 1} fits {fits:.1f} s"
    if peak is not None:
        note += f"; process peak {peak:.2f} GiB"
    return note


def table(results, name):
    if not (results / f"{name}.baselines.json").exists():
        print(f"\n#### {name} (no baselines file: ONLY=sequence)\n")
        print("| model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | note |")
        print("|---|---|---|---|---|---|")
        sequence_rows(results, name)
        return
    b = json.loads((results / f"{name}.baselines.json").read_text())
    counts = b["baselines"]["popularity"]["counts"]
    print(f"\n#### {name}: {counts['users']:,} users, {counts['items']:,} items, {counts['users_evaluated']:,} test users\n")
    print("| model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | note |")
    print("|---|---|---|---|---|---|")
    base = b["baselines"]
    print(row("popularity", base["popularity"]))
    print(row("item-kNN (cosine, 100)", base["itemknn"]))
    if "ease" in base:
        print(row("EASE", base["ease"], ease_note(base["ease"], peak_gib(results / f"{name}.baselines.log"))))
    else:
        print(f"| EASE | - | - | - | - | {base.get('ease_skipped', 'not run')} |")
    refit = results / f"{name}-best-refit" / "metrics_test.json"
    if refit.exists():
        print(row("configs/pair.yaml, refit on train + valid", json.loads(refit.read_text())))
    sequence_rows(results, name)


def sequence_rows(results, name):
    runs = sorted(results.glob(f"{name}-sequence-*/metrics_test.json"))
    found = []
    for path in runs:
        seed = path.parent.name.rsplit("-", 1)[1]
        m = json.loads(path.read_text())
        refit = json.loads((path.parent / "refit.json").read_text())
        wall = path.parent.with_suffix(".time")
        note = f"seed {seed}; {refit['selected_epochs']} epochs selected"
        if wall.exists():
            note += f"; {wall.read_text().split()[0]} s wall (selection + refit)"
        print(row("configs/best.yaml (refit)", m, note))
        found.append(m)
    if len(found) > 1:
        mean = {k: sum(m[k] for m in found) / len(found) for k in METRICS}
        spread = {k: max(m[k] for m in found) - min(m[k] for m in found) for k in METRICS}
        note = "max - min: " + ", ".join(f"{spread[k]:.4f}" for k in METRICS)
        print(row(f"configs/best.yaml, mean of {len(found)} seeds", mean, note))


def main(args):
    results = Path(args[0])
    for name in args[1:]:
        table(results, name)


if __name__ == "__main__":
    main(sys.argv[1:])
