#!/usr/bin/env python3
"""Throughput of `twotower prepare` beside a plain pandas reader of the same file, in one run.

Cases: Games (RecBole .inter, pandas.read_csv), Magazine 5-core (2018 JSON lines,
pandas.read_json(lines=True)), the Magazine ratings CSV (pandas.read_csv) and a generated file of
5 million 2018-format reviews (pandas.read_json(lines=True), read in chunks of 500,000 lines so
that the comparison fits in memory on a small machine). Each side runs as its own process under
/usr/bin/time (wall time, peak RSS). twotower's figure is the whole process: reading, filtering,
splitting and writing the folder, plus loading its shared libraries; pandas' is the read call
only (interpreter start and import excluded), so that ratio is conservative for twotower. The
"in process" figures are prepare's own clock (the last line of its summary): reading, filtering,
splitting and writing, without the start-up of the process (loading LibTorch and Arrow).

usage: bench/prepare_bench.py [--cli build/twotower] [--shared ../shared/data]
                              [--generated-reviews 5000000] [--work /tmp/twotower-prepare-bench]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMN_BYTES_PER_ROW = 8 + 8 + 4 + 8 + 1  # user_idx, item_idx int64, rating float32, timestamp int64, split


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{model}, {os.cpu_count()} cores, {mem:,} MiB, {platform.system()} {platform.release()}, "
            f"load average {load[0]:.2f}")


def generate(cli, gen, n, plain=False):
    """Writes n generated 2018-format reviews into gen (reviews.json.gz, or reviews.json when plain):
    n / 25 users, n / 100 items, 32 clusters. Returns the reviews file."""
    cmd = [cli, "generate", "--out", gen, "--users", max(1, n // 25), "--items", max(16, n // 100),
           "--reviews", n, "--clusters", 32] + (["--plain"] if plain else [])
    subprocess.run([str(x) for x in cmd], check=True, capture_output=True)
    return Path(gen) / ("reviews.json" if plain else "reviews.json.gz")


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MiB, stdout, CPU seconds)."""
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M %U %S", *map(str, cmd)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{out.stderr[-2000:]}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1]
    _, wall, rss_kb, user, system = line.split()
    return float(wall), int(rss_kb) / 1024, out.stdout, float(user) + float(system)


PANDAS_SNIPPET = """
import sys, time, pandas as pd
path, kind = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.process_time()
if kind == 'inter':
    n = len(pd.read_csv(path, sep='\\t'))
elif kind == 'csv':
    n = len(pd.read_csv(path, header=None, names=['item', 'user', 'rating', 'timestamp']))
elif kind == 'json':
    n = len(pd.read_json(path, lines=True))
else:  # json in chunks of 500,000 lines
    n = sum(len(c) for c in pd.read_json(path, lines=True, chunksize=500000))
print(n, time.perf_counter() - t, time.process_time() - c)
"""


def text_bytes(path):
    import gzip
    total = 0
    with (gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")) as f:
        while chunk := f.read(1 << 24):
            total += len(chunk)
    return total


def bench(name, cli, path, pandas_kind, work, python, meta=None):
    out = work / f"prepared-{name}"
    cmd = [cli, "prepare", "--reviews", path, "--out", out, "--overwrite"]
    if meta:
        cmd += ["--meta", meta]
    wall, rss, stdout, cpu = timed(cmd)
    cpu = max(1e-3, cpu - BASE_CPU)
    stats = json.loads((out / "stats.json").read_text())
    rows = stats["interactions"]
    # The summary's last line is the time prepare() took in the process: read, filter, split, write.
    inside = float(stdout.strip().splitlines()[-1].split()[0])
    pwall, prss, pout, _ = timed([python, "-c", PANDAS_SNIPPET, path, pandas_kind])
    prows, pread, pcpu = pout.split()
    prows, pread, pcpu = int(prows), float(pread), float(pcpu)
    mb = text_bytes(path) / 1e6
    columns_mib = rows * COLUMN_BYTES_PER_ROW / 2**20
    print(f"\n## {name}: {path} ({Path(path).stat().st_size / 1e6:.1f} MB on disk, {mb:.1f} MB of text, {rows:,} reviews)")
    print("   command: " + " ".join(map(str, cmd)))
    print(f"   pandas:  {pandas_label(pandas_kind)}")
    print(f"   twotower prepare: {wall:7.2f} s process ({rows / wall:,.0f} reviews/s, {mb / wall:,.1f} MB/s), "
          f"{inside:.2f} s in process ({rows / inside:,.0f} reviews/s, {mb / inside:,.1f} MB/s), peak RSS {rss:,.0f} MiB")
    print(f"   pandas read:      {pread:7.2f} s ({prows / pread:,.0f} reviews/s, {mb / pread:,.1f} MB/s), "
          f"peak RSS {prss:,.0f} MiB (process {pwall:.2f} s)")
    print(f"   ratio (pandas read / twotower): {pread / wall:.1f}x by process, {pread / inside:.1f}x in process")
    print(f"   CPU seconds (robust to other load): twotower {cpu:.2f} (process minus idle start-up), pandas read "
          f"{pcpu:.2f}, ratio {pcpu / cpu:.1f}x")
    print(f"   interaction columns {columns_mib:,.0f} MiB ({COLUMN_BYTES_PER_ROW} B/row); twotower peak RSS "
          f"{rss / columns_mib:.2f}x of them, {(rss - BASE_RSS) / columns_mib:.2f}x above the "
          f"{BASE_RSS:.0f} MiB an idle twotower process holds")
    if prows != rows:
        print(f"   WARNING: pandas read {prows:,} rows, twotower {rows:,}")
    return {"name": name, "rows": rows, "wall": wall, "inside": inside, "rss": rss, "pandas": pread,
            "pandas_rss": prss, "cpu": cpu, "pandas_cpu": pcpu}


def pandas_label(kind):
    return {"inter": "pandas.read_csv(path, sep='\\t')",
            "csv": "pandas.read_csv(path, header=None, names=[item, user, rating, timestamp])",
            "json": "pandas.read_json(path, lines=True)",
            "json-chunks": "pandas.read_json(path, lines=True, chunksize=500000), every chunk"}[kind]


BASE_RSS = 0.0
BASE_WALL = 0.0
BASE_CPU = 0.0


def main():
    global BASE_RSS, BASE_WALL, BASE_CPU
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=str(ROOT / "build" / "twotower"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--generated-reviews", type=int, default=5_000_000)
    ap.add_argument("--work", default="/tmp/twotower-prepare-bench")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    print("# twotower prepare vs pandas")
    print("command: " + " ".join([sys.executable, *sys.argv]))
    print("machine: " + machine())
    BASE_WALL, BASE_RSS, _, BASE_CPU = min(timed([a.cli, "--version"]) for _ in range(3))
    print(f"idle start-up of {a.cli} --version: {BASE_WALL:.2f} s, {BASE_CPU:.2f} CPU s, peak RSS {BASE_RSS:.0f} MiB")
    results = []
    amazon = Path(a.shared) / "amazon-2018"
    cases = [("games", amazon / "games" / "Games.inter.gz", "inter", amazon / "games" / "Games.item.gz"),
             ("magazine-json", amazon / "magazine" / "Magazine_Subscriptions_5.json.gz", "json", None),
             ("magazine-csv", amazon / "magazine" / "Magazine_Subscriptions.csv.gz", "csv", None)]
    for name, path, kind, meta in cases:
        if not path.exists():
            print(f"\n## {name}: skipped, shared data absent: {path}")
            continue
        results.append(bench(name, a.cli, path, kind, work, a.python, meta if meta and meta.exists() else None))
    if a.generated_reviews > 0:
        n = a.generated_reviews
        gen = work / f"generated-{n}"
        if not (gen / "reviews.json.gz").exists():
            t = time.time()
            generate(a.cli, gen, n)
            print(f"\n(generated {n:,} reviews in {time.time() - t:.1f} s)")
        results.append(bench(f"generated-{n}", a.cli, gen / "reviews.json.gz",
                             "json-chunks" if n > 1_000_000 else "json", work, a.python))
    print("\n| case | reviews | twotower s (process / in process) | pandas s | ratio (process / in process) | CPU s twotower / pandas (ratio) | twotower peak RSS MiB | pandas peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['rows']:,} | {r['wall']:.2f} / {r['inside']:.2f} | {r['pandas']:.2f} | "
              f"{r['pandas'] / r['wall']:.1f}x / {r['pandas'] / r['inside']:.1f}x | "
              f"{r['cpu']:.2f} / {r['pandas_cpu']:.2f} ({r['pandas_cpu'] / r['cpu']:.1f}x) | "
              f"{r['rss']:,.0f} | {r['pandas_rss']:,.0f} |")
    for name in [p.name for p in work.glob("prepared-*")]:
        shutil.rmtree(work / name, ignore_errors=True)


if __name__ == "__main__":
    main()
