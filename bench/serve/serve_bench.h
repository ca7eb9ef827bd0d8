// `twotower bench serve`: single-query top-k latency of the serving index (TopKIndex: exact, and
// HNSW at each efSearch with its recall@k against exact) beside faiss-cpu from Python
// (bench/serve_faiss.py: IndexFlatIP and IndexHNSWFlat with the same M, efConstruction and
// efSearch) on the same vectors and queries, in one run, one thread each. Data sets: an export's
// items with its known users' vectors as queries (Games), and generated clustered vectors at the
// reference's size with held-out queries from the same distribution.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace twotower {

struct ServeBenchOptions {
  std::filesystem::path export_dir;  // a serving export (or its parent); empty skips that data set
  int64_t generated_items = 159279;  // items of the generated data set, >= 0 (0 skips it)
  int64_t dim = 128;                 // width of the generated vectors, >= 1
  int64_t queries = 2000;            // timed queries per index, >= 1
  int64_t k = 10;                    // top k, >= 1
  int hnsw_m = 32;                   // HNSW neighbours per node, >= 2
  int ef_construction = 200;         // HNSW build candidate list, >= 1
  std::vector<int> ef_search{64, 128};  // efSearch values measured, each >= 1
  int build_threads = 1;             // OpenMP threads while the graphs are built (both systems), >= 1
  std::filesystem::path python;      // the interpreter with faiss-cpu and numpy
  std::filesystem::path work_dir;    // scratch folder for the .npy files and the faiss log
  std::string command_line;          // printed first
};

/// Runs the benchmark and prints its table to `out`.
void run_serve_bench(const ServeBenchOptions& options, std::ostream& out);

struct Latency {
  double p50_us = 0;
  double p99_us = 0;
};

/// p50 and p99 of per-query times: sorted[n / 2] and sorted[min(n - 1, n * 99 / 100)] (as
/// bench/serve_faiss.py takes them). Throws for an empty list.
Latency percentiles(std::vector<double> us);

/// Recall@k of `found` against `truth`, both [n, k] row ids (row-major; -1 pads a short row):
/// the mean over rows of |found row & truth row| / k, ids of -1 never counting. 1.0 when n == 0.
double recall_against(std::span<const int64_t> found, std::span<const int64_t> truth, int64_t k);

struct FaissSide {
  std::string version;             // faiss.__version__
  Latency flat;                    // IndexFlatIP
  double hnsw_build_s = 0;         // IndexHNSWFlat.add
  std::map<int, Latency> hnsw;     // efSearch -> latency
  std::map<int, double> recall;    // efSearch -> recall@k against IndexFlatIP
};

/// Parses serve_faiss.py's JSON line (the last line of `output` that starts with '{'); throws
/// quoting the output's end when there is none or a field is missing.
FaissSide parse_faiss_output(const std::string& output);

}  // namespace twotower
