"""Text embeddings written by pandas or pyarrow as Parquet train exactly as the same .npy."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build" / "twotower"))


def run(*args):
    return subprocess.run([CLI, *map(str, args)], check=True, capture_output=True, text=True)


def train(data, out, text, *extra):
    run("train", "--config", ROOT / "configs" / "reference.yaml", f"data.data_path={data}",
        f"data.text_embeddings={text}", "data.emb_dim=6", "model.embedding_dim=8", "model.user_mlp_hidden=[16]",
        "model.item_mlp_hidden=[16]", "training.num_epochs=1", "training.batch_size=256", "training.threads=1",
        "training.device=cpu", f"training.output_dir={out}", *extra)
    return np.load(out / "item_embeddings.npy")


def test_parquet_text_equals_npy(tmp_path):
    run("generate", "--out", tmp_path / "gen", "--users", 120, "--items", 40, "--reviews", 1200, "--clusters", 3)
    run("prepare", "-q", "--reviews", tmp_path / "gen" / "reviews.json.gz", "--meta", tmp_path / "gen" / "meta.json.gz",
        "--out", tmp_path / "data")
    iid2idx = json.loads((tmp_path / "data" / "iid2idx.json").read_text())
    rng = np.random.default_rng(3)
    text = rng.normal(size=(len(iid2idx), 6)).astype(np.float32)
    np.save(tmp_path / "text.npy", text)

    # pandas: raw item ids in shuffled order, vectors as float64 arrays (a list<double> column).
    ids = list(iid2idx)
    rng.shuffle(ids)
    pd.DataFrame({"item_id": ids, "embedding": [text[iid2idx[i]].astype(np.float64) for i in ids]}).to_parquet(
        tmp_path / "pandas.parquet")
    # pyarrow: item_idx keys and a fixed_size_list<float32> column under another name.
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(text.ravel(), pa.float32()), 6)
    pq.write_table(pa.table({"item_idx": pa.array(range(len(ids)), pa.int64()), "vec": vectors}),
                   tmp_path / "arrow.parquet")

    expected = train(tmp_path / "data", tmp_path / "npy", tmp_path / "text.npy")
    np.testing.assert_array_equal(train(tmp_path / "data", tmp_path / "pd", tmp_path / "pandas.parquet"), expected)
    np.testing.assert_array_equal(
        train(tmp_path / "data", tmp_path / "pa", tmp_path / "arrow.parquet", "data.text_embeddings_column=vec"),
        expected)
    # Other text trains to other item vectors, so the equalities above are not vacuous.
    np.save(tmp_path / "other.npy", -text)
    assert not np.array_equal(train(tmp_path / "data", tmp_path / "other", tmp_path / "other.npy"), expected)
