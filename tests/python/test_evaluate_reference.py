"""`twotower evaluate` against the reference's own evaluation code on the real Games data.

Writes a prepared folder (leave-last-out per user by timestamp, as seed_reference.py splits it)
and random user/item embeddings, runs the CLI, and recomputes test Recall/NDCG@10/20 the way
seed_reference.py does (train+valid items set to -1e9, rank = (scores >= target).sum - 1).
"""
import gzip
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

SHARED = Path(os.environ.get("TWOTOWER_SHARED_DATA", Path(__file__).resolve().parents[2] / "../shared/data"))
GAMES = SHARED / "amazon-2018/games/Games.inter.gz"
CLI = os.environ.get("TWOTOWER_CLI", str(Path(__file__).resolve().parents[2] / "build/twotower"))


def read_inter(path):  # as seed_reference.read_inter
    with gzip.open(path, "rt") as f:
        header = [h.split(":")[0] for h in f.readline().rstrip("\n").split("\t")]
        ui, ii, ti = header.index("user_id"), header.index("item_id"), header.index("timestamp")
        rows = [line.rstrip("\n").split("\t") for line in f]
    users = [r[ui] for r in rows]
    items = [r[ii] for r in rows]
    ts = np.array([float(r[ti]) for r in rows])
    uid = {u: k for k, u in enumerate(dict.fromkeys(users))}
    iid = {i: k for k, i in enumerate(dict.fromkeys(items))}
    return np.array([uid[u] for u in users]), np.array([iid[i] for i in items]), ts, uid, iid


@pytest.mark.skipif(not GAMES.exists(), reason=f"shared data absent: {GAMES} (see shared/data/README.md)")
def test_cli_matches_reference_evaluation(tmp_path):
    u, i, t, uid, iid = read_inter(GAMES)
    order = np.lexsort((t, u))  # as seed_reference.leave_last_out
    u, i, t = u[order], i[order], t[order]
    last = np.r_[u[1:] != u[:-1], True]
    second = np.r_[last[1:], False] & ~last
    split = np.where(last, "test", np.where(second, "valid", "train"))

    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"user_idx": u.astype(np.int64), "item_idx": i.astype(np.int64),
                             "rating": pa.array([None] * len(u), pa.float32()),
                             "timestamp": t.astype(np.int64), "split": split}),
                   data / "interactions_mapped.parquet")
    (data / "uid2idx.json").write_text(json.dumps(uid))
    (data / "iid2idx.json").write_text(json.dumps(iid))
    (data / "splits.json").write_text(json.dumps({"method": "leave_last_out"}))

    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    U = rng.standard_normal((len(uid), 32)).astype(np.float32)
    I = rng.standard_normal((len(iid), 32)).astype(np.float32)
    np.save(run / "user_embeddings.npy", U)
    np.save(run / "item_embeddings.npy", I)
    (run / "config.yaml").write_text(f"data:\n  data_path: {data}\n")
    subprocess.run([CLI, "evaluate", "--run", str(run), "--k", "10,20", "--no-baselines"], check=True,
                   capture_output=True)
    got = json.loads((run / "metrics_test.json").read_text())

    # seed_reference.py's evaluation loop, verbatim in substance.
    fit = ~last
    fu, fi = u[fit], i[fit]
    seen_u = {}
    for uu, ii in zip(fu, fi):
        seen_u.setdefault(uu, []).append(ii)
    tu, ti = u[last], i[last]
    Ut, It = torch.from_numpy(U), torch.from_numpy(I)
    hits = {10: 0, 20: 0}
    nd = {10: 0.0, 20: 0.0}
    for s in range(0, len(tu), 2048):
        bu = torch.from_numpy(tu[s:s + 2048])
        sc = Ut[bu] @ It.T
        for r, uu in enumerate(tu[s:s + 2048]):
            sc[r, seen_u.get(uu, [])] = -1e9
        tgt = sc[torch.arange(len(bu)), torch.from_numpy(ti[s:s + 2048])]
        rank = ((sc >= tgt[:, None]).sum(1) - 1).numpy()
        for k in (10, 20):
            h = rank < k
            hits[k] += h.sum()
            nd[k] += (h / np.log2(rank + 2)).sum()
    n = len(tu)
    assert got["counts"]["users_evaluated"] == n
    for k in (10, 20):
        print(f"recall@{k}: cli {got[f'recall@{k}']:.6f} reference {hits[k] / n:.6f}; "
              f"ndcg@{k}: cli {got[f'ndcg@{k}']:.6f} reference {nd[k] / n:.6f}")
        # Float32 products in a different order may flip a near-tie: allow one user either way.
        assert abs(got[f"recall@{k}"] - hits[k] / n) <= 1.0 / n + 1e-12, (k, got[f"recall@{k}"], hits[k] / n)
        assert abs(got[f"ndcg@{k}"] - nd[k] / n) <= 1.0 / n + 1e-12, (k, got[f"ndcg@{k}"], nd[k] / n)
