"""Prints the README's results table from metrics_test.json files written by `twotower evaluate`.

usage: results_table.py LABEL=RUN_DIR [LABEL=RUN_DIR ...]
Each run contributes its two-tower row; popularity, item-kNN and EASE rows are taken from the first
run of each data set (they depend only on the data and the split)."""
import json
import sys
from pathlib import Path


def row(name, m, seconds=None):
    cells = [name] + [f"{m[k]:.4f}" if m.get(k) is not None else "n/a"
                      for k in ("recall@10", "ndcg@10", "recall@20", "ndcg@20")]
    cells.append(seconds if seconds is not None else "")
    return "| " + " | ".join(cells) + " |"


def epoch_seconds(history):
    h = json.loads(history.read_text())
    epochs = h.get("epochs", h) if isinstance(h, dict) else h
    return sum(e['seconds'] for e in epochs)


def train_seconds(run):
    """The epochs' seconds of history.json; a refit run adds its selection run's."""
    history, selection = Path(run) / "history.json", Path(run) / "selection" / "history.json"
    if not history.exists():
        return None
    try:
        if selection.exists():
            return f"{epoch_seconds(selection) + epoch_seconds(history):.0f} s (selection + refit)"
        return f"{epoch_seconds(history):.0f} s"
    except (TypeError, KeyError):
        return None


def main(args):
    print("| data / model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | training time |")
    print("|---|---|---|---|---|---|")
    baselines_done = set()
    for arg in args:
        label, run = arg.split("=", 1)
        m = json.loads((Path(run) / "metrics_test.json").read_text())
        data = m.get("data", "")
        if data not in baselines_done:
            baselines_done.add(data)
            dataset = label.split(":")[0]
            for name in ("popularity", "itemknn", "ease"):
                b = m.get("baselines", {}).get(name)
                if b:
                    print(row(f"{dataset}: {name}", b))
        print(row(label, m, train_seconds(run)))


if __name__ == "__main__":
    main(sys.argv[1:])
