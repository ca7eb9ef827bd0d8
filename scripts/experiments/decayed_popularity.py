#!/usr/bin/env python3
"""Recall@10 of time-decayed popularity on a time-split prepared folder (docs/quality.md).

Each history interaction counts 0.5 ** (age / half_life), age measured from the newest one; items
are ranked by that weight for every user with targets, the user's history items left out (as
`twotower evaluate` does). valid: history = train; test: history = train + valid.

    .venv/bin/python scripts/experiments/decayed_popularity.py runs/quality/data/magazine_csv [--half-lives 15,30,60]
"""
import argparse

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


def recall_at(scores, target, history, k=10):
    seen = history.groupby("user_idx").item_idx.apply(set).to_dict()
    order = np.argsort(-scores, kind="stable")
    recalls = []
    for user, rows in target.groupby("user_idx"):
        exclude = seen.get(user, set())
        top = [i for i in order[: k + len(exclude)] if i not in exclude][:k]
        items = set(rows.item_idx)
        recalls.append(len(items & set(top)) / min(len(items), k))
    return float(np.mean(recalls))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="prepared folder (interactions_mapped.parquet)")
    parser.add_argument("--half-lives", default="15,30,60,120,240,480", help="days, comma-separated")
    args = parser.parse_args()
    t = pq.read_table(f"{args.data}/interactions_mapped.parquet").to_pandas()
    train, valid, test = (t[t.split == s] for s in ("train", "valid", "test"))
    num_items = int(t.item_idx.max()) + 1
    half_lives = [None] + [float(h) for h in args.half_lives.split(",")]
    print("half-life (days)\tvalid Recall@10\ttest Recall@10")
    results = {}
    for name, history, target in (("valid", train, valid), ("test", pd.concat([train, valid]), test)):
        newest = history.timestamp.max()
        for h in half_lives:
            age_days = (newest - history.timestamp.values) / 86400.0
            weight = np.ones(len(history)) if h is None else 0.5 ** (age_days / h)
            counts = np.bincount(history.item_idx, weights=weight, minlength=num_items)
            results[(name, h)] = recall_at(counts, target, history)
    for h in half_lives:
        print(f"{'none (popularity)' if h is None else h}\t{results[('valid', h)]:.4f}\t{results[('test', h)]:.4f}")


if __name__ == "__main__":
    main()
