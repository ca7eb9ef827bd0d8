"""The stages of twotower as Python functions, each running the CLI's own code in the C++ core."""

import json
import os
import sys

from . import _core


def _flags(options):
    """Keyword arguments as CLI flags: ``kcore=5`` -> ``--kcore 5``, ``overwrite=True`` ->
    ``--overwrite``, ``k=(10, 20)`` -> ``--k 10,20``; None and False are left out."""
    args = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _under_torchrun():
    return "TORCHELASTIC_RUN_ID" in os.environ and "RANK" in os.environ and "WORLD_SIZE" in os.environ


def _distributed_train(args):
    """``train`` in a worker that torchrun started: joins torch.distributed's process group (Gloo
    on the CPU; NCCL for CUDA tensors when available) and trains data-parallel over it. A worker
    that torchrun restarted (TORCHELASTIC_RESTART_COUNT > 0) resumes from the last checkpoint."""
    import datetime

    import torch
    import torch.distributed as dist

    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
    # How long a collective waits for a rank that stopped answering before this one fails.
    timeout = datetime.timedelta(seconds=float(os.environ.get("TWOTOWER_DIST_TIMEOUT", "600")))
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        # The agent's store outlives a restart (same MASTER_PORT), so the group's keys get the
        # attempt in their prefix: without it a restarted worker reads the dead workers' Gloo
        # addresses and fails with "connectFullMesh failed ... Connection refused".
        store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]),
                              int(os.environ["WORLD_SIZE"]), is_master=False, timeout=timeout)
        dist.init_process_group(backend, store=dist.PrefixStore(f"twotower/attempt_{restart}", store),
                                rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]),
                                timeout=timeout)
    else:
        dist.init_process_group(backend, timeout=timeout)
    if restart > 0 and "--resume" not in args:
        args = args + ["--resume-if-exists"]
    try:
        return _core.run_cli(args, dist.group.WORLD)
    finally:
        dist.destroy_process_group()


def main(argv=None):
    """Runs the twotower CLI on ``argv`` (default: ``sys.argv[1:]``) in this process and returns
    its exit code; ``python -m twotower`` calls it. Under torchrun (``torchrun --nproc_per_node N
    -m twotower train ...``), ``train`` trains data-parallel over the workers (docs/distributed.md)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "train" and _under_torchrun() and "--nproc" not in args:
        return _distributed_train(args)
    return _core.run_cli(args)


def generate(out, **options):
    """Writes a synthetic Amazon-format data set with planted user/item clusters into ``out``:
    ``twotower generate --out OUT`` with the other flags as keyword arguments (``users``,
    ``items``, ``reviews``, ``clusters``, ``in_cluster``, ``review_words``, ``seed``,
    ``format``, ``plain``). Returns the paths written: ``{"reviews": ..., "meta": ...}``
    (e.g. ``out/reviews.json.gz`` and ``out/meta.json.gz``).

    Raises twotower.Error on a bad option (CLI11's message) or a failed write."""
    _core.run_command(["generate", "--out", os.fspath(out)] + _flags(options))
    names = sorted(os.listdir(out))
    is_meta = lambda name: name.startswith("meta.") or ".item" in name
    reviews = next(n for n in names if n.startswith(("reviews", "ratings")) and not is_meta(n))
    meta = next(n for n in names if is_meta(n))
    return {"reviews": os.path.join(out, reviews), "meta": os.path.join(out, meta)}


def prepare(reviews, out, meta=None, **options):
    """Reviews (+ item metadata) to a prepared data set folder, as ``twotower prepare`` does.

    Args:
        reviews: review file (.gz or plain): Amazon 2014/2018/2023 JSON lines, ratings CSV or
            RecBole .inter.
        out: output folder (written under a temporary name, then renamed).
        meta: item metadata file, optional.
        **options: the other flags of ``twotower prepare --help`` with ``_`` for ``-``:
            ``format``, ``meta_format``, ``split`` ("loo" or "time"), ``train_fraction``,
            ``valid_fraction``, ``valid_from``, ``test_from``, ``duplicates``, ``kcore``,
            ``min_user_interactions``, ``min_item_interactions``, ``reviewed_items_only``,
            ``skip_bad_lines``, ``overwrite``, ``quiet`` (no progress and no summary).

    Returns:
        The statistics dict, as ``out/stats.json`` holds it.

    Raises:
        twotower.Error: bad input, naming file, line and field, or a bad option.
    """
    args = ["prepare", "--reviews", os.fspath(reviews), "--out", os.fspath(out)]
    if meta is not None:
        args += ["--meta", os.fspath(meta)]
    _core.run_command(args + _flags(options))
    return _read_json(os.path.join(out, "stats.json"))


def _override_list(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    return [str(o) for o in overrides]


def train(config, overrides=None, resume=False, eval=True, group=None):
    """Trains a two-tower model, as ``twotower train`` does.

    Args:
        config: a YAML file's path, or a dict of sections like the YAML file
            (``{"data": {"data_path": ...}, "training": {"num_epochs": 4}}``). A dict is written
            as YAML text (JSON) and parsed by the same parser, so every key and value is checked
            alike; messages name it ``<dict>``.
        overrides: ``"section.key=value"`` strings (value in YAML syntax) or a dict
            ``{"training.num_epochs": 1}``, applied before the checks.
        resume: continue from ``OUTPUT_DIR/checkpoints/last.pt``.
        eval: compute the validation ranking metrics (recall/ndcg @10, @20) after each epoch;
            with False, ``training.best_metric`` must be ``val_loss`` or ``train_loss``.
        group: a ``torch.distributed`` process group to train data-parallel over (every rank
            calls train with the same arguments; rank 0 writes the run); None: this process.

    Returns:
        ``{"run_dir": training.output_dir, "history": [one dict per epoch, as history.json],
        "best_epoch": 1-based, "best_value", "epochs_done", "stopped_early",
        "pairs_per_second"}``. The run folder holds config.yaml, history.json, checkpoints and
        the best epoch's user_embeddings.npy / item_embeddings.npy.

    Raises:
        twotower.Error: a bad config (file, line, field, value got and expected) or bad data.
        KeyboardInterrupt: Ctrl-C; checked after every step and after each epoch's checkpoint:
            the run is left resumable with ``resume=True`` from its last checkpoint (the epoch
            under way, if any, is run again).
    """
    if isinstance(config, dict):
        path, text, source = "", json.dumps(config, indent=2), "<dict>"
    else:
        path, text, source = os.fspath(config), "", ""
    result = _core.train(path, text, source, _override_list(overrides), bool(resume), bool(eval), group)
    return json.loads(result)


def evaluate(run=None, split="test", k=(10, 20), out=None, **options):
    """Full-ranking metrics of a run's embeddings (and the popularity / item-kNN baselines), as
    ``twotower evaluate`` does; writes the same JSON file and prints the same table.

    Args:
        run: run folder (config.yaml with data.data_path, user/item_embeddings.npy).
        split: "valid" or "test".
        k: cutoffs.
        out: output JSON; default ``RUN/metrics_<split>.json``.
        **options: the other flags of ``twotower evaluate --help``: ``data``, ``user_emb``,
            ``item_emb``, ``item_vectors``, ``baselines_only``, ``no_baselines``,
            ``chunk_users``, ``knn_neighbours``, ``threads``.

    Returns:
        The metrics dict, as the JSON file holds it.

    Raises:
        twotower.Error: a missing or invalid run folder, data or embeddings, or a bad option.
    """
    if out is None:
        if run is None:
            raise _core.Error("evaluate: got neither run nor out, expected out (the JSON file to write) "
                              "when there is no run folder")
        out = os.path.join(run, f"metrics_{split}.json")
    args = ["evaluate", "--split", str(split), "--k", ",".join(str(x) for x in k), "--out", os.fspath(out)]
    if run is not None:
        args += ["--run", os.fspath(run)]
    _core.run_command(args + _flags(options))
    return _read_json(out)
