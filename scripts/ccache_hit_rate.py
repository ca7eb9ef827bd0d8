#!/usr/bin/env python3
"""Prints the compiler cache's hits and misses between two `ccache --print-stats` outputs.
  scripts/ccache_hit_rate.py BEFORE AFTER     (files holding each output)
"""
import sys

# ccache 4.x names; direct and preprocessed hits together are the cache's hits.
HITS = ("direct_cache_hit", "preprocessed_cache_hit")
MISSES = ("cache_miss",)


def read(path):
    stats = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                stats[parts[0]] = int(parts[1])
    return stats


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = read(sys.argv[1]), read(sys.argv[2])
    hits = sum(after.get(k, 0) - before.get(k, 0) for k in HITS)
    misses = sum(after.get(k, 0) - before.get(k, 0) for k in MISSES)
    total = hits + misses
    rate = 100.0 * hits / total if total else 0.0
    print(f"ccache: {hits} hits, {misses} misses of {total} compilations ({rate:.1f}% hits)")


if __name__ == "__main__":
    main()
