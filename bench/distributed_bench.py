"""Data-parallel training speed on one machine: pairs/s of one process and of N torchrun workers
(Gloo on loopback, one thread each), with the communication per step (dense and sparse bytes,
gathered item vectors) and its share of the step time, read from the runs' history.json.

    .venv/bin/python bench/distributed_bench.py [--data PREPARED] [--configs best,reference]
        [--nprocs 1,2] [--steps 60] [--work DIR] [section.key=value ...]

Without --data it prepares Games from ../shared/data (skipped with a message when absent).
Prints the command, the CPU, its cores and load before the figures; every run in one go, so the
ratios are comparable (absolute figures move with the machine's other load)."""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = os.environ.get("TWOTOWER_CLI", str(ROOT / "build" / "twotower"))
GAMES = ROOT.parent / "shared" / "data" / "amazon-2018" / "games"


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "unknown CPU")
    load = open("/proc/loadavg").read().split()[:3]
    return f"{model}, {os.cpu_count()} cores, load {' '.join(load)}"


def prepared_games(work):
    out = work / "games"
    if (out / "interactions_mapped.parquet").exists():
        return out
    if not (GAMES / "Games.inter.gz").exists():
        sys.exit(f"distributed_bench: skipped: {GAMES}/Games.inter.gz is absent (give --data PREPARED)")
    subprocess.run([CLI, "prepare", "--reviews", str(GAMES / "Games.inter.gz"), "--meta", str(GAMES / "Games.item.gz"),
                    "--out", str(out), "--overwrite", "-q"], check=True)
    return out


def run(nproc, config, data, out, steps, threads, extra):
    overrides = [f"data.data_path={data}", f"training.output_dir={out}", "training.num_epochs=1",
                 f"training.max_steps_per_epoch={steps}", f"training.threads={threads}",
                 "training.best_metric=train_loss", *extra]
    train = ["-m", "twotower", "train", "--config", str(ROOT / "configs" / f"{config}.yaml"), "--no-eval", *overrides]
    if nproc == 1:
        command = [sys.executable, *train]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc), *train]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), OMP_NUM_THREADS=str(threads))
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"distributed_bench: {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    record = json.loads((out / "history.json").read_text())["epochs"][-1]
    record["wall_s"] = time.monotonic() - start
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a prepared data folder (default: Games, prepared once)")
    parser.add_argument("--configs", default="best,reference", help="configs/NAME.yaml, comma-separated")
    parser.add_argument("--nprocs", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per run (one epoch capped)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "distributed_bench")
    parser.add_argument("overrides", nargs="*", help="section.key=value for every run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print("command:", " ".join([sys.executable] + sys.argv))
    print("machine:", machine())
    data = args.data or prepared_games(args.work)
    print("data:", data)
    header = ("config", "procs", "threads", "pairs/s", "ratio", "dense B/step", "sparse B/step", "gather B/step",
              "comm share")
    print(" | ".join(header))
    nprocs = [int(n) for n in args.nprocs.split(",")]
    # One thread per worker (as torchrun sets OMP_NUM_THREADS), and one process with as many
    # threads as the most workers have in all: the peer on the same cores.
    runs = [(n, 1) for n in nprocs] + ([(1, max(nprocs))] if max(nprocs) > 1 else [])
    for config in args.configs.split(","):
        base = None
        for nproc, threads in runs:
            r = run(nproc, config, data, args.work / f"{config}-{nproc}x{threads}", args.steps, threads,
                    args.overrides)
            base = base or r["pairs_per_s"]
            print(" | ".join([config, str(nproc), str(threads), f"{r['pairs_per_s']:.0f}",
                              f"{r['pairs_per_s'] / base:.2f}",
                              f"{r.get('comm_dense_bytes_per_step', 0):.0f}",
                              f"{r.get('comm_sparse_bytes_per_step', 0):.0f}",
                              f"{r.get('comm_gather_bytes_per_step', 0):.0f}",
                              f"{r.get('comm_share', 0):.2f}"]), flush=True)
    print("machine after:", machine())


if __name__ == "__main__":
    main()
