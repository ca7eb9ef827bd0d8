"""pandas reads what `twotower prepare` writes: column types, counts and id maps agree."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CLI = os.environ.get("TWOTOWER_CLI", str(Path(__file__).resolve().parents[2] / "build" / "twotower"))
SHARED = Path(os.environ.get("TWOTOWER_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def run(*args):
    subprocess.run([CLI, *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("interop")
    run("generate", "--out", root / "gen", "--users", 300, "--items", 120, "--reviews", 3000, "--clusters", 4)
    run("prepare", "-q", "--reviews", root / "gen" / "reviews.json.gz", "--meta", root / "gen" / "meta.json.gz",
        "--out", root / "prepared")
    return root / "prepared"


def test_interactions_types_and_counts(prepared):
    df = pd.read_parquet(prepared / "interactions_mapped.parquet")
    stats = json.loads((prepared / "stats.json").read_text())
    assert list(df.columns) == ["user_idx", "item_idx", "rating", "timestamp", "split"]
    assert df["user_idx"].dtype == np.int64
    assert df["item_idx"].dtype == np.int64
    assert df["rating"].dtype == np.float32
    assert df["timestamp"].dtype == np.int64
    assert set(df["split"].unique()) == {"train", "valid", "test"}
    assert len(df) == stats["interactions"] == 3000
    assert df["user_idx"].nunique() == stats["users"] == 300
    counts = df["split"].value_counts().to_dict()
    assert counts == stats["splits"]
    # Leave-last-out: one test row per user, and it is the user's latest.
    test = df[df["split"] == "test"]
    assert test["user_idx"].is_unique and len(test) == 300
    latest = df.groupby("user_idx")["timestamp"].max()
    assert (test.set_index("user_idx")["timestamp"] == latest.loc[test["user_idx"]].values).all()


def test_id_maps_cover_the_indices(prepared):
    df = pd.read_parquet(prepared / "interactions_mapped.parquet")
    uid = json.loads((prepared / "uid2idx.json").read_text())
    iid = json.loads((prepared / "iid2idx.json").read_text())
    assert sorted(uid.values()) == list(range(len(uid)))
    assert sorted(iid.values()) == list(range(len(iid)))
    assert df["user_idx"].max() < len(uid) and df["item_idx"].max() < len(iid)
    # Users are numbered in order of first appearance in the review file.
    assert list(uid.values())[:3] == [0, 1, 2]


def test_items_table(prepared):
    items = pd.read_parquet(prepared / "items.parquet")
    iid = json.loads((prepared / "iid2idx.json").read_text())
    features = json.loads((prepared / "features.json").read_text())
    assert len(items) == len(iid) == 120
    assert items["item_idx"].tolist() == list(range(len(items)))
    assert items["item_idx"].dtype == np.int64
    assert items["category_idx"].dtype == np.int32
    assert items["category_ids"].map(len).max() == 2
    assert features["categories"][0] == "<unknown>"
    assert items["category_idx"].max() < len(features["categories"])
    assert not items["title"].str.contains("&amp;").any()
    assert not items["text"].str.contains("<p>").any()
    assert (items["item_id"].map(iid) == items["item_idx"]).all()


def test_games_ratings_are_null():
    games = SHARED / "amazon-2018" / "games" / "Games.inter.gz"
    if not games.exists():
        pytest.skip(f"shared data absent: {games} (see shared/data/README.md)")
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"twotower-interop-games-{os.getpid()}"
    try:
        run("prepare", "-q", "--reviews", games, "--out", out, "--overwrite")
        df = pd.read_parquet(out / "interactions_mapped.parquet")
        assert len(df) == 440264
        assert df["user_idx"].nunique() == 50546 and df["item_idx"].nunique() == 16859
        assert df["rating"].isna().all()
    finally:
        subprocess.run(["rm", "-rf", str(out)], check=False)
