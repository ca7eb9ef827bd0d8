"""`twotower export` read from Python: a tiny generated run is exported twice (two versions), and
the export is read with numpy/pandas alone: files match the manifest's CRC-32 and sizes, ids line
up with the prepared data, the vectors equal the run's own (so scores equal the run's dot
products), seen items are the train + valid interactions and popularity counts them.
"""
import json
import os
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build/twotower"))


def run(*args):
    subprocess.run([CLI, *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    run("generate", "--out", tmp / "raw", "--users", 300, "--items", 200, "--reviews", 4000)
    run("prepare", "--reviews", tmp / "raw/reviews.json.gz", "--meta", tmp / "raw/meta.json.gz", "--out", tmp / "data")
    run("train", "--config", ROOT / "configs/pair.yaml", f"data.data_path={tmp / 'data'}",
        f"training.output_dir={tmp / 'run'}", "training.num_epochs=1", "training.batch_size=256",
        "training.threads=1")
    run("export", "--run", tmp / "run", "--out", tmp / "exports")
    run("export", "--run", tmp / "run", "--out", tmp / "exports")
    return tmp


def test_versions_are_numbered_and_complete(exported):
    names = sorted(p.name for p in (exported / "exports").iterdir())
    assert names == ["v000001", "v000002"]  # no temporary folder left behind


def test_manifest_checksums_and_counts(exported):
    d = exported / "exports/v000002"
    m = json.loads((d / "manifest.json").read_text())
    assert m["format_version"] == 1 and m["version"] == "v000002"
    assert set(m["files"]) == {"item_embeddings.npy", "user_embeddings.npy", "items.parquet", "users.parquet",
                               "seen.parquet", "features.json", "config.yaml", "model.pt"}
    for name, entry in m["files"].items():
        data = (d / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["crc32"] == f"{zlib.crc32(data):08x}"
    assert np.load(d / "item_embeddings.npy").shape == (m["num_items"], m["dim"])
    assert np.load(d / "user_embeddings.npy").shape == (m["num_users"], m["dim"])


def test_scores_equal_the_runs_own(exported):
    d, r = exported / "exports/v000001", exported / "run"
    U, I = np.load(d / "user_embeddings.npy"), np.load(d / "item_embeddings.npy")
    RU, RI = np.load(r / "user_embeddings.npy"), np.load(r / "item_embeddings.npy")
    np.testing.assert_allclose(U @ I.T, RU @ RI.T, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(I, axis=1), 1.0, atol=1e-5)


def test_ids_seen_items_and_popularity(exported):
    d, data = exported / "exports/v000001", exported / "data"
    items = pd.read_parquet(d / "items.parquet")
    users = pd.read_parquet(d / "users.parquet")
    iid = json.loads((data / "iid2idx.json").read_text())
    uid = json.loads((data / "uid2idx.json").read_text())
    assert dict(zip(items.item_id, items.item_idx)) == iid
    assert dict(zip(users.user_id, users.user_idx)) == uid
    inter = pd.read_parquet(data / "interactions_mapped.parquet")
    before_test = inter[inter.split.isin(["train", "valid"])]
    seen = pd.read_parquet(d / "seen.parquet")
    assert seen.user_idx.tolist() == before_test.user_idx.tolist()
    assert seen.item_idx.tolist() == before_test.item_idx.tolist()
    counts = before_test.item_idx.value_counts().reindex(items.item_idx, fill_value=0)
    assert items.popularity.tolist() == counts.tolist()
    prepared = pd.read_parquet(data / "items.parquet")
    assert items.title.tolist() == prepared.sort_values("item_idx").title.tolist()


def test_recommend_users_equals_a_numpy_ranking(exported):
    """`recommend --users --exclude-seen` (exact index) against numpy: U[u] @ I.T, the user's
    train + valid items masked, sorted by score descending then item index."""
    d = exported / "exports/v000002"
    users = pd.read_parquet(d / "users.parquet")
    items = pd.read_parquet(d / "items.parquet")
    seen = pd.read_parquet(d / "seen.parquet")
    U, I = np.load(d / "user_embeddings.npy"), np.load(d / "item_embeddings.npy")
    chosen = users.user_id.iloc[::15].tolist()
    (exported / "users.txt").write_text("\n".join(chosen) + "\n")
    out = exported / "lists.parquet"
    run("recommend", "--export", exported / "exports", "--users", exported / "users.txt", "--out", out,
        "--k", 10, "--exclude-seen")
    got = pd.read_parquet(out)
    assert got.user_id.unique().tolist() == chosen
    for uid in chosen:
        u = int(users.user_idx[users.user_id == uid].iloc[0])
        scores = U[u] @ I.T
        scores[seen.item_idx[seen.user_idx == u].to_numpy()] = -np.inf
        order = np.lexsort((np.arange(len(scores)), -scores))[:10]
        rows = got[got.user_id == uid].sort_values("rank")
        assert rows["rank"].tolist() == list(range(1, 11))
        assert rows.item_id.tolist() == items.item_id.to_numpy()[order].tolist()
        np.testing.assert_allclose(rows.score.to_numpy(), scores[order], rtol=0, atol=1e-5)
