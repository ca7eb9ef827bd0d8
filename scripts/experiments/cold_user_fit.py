#!/usr/bin/env python3
"""Cold users' Recall@10 with a vector fit to time-decayed popularity (docs/quality.md).

For a refit run of configs/best.yaml on a time-split folder: the cold users of a split (no
interaction in the history splits) are ranked by one user vector, either the tower's own for an
empty history (the row of a user without history in user_embeddings.npy) or a vector u fit so that
softmax(items . u / 0.05) matches the history's popularity with each interaction weighted by
0.5 ** (age in days / half-life) (300 Adam steps, lr 0.05, from the tower's vector). valid: the
selection run's item vectors, history = train; test: the final run's, history = train + valid.

    .venv/bin/python scripts/experiments/cold_user_fit.py runs/quality/data/magazine_csv runs/quality/magazine_csv-sequence-42
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

sys.path.insert(0, str(Path(__file__).parent))
from decayed_popularity import recall_at  # noqa: E402


def fit(items, start, popularity, temperature=0.05, steps=300):
    u = torch.tensor(start, requires_grad=True)
    target = torch.tensor(popularity / popularity.sum(), dtype=torch.float32)
    opt = torch.optim.Adam([u], lr=0.05)
    for _ in range(steps):
        loss = -(target * torch.log_softmax(items @ (u / u.norm()) / temperature, 0)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (u / u.norm()).detach().numpy()


def cold_recalls(run, t, history_splits, target_split, half_lives):
    items = torch.tensor(np.load(run / "item_embeddings.npy"))
    users = np.load(run / "user_embeddings.npy")
    history = t[t.split.isin(history_splits)]
    target = t[(t.split == target_split) & ~t.user_idx.isin(set(history.user_idx))]
    without = sorted(set(range(users.shape[0])) - set(t[t.split.isin(["train", "valid"])].user_idx))
    tower = users[without[0]]
    results = {"tower": recall_at(items.numpy() @ tower, target, history)}
    age_days = (history.timestamp.max() - history.timestamp.values) / 86400.0
    for h in half_lives:
        weight = np.ones(len(history)) if h is None else 0.5 ** (age_days / h)
        popularity = np.bincount(history.item_idx, weights=weight, minlength=items.shape[0])
        results[h] = recall_at(items.numpy() @ fit(items, tower.copy(), popularity), target, history)
    return target.user_idx.nunique(), results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="prepared folder (interactions_mapped.parquet), time split")
    parser.add_argument("runs", nargs="+", help="refit runs of configs/best.yaml on it (with selection/)")
    parser.add_argument("--half-lives", default="7,15,30,60,120,240", help="days, comma-separated")
    args = parser.parse_args()
    torch.manual_seed(0)
    t = pq.read_table(f"{args.data}/interactions_mapped.parquet").to_pandas()
    half_lives = [float(h) for h in args.half_lives.split(",")] + [None]
    names = ["tower"] + [f"{h:g} d" if h else "no decay" for h in half_lives]
    print("| run | split | cold users | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 3) + "|")
    for run in map(Path, args.runs):
        for split, where, history in (("valid", run / "selection", ["train"]), ("test", run, ["train", "valid"])):
            n, r = cold_recalls(where, t, history, split, half_lives)
            cells = [f"{r['tower']:.4f}"] + [f"{r[h]:.4f}" for h in half_lives]
            print(f"| {run.name} | {split} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
