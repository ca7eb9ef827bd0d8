#!/usr/bin/env python3
"""`twotower prepare` on a review file larger than the memory it may use.

Generates (once, kept under --work) a plain 2018-format JSON lines file of --reviews reviews
(default 20 million, about 5.3 GB) with `twotower generate`, then runs `prepare` on it with its
data segment (heap and private anonymous memory, RLIMIT_DATA, set by `prlimit --data`) capped at
--cap-mib, below the file's size: the reviews stream through and only the interaction columns
are held. Prints the command, the machine, the file size, the cap, wall and CPU time, peak RSS and
the interaction columns' size, and checks that every review came through (stats.json).

usage: bench/prepare_large.py [--cli build/twotower] [--reviews 20000000] [--cap-mib 1536]
                              [--work /tmp/twotower-prepare-large] [--gzip]
"""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from prepare_bench import COLUMN_BYTES_PER_ROW, ROOT, generate, machine


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=str(ROOT / "build" / "twotower"))
    ap.add_argument("--reviews", type=int, default=20_000_000)
    ap.add_argument("--cap-mib", type=int, default=1536, help="RLIMIT_DATA of prepare, MiB")
    ap.add_argument("--work", default="/tmp/twotower-prepare-large")
    ap.add_argument("--gzip", action="store_true", help="generate reviews.json.gz instead of a plain file")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    print("# twotower prepare on a file larger than its memory cap")
    print("command: " + " ".join([sys.executable, *sys.argv]))
    print("machine: " + machine())
    gen = work / f"generated-{a.reviews}"
    reviews = gen / ("reviews.json.gz" if a.gzip else "reviews.json")
    if not reviews.exists():
        t = time.time()
        generate(a.cli, gen, a.reviews, plain=not a.gzip)
        print(f"generated {a.reviews:,} reviews in {time.time() - t:.0f} s")
    size_mib = reviews.stat().st_size / 2**20
    out = work / "prepared"
    cap = a.cap_mib * 2**20
    cmd = ["prlimit", f"--data={cap}", "/usr/bin/time", "-f", "TIME %e %M %U %S",
           a.cli, "prepare", "--reviews", reviews, "--out", out, "--overwrite"]
    print("run: " + " ".join(map(str, cmd)))
    run = subprocess.run([str(x) for x in cmd], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"prepare failed under a {a.cap_mib} MiB cap (exit {run.returncode}):\n{run.stderr[-3000:]}")
    wall, rss_kib, user, system = [l for l in run.stderr.splitlines() if l.startswith("TIME ")][-1].split()[1:]
    rss_mib = int(rss_kib) / 1024
    stats = json.loads((out / "stats.json").read_text())
    rows = stats["interactions"]
    read = stats["input"]["lines"]
    columns_mib = rows * COLUMN_BYTES_PER_ROW / 2**20
    print(f"\nfile: {reviews} ({size_mib:,.0f} MiB)")
    print(f"memory cap (RLIMIT_DATA): {a.cap_mib:,} MiB = {a.cap_mib / size_mib:.2f}x the file")
    print(f"prepare: {float(wall):.1f} s wall, {float(user) + float(system):.1f} CPU s, "
          f"{rows / float(wall):,.0f} reviews/s, peak RSS {rss_mib:,.0f} MiB "
          f"({rss_mib / size_mib:.2f}x the file, {rss_mib / columns_mib:.2f}x the {columns_mib:,.0f} MiB of interaction columns)")
    print(f"interactions kept: {rows:,} of {read:,} lines read")
    if rows < a.reviews * 0.9:
        sys.exit(f"expected about {a.reviews:,} interactions, got {rows:,}")
    if rss_mib > a.cap_mib:
        sys.exit(f"peak RSS {rss_mib:,.0f} MiB above the cap")
    print("\n| reviews | file MiB | cap MiB | wall s | CPU s | peak RSS MiB | RSS / file | RSS / columns |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {rows:,} | {size_mib:,.0f} | {a.cap_mib:,} | {float(wall):.1f} | {float(user) + float(system):.1f} | "
          f"{rss_mib:,.0f} | {rss_mib / size_mib:.2f} | {rss_mib / columns_mib:.2f} |")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
