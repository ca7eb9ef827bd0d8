"""`import twotower`: each function against the CLI on the same generated data and seed (same
stats, history, embeddings bytes and metrics), errors as twotower.Error with the C++ message,
and Ctrl-C during train leaving a run that resume=True finishes like an unbroken one."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import twotower

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build" / "twotower"))
EPOCHS = 4
# pair.yaml shrunk to under a second per run (batches of 16: epochs of about 0.1 s, so that a
# signal sent after the first lands well before the last); one thread: runs are bit-identical.
OVERRIDES = {"training.num_epochs": EPOCHS, "training.batch_size": 16, "training.threads": 1,
             "model.embedding_dim": 16, "model.user_mlp_hidden": [32], "model.item_mlp_hidden": [32]}


def cli(*args, check=True):
    return subprocess.run([CLI, *map(str, args)], check=check, capture_output=True, text=True)


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def cli_overrides(overrides):
    return [f"{k}={json.dumps(v)}" for k, v in overrides.items()]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("module")


@pytest.fixture(scope="module")
def raw(root):
    files = twotower.generate(root / "gen", users=300, items=120, reviews=3000, clusters=4, review_words=0, seed=3)
    assert files == {"reviews": str(root / "gen" / "reviews.json.gz"), "meta": str(root / "gen" / "meta.json.gz")}
    return files


@pytest.fixture(scope="module")
def prepared(root, raw):
    stats = twotower.prepare(raw["reviews"], root / "prepared", meta=raw["meta"], quiet=True)
    return root / "prepared", stats


def run_overrides(prepared, out):
    return dict(OVERRIDES, **{"data.data_path": str(prepared[0]), "training.output_dir": str(out)})


@pytest.fixture(scope="module")
def cli_run(root, prepared):
    out = root / "cli-run"
    cli("train", "--config", ROOT / "configs" / "pair.yaml", *cli_overrides(run_overrides(prepared, out)))
    return out


@pytest.fixture(scope="module")
def module_run(root, prepared):
    return twotower.train(str(ROOT / "configs" / "pair.yaml"), run_overrides(prepared, root / "module-run"))


def test_prepare_returns_the_stats_the_cli_writes(root, raw, prepared):
    cli("prepare", "-q", "--reviews", raw["reviews"], "--meta", raw["meta"], "--out", root / "cli-prepared")
    expected = json.loads((root / "cli-prepared" / "stats.json").read_text())
    stats = prepared[1]
    assert stats == json.loads((prepared[0] / "stats.json").read_text())
    assert without(stats, "seconds") == without(expected, "seconds")
    assert stats["raw"]["users"] == 300
    assert (prepared[0] / "interactions_mapped.parquet").read_bytes() == \
        (root / "cli-prepared" / "interactions_mapped.parquet").read_bytes()


def test_train_equals_the_cli_run(module_run, cli_run):
    assert module_run["run_dir"].endswith("module-run")
    assert [r["epoch"] for r in module_run["history"]] == list(range(1, EPOCHS + 1))
    assert module_run["epochs_done"] == EPOCHS
    cli_history = json.loads((cli_run / "history.json").read_text())["epochs"]
    timing = ("seconds", "pairs_per_s")
    assert [without(r, *timing) for r in module_run["history"]] == [without(r, *timing) for r in cli_history]
    assert 1 <= module_run["best_epoch"] <= EPOCHS
    for name in ("user_embeddings.npy", "item_embeddings.npy"):
        assert (Path(module_run["run_dir"]) / name).read_bytes() == (cli_run / name).read_bytes()


def test_train_from_a_dict_equals_the_yaml_file(root, prepared, module_run):
    import yaml
    config = yaml.safe_load((ROOT / "configs" / "pair.yaml").read_text())
    result = twotower.train(config, run_overrides(prepared, root / "dict-run"), eval=True)
    for name in ("user_embeddings.npy", "item_embeddings.npy"):
        assert (Path(result["run_dir"]) / name).read_bytes() == (Path(module_run["run_dir"]) / name).read_bytes()


def untimed(value):
    """`value` without its wall-clock entries ("seconds", "fit_seconds"), which differ run to run."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in ("seconds", "fit_seconds")}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def close_to(expected):
    """`expected` with every float replaced by pytest.approx (relative 1e-6, absolute 1e-8: r2
    near zero differed by 8e-10 between two runs), for == against a result."""
    if isinstance(expected, dict):
        return {k: close_to(v) for k, v in expected.items()}
    if isinstance(expected, list):
        return [close_to(v) for v in expected]
    return pytest.approx(expected, rel=1e-6, abs=1e-8) if isinstance(expected, float) else expected


def test_evaluate_returns_the_json_the_cli_writes(root, cli_run):
    metrics = twotower.evaluate(str(cli_run), split="test", k=(10, 20), out=root / "module_metrics.json")
    cli("evaluate", "--run", cli_run, "--split", "test", "--k", "10,20", "--out", root / "cli_metrics.json")
    assert metrics == json.loads((root / "module_metrics.json").read_text())
    # EASE's scores come from a BLAS product whose summation order follows the process's thread
    # count, so its rating-regression figures (mse, mae, r2, ...) may differ from the 8th digit.
    assert untimed(metrics) == close_to(untimed(json.loads((root / "cli_metrics.json").read_text())))
    assert metrics["split"] == "test" and metrics["k"] == [10, 20]
    # 3000 reviews in 4 planted clusters (90% inside): the model finds them, far above chance (20/120).
    assert 0.3 < metrics["recall@10"] <= metrics["recall@20"] <= 1.0


def test_evaluate_default_out_is_the_run_folder(cli_run):
    metrics = twotower.evaluate(cli_run, split="valid", k=[5])
    assert metrics == json.loads((cli_run / "metrics_valid.json").read_text())
    assert metrics["k"] == [5]


def test_a_bad_config_value_raises_error_naming_the_field(prepared):
    with pytest.raises(twotower.Error) as e:
        twotower.train({"training": {"batch_size": "x"}})
    assert isinstance(e.value, RuntimeError)
    assert 'field "training.batch_size"' in str(e.value) and '"x"' in str(e.value)
    assert str(e.value).startswith("<dict>:")


def test_an_unknown_key_in_a_yaml_file_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("training:\n  batch_sise: 3\n")
    with pytest.raises(twotower.Error, match=r"bad\.yaml:2.*batch_sise"):
        twotower.train(path)


def test_prepare_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(twotower.Error, match="no-such.json"):
        twotower.prepare(tmp_path / "no-such.json", tmp_path / "out", quiet=True)


def test_a_bad_option_raises_error_with_cli11_message(raw, tmp_path):
    with pytest.raises(twotower.Error, match="--bogus"):
        twotower.prepare(raw["reviews"], tmp_path / "out", bogus=1)
    with pytest.raises(twotower.Error, match="split"):
        twotower.evaluate(tmp_path, split="train", out=tmp_path / "m.json")


def test_evaluate_without_run_needs_out():
    with pytest.raises(twotower.Error, match="got neither run nor out"):
        twotower.evaluate(user_emb="u.npy", item_emb="i.npy", data="prepared")


def test_python_m_twotower_is_the_cli():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    module = subprocess.run([sys.executable, "-m", "twotower", "--help"], capture_output=True, text=True, env=env)
    program = cli("--help")
    assert module.returncode == program.returncode == 0
    # CLI11 names the program by its argv[0]; the module's is "twotower".
    assert module.stdout == program.stdout.replace(CLI, "twotower")
    assert "prepare" in module.stdout and "evaluate" in module.stdout
    module = subprocess.run([sys.executable, "-m", "twotower", "prepare"], capture_output=True, text=True, env=env)
    program = cli("prepare", check=False)
    assert module.returncode == program.returncode != 0
    assert module.stderr == program.stderr.replace(CLI, "twotower")
    assert "--reviews is required" in module.stderr


def test_help_documents_train():
    assert "resume=True" in twotower.train.__doc__ and "KeyboardInterrupt" in twotower.train.__doc__
    assert twotower.Error.__module__ == "twotower"


def wait_for_first_checkpoint(run_dir):
    checkpoint = Path(run_dir) / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def interrupt_after_first_checkpoint(run_dir):
    """SIGINT to this process once the first epoch's checkpoint exists; the thread can only poll
    while train runs if train released the GIL."""
    def watch():
        wait_for_first_checkpoint(run_dir)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_keyboard_interrupt_leaves_a_resumable_run(root, prepared, cli_run):
    out = root / "interrupted"
    overrides = run_overrides(prepared, out)
    thread = interrupt_after_first_checkpoint(out)
    with pytest.raises(KeyboardInterrupt):
        twotower.train(str(ROOT / "configs" / "pair.yaml"), overrides)
    thread.join()
    history = json.loads((out / "history.json").read_text())["epochs"]
    assert 1 <= len(history) < EPOCHS
    assert not (out / "user_embeddings.npy").exists()
    result = twotower.train(str(ROOT / "configs" / "pair.yaml"), overrides, resume=True)
    assert result["epochs_done"] == EPOCHS
    for name in ("user_embeddings.npy", "item_embeddings.npy"):
        assert (out / name).read_bytes() == (cli_run / name).read_bytes()


def test_keyboard_interrupt_stops_within_an_epoch(root, prepared):
    # One epoch of batches of 1 (thousands of steps): Ctrl-C 50 ms into train raises before the
    # epoch ends (an interrupt checked only between epochs would come after epoch 1's checkpoint).
    out = root / "interrupted-mid-epoch"
    overrides = dict(run_overrides(prepared, out), **{"training.num_epochs": 1, "training.batch_size": 1,
                                                      "training.best_metric": "train_loss"})
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        twotower.train(str(ROOT / "configs" / "pair.yaml"), overrides, eval=False)
    timer.join()
    assert not (out / "checkpoints" / "last.pt").exists(), "the epoch finished before the interrupt"
    assert time.monotonic() - started < 60


def test_ctrl_c_ends_python_m_twotower_train_as_the_program_and_resume_finishes(root, prepared, cli_run):
    out = root / "module-cli-interrupted"
    args = ["train", "--config", ROOT / "configs" / "pair.yaml", *cli_overrides(run_overrides(prepared, out))]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    process = subprocess.Popen([sys.executable, "-m", "twotower", *map(str, args)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_first_checkpoint(out)
    process.send_signal(signal.SIGINT)
    assert process.wait() == -signal.SIGINT
    assert not (out / "user_embeddings.npy").exists()
    resumed = subprocess.run([sys.executable, "-m", "twotower", *map(str, args), "--resume"], env=env,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    for name in ("user_embeddings.npy", "item_embeddings.npy"):
        assert (out / name).read_bytes() == (cli_run / name).read_bytes()


@pytest.fixture(scope="module")
def exported(root, cli_run):
    cli("export", "--run", cli_run, "--out", root / "export")
    return twotower.load_export(root / "export")


def test_load_export_recommends_as_a_numpy_ranking(exported):
    """A known user's top 5 (seen items kept) are the 5 largest inner products of the export's own
    vectors, in order; the vectors are read-only memmaps of the export's files (no copy)."""
    users = json.load(open(Path(exported.info["path"]).parents[1] / "prepared" / "uid2idx.json"))
    items = json.load(open(Path(exported.info["path"]).parents[1] / "prepared" / "iid2idx.json"))
    item_ids = sorted(items, key=items.get)
    assert isinstance(exported.item_vectors, np.memmap) and not exported.item_vectors.flags.writeable
    for user, row in list(users.items())[:20]:
        got = exported.recommend(user=user, k=5, exclude_seen=False)
        assert got["source"] == "known_user"
        scores = exported.item_vectors @ exported.user_vectors[row]
        want = [item_ids[i] for i in np.argsort(-scores, kind="stable")[:5]]
        assert [r["item_id"] for r in got["items"]] == want
        assert [r["score"] for r in got["items"]] == pytest.approx(sorted(scores, reverse=True)[:5], rel=1e-5)


def test_load_export_paths_and_errors(exported):
    first = exported.recommend(k=3)
    assert first["source"] in ("cold_user", "popularity")
    item = first["items"][0]["item_id"]
    assert exported.recommend(history=[item], k=3)["source"] in ("history", "cold_user")
    assert item not in [r["item_id"] for r in exported.similar(item, k=3)]
    with pytest.raises(twotower.NotFoundError, match="nobody"):
        exported.recommend(user="nobody")
    with pytest.raises(twotower.Error, match="k: got 0"):
        exported.recommend(k=0)
