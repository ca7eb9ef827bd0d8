"""Data-parallel training on torch.distributed (Gloo on loopback, under torchrun): 2 and 4 ranks
train to the parameters of one process with the same global batch and seed, for every loss and
embedding optimizer; a SIGKILLed worker ends the job with torchrun's message naming its rank and
a rerun with --resume finishes bit for bit like an unbroken run at that world size; a run resumes
at another world size; torchrun's elastic restart resumes by itself; `train --nproc` starts the
workers; the sharding of a batch covers every row once."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist

import twotower

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build" / "twotower"))
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "python"), OMP_NUM_THREADS="1")

# Float sums over ranks run in another order than in one process (the gathered gradients, the
# sparse rows, the loss's mean as a sum of per-rank shares): each step differs by rounding (1e-7),
# and Adam, which divides each update by the root of its squared-gradient average, magnifies the
# relative rounding of small gradients, so the difference grows with the steps. Measured on these
# sizes (unit vectors, entries up to 0.5): 1e-6 after 108 steps, 2.6e-5 after 162.
TOLERANCE = 1e-4
# The attention tower over whole histories: Adam turns the rounding differences of near-zero
# gradients into steps of the learning rate's size, and where LibTorch's oneDNN product does not
# run (CPUs without AVX512) the products are MKL's, whose rounding follows the number of rows each
# rank multiplies. Measured 2.1e-3 between one process and 2 ranks on a 2-core AVX2 AMD EPYC; a
# rank that computed the wrong rows or gradients is off by far more, and the losses below must
# still agree to 1e-6.
TOLERANCES = {"attention-full": 5e-3}

pytestmark = pytest.mark.skipif(not dist.is_gloo_available(), reason="torch.distributed has no Gloo backend here")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    raw = twotower.generate(root / "gen", users=300, items=120, reviews=3000, clusters=4, review_words=0, seed=3)
    twotower.prepare(raw["reviews"], root / "prepared", meta=raw["meta"], quiet=True)
    return root / "prepared"


def config(prepared, out, **extra):
    """pair.yaml shrunk to about 0.2 s an epoch, one thread; dropout off unless asked, so that one
    process and W ranks draw the same numbers."""
    values = {"data.data_path": str(prepared), "training.output_dir": str(out), "training.num_epochs": 2,
              "training.batch_size": 64, "training.threads": 1, "model.embedding_dim": 16,
              "model.user_mlp_hidden": [32], "model.item_mlp_hidden": [32], "model.dropout": 0.0,
              "training.best_metric": "train_loss"}
    values.update(extra)
    return ["--config", str(ROOT / "configs" / "pair.yaml"), "--no-eval"] + [f"{k}={json.dumps(v)}" for k, v in values.items()]


def one_process(args):
    return subprocess.run([sys.executable, "-m", "twotower", "train", *args], env=ENV, capture_output=True,
                          text=True, timeout=300)


def torchrun_command(nproc, args, *launcher):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc), *launcher,
            "-m", "twotower", "train", *args]


def workers(nproc, args, *launcher, env=ENV):
    return subprocess.run(torchrun_command(nproc, args, *launcher), env=env, capture_output=True, text=True,
                          timeout=600)


def ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def embeddings(run):
    return [np.load(run / name) for name in ("user_embeddings.npy", "item_embeddings.npy")]


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(embeddings(a), embeddings(b)))


def history(run):
    return json.loads((run / "history.json").read_text())["epochs"]


OPTIONS = {
    "softmax-mixed-history": {"training.loss": "mixed", "training.mixed_negatives": 50},
    "softmax-lazy-adam-clip": {"training.loss": "softmax", "training.embedding_optimizer": "lazy_adam",
                               "training.clip_grad_norm": 1.0},
    "bce-adagrad-features": {"training.loss": "bce", "data.neg_ratio": 3, "training.embedding_optimizer": "adagrad",
                             "model.use_category": True, "model.use_brand": True, "model.user_history": 0},
    "bpr-shared-user-tower": {"training.loss": "bpr", "data.neg_ratio": 2, "training.shared_user_tower": True},
    # Dense Adam: the tables' summed gradients stay sparse (fused_adam, the default) or are made
    # dense (torch's Adam); clipping over the sparse ones.
    "bce-dense-adam-clip": {"training.loss": "bce", "training.clip_grad_norm": 1.0},
    "softmax-torch-adam": {"training.loss": "softmax", "training.fused_adam": False},
    # Batches of whole histories, split over the ranks by pair: a history cut between two ranks is
    # encoded on both, each keeping its own prefixes.
    "attention-full": {"training.loss": "full", "model.user_history": 10, "model.user_history_pooling": "attention",
                       "model.attention_dropout": 0.0, "model.use_user_id": False},
}


@pytest.mark.parametrize("name", OPTIONS)
def test_ranks_train_to_the_one_process_parameters(prepared, tmp_path, name):
    ok(one_process(config(prepared, tmp_path / "one", **OPTIONS[name])))
    for nproc in (2, 4) if name == "softmax-mixed-history" else (2,):
        run = tmp_path / f"ranks{nproc}"
        result = ok(workers(nproc, config(prepared, run, **OPTIONS[name])))
        assert f"data-parallel: {nproc} ranks" in result.stderr
        assert max_difference(tmp_path / "one", run) <= TOLERANCES.get(name, TOLERANCE), (name, nproc)
        for a, b in zip(history(tmp_path / "one"), history(run)):
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
            assert a["steps"] == b["steps"]
        last = history(run)[-1]
        # Dense gradients and the tables' touched rows travel; softmax losses gather item vectors.
        assert last["comm_dense_bytes_per_step"] > 0 and last["comm_sparse_bytes_per_step"] > 0
        assert (last["comm_gather_bytes_per_step"] > 0) == (OPTIONS[name]["training.loss"] in ("mixed", "softmax"))
        # Rank 0 alone writes the run.
        assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted(
            p.name for p in (tmp_path / "one" / "checkpoints").iterdir())


def test_sparse_rows_summed_by_gathering_equal_gloos_sparse_all_reduce(prepared, tmp_path):
    # The exchange a GPU run takes (NCCL has no sparse all-reduce), here on Gloo.
    extra = OPTIONS["softmax-lazy-adam-clip"]
    ok(one_process(config(prepared, tmp_path / "one", **extra)))
    ok(workers(2, config(prepared, tmp_path / "gathered", **extra),
               env=dict(ENV, TWOTOWER_SPARSE_EXCHANGE="allgather")))
    assert max_difference(tmp_path / "one", tmp_path / "gathered") <= TOLERANCE
    bad = workers(2, config(prepared, tmp_path / "bad"), env=dict(ENV, TWOTOWER_SPARSE_EXCHANGE="ring"))
    assert bad.returncode != 0 and 'TWOTOWER_SPARSE_EXCHANGE: got "ring"' in bad.stderr


def worker_pids(launcher):
    """Rank -> pid of the workers that this torchrun (pid `launcher`) started: its children."""
    ranks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)
        values = dict(v.split(b"=", 1) for v in environ if b"=" in v)
        if parent == launcher and b"RANK" in values:
            ranks[int(values[b"RANK"])] = int(entry.name)
    return ranks


def kill_rank_after_first_epoch(proc, run, rank):
    deadline = time.monotonic() + 240
    while not (run / "checkpoints" / "last.pt").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the workers ended before epoch 1's checkpoint"
        time.sleep(0.02)
    pids = worker_pids(proc.pid)
    assert rank in pids, pids
    os.kill(pids[rank], signal.SIGKILL)
    return time.monotonic()


def test_killed_worker_stops_the_job_and_resume_finishes_it_bit_exactly(prepared, tmp_path):
    # Dropout on: every rank's own random stream must also continue exactly.
    extra = {"training.num_epochs": 4, "training.batch_size": 16, "model.dropout": 0.1}
    ok(workers(2, config(prepared, tmp_path / "unbroken", **extra)))
    run = tmp_path / "killed"
    proc = subprocess.Popen(torchrun_command(2, config(prepared, run, **extra)), env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    killed_at = kill_rank_after_first_epoch(proc, run, rank=1)
    output, _ = proc.communicate(timeout=120)
    stopped_after = time.monotonic() - killed_at
    assert proc.returncode != 0
    assert "rank      : 1" in output and "SIGKILL" in output, output[-3000:]
    assert stopped_after < 60, f"the surviving rank stopped {stopped_after:.1f} s after the kill"
    done = len(history(run))
    assert 1 <= done < 4
    result = ok(workers(2, config(prepared, run, **extra) + ["--resume"]))
    assert len(history(run)) == 4
    assert "resum" in result.stderr.lower()
    for a, b in zip(embeddings(tmp_path / "unbroken"), embeddings(run)):
        np.testing.assert_array_equal(a, b)


def test_resume_at_another_world_size(prepared, tmp_path):
    extra = {"training.num_epochs": 3}
    ok(one_process(config(prepared, tmp_path / "one", **extra)))
    run = tmp_path / "two_then_one"
    ok(workers(2, config(prepared, run, **dict(extra, **{"training.num_epochs": 1}))))
    ok(one_process(config(prepared, run, **extra) + ["--resume"]))
    assert [r["epoch"] for r in history(run)] == [1, 2, 3]
    assert max_difference(tmp_path / "one", run) <= TOLERANCE
    run = tmp_path / "one_then_four"
    ok(one_process(config(prepared, run, **dict(extra, **{"training.num_epochs": 1}))))
    ok(workers(4, config(prepared, run, **extra) + ["--resume"]))
    assert max_difference(tmp_path / "one", run) <= TOLERANCE


def test_elastic_restart_resumes_from_the_last_checkpoint(prepared, tmp_path):
    extra = {"training.num_epochs": 4, "training.batch_size": 16}
    run = tmp_path / "elastic"
    proc = subprocess.Popen(torchrun_command(2, config(prepared, run, **extra), "--max-restarts", "1"), env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    kill_rank_after_first_epoch(proc, run, rank=1)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    assert "resuming" in output.lower() or "resumed" in output.lower(), output[-3000:]
    assert [r["epoch"] for r in history(run)] == [1, 2, 3, 4]
    ok(one_process(config(prepared, tmp_path / "one", **extra)))
    assert max_difference(tmp_path / "one", run) <= TOLERANCE


def test_nproc_starts_the_workers_through_torchrun(prepared, tmp_path):
    result = subprocess.run([CLI, "train", "--nproc", "2", *config(prepared, tmp_path / "run")], env=ENV,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "torch.distributed.run --standalone --nproc_per_node 2 -m twotower train" in result.stderr
    assert "data-parallel: 2 ranks" in result.stderr
    ok(one_process(config(prepared, tmp_path / "one")))
    assert max_difference(tmp_path / "one", tmp_path / "run") <= TOLERANCE


def test_a_bad_config_fails_on_every_rank_with_the_message(prepared, tmp_path):
    result = workers(2, config(prepared, tmp_path / "run", **{"training.batch_size": -1}))
    assert result.returncode != 0
    assert 'override "training.batch_size=-1"' in result.stderr, result.stderr[-2000:]


TRAIN_IN_A_GROUP = """
import sys
import torch.distributed as dist
import twotower
dist.init_process_group("gloo")
summary = twotower.train(sys.argv[1], sys.argv[2:], group=dist.group.WORLD)
print("rank", dist.get_rank(), "epochs", summary["epochs_done"], "history", len(summary["history"]))
dist.destroy_process_group()
"""


def test_the_python_function_trains_in_a_group_it_is_given(prepared, tmp_path):
    script = tmp_path / "train_in_group.py"
    script.write_text(TRAIN_IN_A_GROUP)
    args = config(prepared, tmp_path / "run")
    overrides = [a for a in args[3:]]
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             str(script), args[1], *overrides], env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    # Every rank returns; the history (rank 0's) says the epochs.
    assert "rank 0 epochs 2 history 2" in result.stdout and "rank 1 epochs 2 history 0" in result.stdout
    ok(one_process(config(prepared, tmp_path / "one")))
    assert max_difference(tmp_path / "one", tmp_path / "run") <= TOLERANCE
