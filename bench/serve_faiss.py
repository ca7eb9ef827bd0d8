#!/usr/bin/env python3
"""faiss-cpu (PyPI) beside `twotower bench serve`: single-query top-k latency of IndexFlatIP and
IndexHNSWFlat (inner product, the given M, efConstruction and efSearch values) on the same item
vectors and queries, one thread; recall@k of HNSW against the flat index's exact top k.

The per-query time is one `index.search(queries[q:q + 1], k)` call from Python, the wrapper's
overhead included (p50 2.7 us for a one-row index on the 2-core benchmark machine), as a Python
service would call it.

usage: bench/serve_faiss.py ITEMS.npy QUERIES.npy --k 10 --m 32 --ef-construction 200
                            --ef-search 64,128 [--out-ids DIR]
Prints one JSON object on stdout: {"faiss_version", "flat": {p50_us, p99_us},
"hnsw": {"build_s", "ef": {"64": {p50_us, p99_us, recall}}}}.
"""
import argparse
import json
import sys
import time

import numpy as np

import faiss


def percentiles(us):
    """p50 and p99 the way the C++ side takes them: sorted[n // 2], sorted[min(n - 1, n * 99 // 100)]."""
    s = sorted(us)
    n = len(s)
    return {"p50_us": s[n // 2], "p99_us": s[min(n - 1, n * 99 // 100)]}


def timed_search(index, queries, k, params=None):
    """Searches one query at a time; returns the per-query microseconds and the ids [n, k]."""
    us, ids = [], np.empty((len(queries), k), dtype=np.int64)
    for q in range(len(queries)):
        row = queries[q : q + 1]
        t0 = time.perf_counter()
        _, found = index.search(row, k, params=params) if params is not None else index.search(row, k)
        us.append((time.perf_counter() - t0) * 1e6)
        ids[q] = found[0]
    return us, ids


def recall(found, truth, k):
    """Mean over queries of |found row & truth row| / k."""
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth))
    return hits / (k * len(truth))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("items")
    p.add_argument("queries")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef-search", default="64,128", help="comma-separated efSearch values")
    p.add_argument("--build-threads", type=int, default=1, help="OpenMP threads for the HNSW build")
    a = p.parse_args(argv)
    items = np.ascontiguousarray(np.load(a.items), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(a.queries), dtype=np.float32)
    if items.ndim != 2 or queries.ndim != 2 or items.shape[1] != queries.shape[1]:
        sys.exit(f"serve_faiss.py: got items {items.shape} and queries {queries.shape}, expected [n, d] and [q, d]")
    d = items.shape[1]

    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatIP(d)
    flat.add(items)
    timed_search(flat, queries[: min(50, len(queries))], a.k)  # warm-up: page in the vectors
    flat_us, truth = timed_search(flat, queries, a.k)
    out = {"faiss_version": faiss.__version__, "flat": percentiles(flat_us)}

    faiss.omp_set_num_threads(a.build_threads)
    hnsw = faiss.IndexHNSWFlat(d, a.m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = a.ef_construction
    t0 = time.perf_counter()
    hnsw.add(items)
    out["hnsw"] = {"build_s": time.perf_counter() - t0, "ef": {}}
    faiss.omp_set_num_threads(1)
    for ef in (int(e) for e in a.ef_search.split(",")):
        params = faiss.SearchParametersHNSW(efSearch=max(ef, a.k))
        timed_search(hnsw, queries[: min(50, len(queries))], a.k, params)
        us, found = timed_search(hnsw, queries, a.k, params)
        out["hnsw"]["ef"][str(ef)] = {**percentiles(us), "recall": recall(found, truth, a.k)}
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
