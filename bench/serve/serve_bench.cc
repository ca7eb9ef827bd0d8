#include "serve/serve_bench.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "serve/clustered.h"
#include "train/machine.h"
#include "twotower/common/error.h"
#include "twotower/common/format.h"
#include "twotower/data/npy.h"
#include "twotower/serve/export/export_layout.h"
#include "twotower/serve/index/topk_index.h"
#include "twotower_build_paths.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

constexpr int64_t kWarmupQueries = 50;  // untimed first: page faults, caches, lazy allocations
constexpr uint64_t kItemSeed = 11, kQuerySeed = 12;

struct DataSet {
  std::string name;
  std::string description;
  int64_t dim = 0;
  std::vector<float> items;    // [n, dim]
  std::vector<float> queries;  // [q, dim]
  int64_t num_items() const { return static_cast<int64_t>(items.size()) / dim; }
  int64_t num_queries() const { return static_cast<int64_t>(queries.size()) / dim; }
};

struct OurSide {
  Latency exact;
  double hnsw_build_s = 0;
  std::map<int, Latency> hnsw;
  std::map<int, double> recall;
};

// The export's items; its known users' vectors, spread evenly over the users, are the queries.
DataSet export_data(const fs::path& path, int64_t queries) {
  const fs::path dir = resolve_export_dir(path);
  Matrix items = read_npy(dir / kItemEmbeddingsFile);
  Matrix users = read_npy(dir / kUserEmbeddingsFile);
  if (users.cols != items.cols) {
    fail(dir.string(), ": got user vectors of width ", users.cols, ", expected the items' ", items.cols);
  }
  DataSet d;
  d.name = "export";
  d.dim = items.cols;
  d.items = std::move(items.data);
  d.queries = spread_rows(users.data, d.dim, queries);
  d.description = dir.string() + ": " + thousands(d.num_items()) + " items x " + std::to_string(d.dim) + "; " +
                  thousands(d.num_queries()) + " queries: known users' vectors, spread over " +
                  thousands(users.rows) + " users";
  return d;
}

DataSet generated_data(const ServeBenchOptions& o) {
  ClusteredOptions c;
  c.dim = o.dim;
  DataSet d;
  d.name = "generated";
  d.dim = o.dim;
  d.items = clustered_rows(o.generated_items, kItemSeed, c);
  d.queries = clustered_rows(o.queries, kQuerySeed, c);
  std::ostringstream s;
  s << thousands(d.num_items()) << " items x " << d.dim << "; " << thousands(d.num_queries())
    << " held-out queries; unit rows around " << c.clusters << " N(0, 1) centres, noise " << c.noise
    << " per coordinate (seeds " << kItemSeed << ", " << kQuerySeed << ")";
  d.description = s.str();
  return d;
}

std::span<const float> query_of(const DataSet& d, int64_t q) {
  return {d.queries.data() + q * d.dim, static_cast<size_t>(d.dim)};
}

// One search per query, each timed alone, after kWarmupQueries untimed; `ids` gets [q, k] rows
// (-1 pads a short answer).
Latency time_searches(const TopKIndex& index, const DataSet& d, int64_t k, std::vector<int64_t>& ids) {
  const int64_t n = d.num_queries();
  for (int64_t q = 0; q < std::min(n, kWarmupQueries); ++q) (void)index.search(query_of(d, q), k);
  ids.assign(static_cast<size_t>(n * k), -1);
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  for (int64_t q = 0; q < n; ++q) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<ScoredItem> got = index.search(query_of(d, q), k);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    for (size_t r = 0; r < got.size(); ++r) ids[static_cast<size_t>(q * k) + r] = got[r].item;
  }
  return percentiles(std::move(us));
}

OurSide run_ours(const DataSet& d, const ServeBenchOptions& o) {
  OurSide r;
  std::vector<int64_t> truth, found;
  {
    const TopKIndex exact(d.items, d.dim);
    r.exact = time_searches(exact, d, o.k, truth);
  }
  IndexOptions h;
  h.kind = IndexKind::kHnsw;
  h.hnsw_m = o.hnsw_m;
  h.hnsw_ef_construction = o.ef_construction;
  omp_set_num_threads(o.build_threads);
  const auto t0 = std::chrono::steady_clock::now();
  TopKIndex hnsw(d.items, d.dim, h);
  r.hnsw_build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  omp_set_num_threads(1);
  for (int ef : o.ef_search) {
    hnsw.set_hnsw_ef_search(ef);
    r.hnsw[ef] = time_searches(hnsw, d, o.k, found);
    r.recall[ef] = recall_against(found, truth, o.k);
  }
  return r;
}

FaissSide run_faiss(const DataSet& d, const ServeBenchOptions& o, std::ostream& out) {
  const fs::path dir = o.work_dir / d.name;
  fs::create_directories(dir);
  const fs::path items = dir / "items.npy", queries = dir / "queries.npy", log = dir / "faiss.log";
  write_npy(Matrix{d.num_items(), d.dim, d.items}, items);
  write_npy(Matrix{d.num_queries(), d.dim, d.queries}, queries);
  std::string ef;
  for (int e : o.ef_search) ef += (ef.empty() ? "" : ",") + std::to_string(e);
  const fs::path script = fs::path(TWOTOWER_SOURCE_DIR) / "bench" / "serve_faiss.py";
  const std::vector<std::string> argv{o.python.string(), script.string(), items.string(), queries.string(),
                                      "--k", std::to_string(o.k), "--m", std::to_string(o.hnsw_m),
                                      "--ef-construction", std::to_string(o.ef_construction), "--ef-search", ef,
                                      "--build-threads", std::to_string(o.build_threads)};
  std::string shown;
  for (const std::string& a : argv) shown += (shown.empty() ? "" : " ") + a;
  out << "faiss: " << shown << "\n" << std::flush;
  fs::remove(log);
  const ChildResult child = run_child(argv, log);
  if (child.exit_code != 0) {
    fail("serve_faiss.py exited with ", child.exit_code, " (expected 0; faiss-cpu comes with scripts/setup.sh); the end of ",
         log.string(), ":", log_tail(log));
  }
  std::ifstream in(log);
  return parse_faiss_output(std::string(std::istreambuf_iterator<char>(in), {}));
}

std::string figure(double v, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

// One table row: our latency and recall, faiss's, and ours over faiss's.
void print_row(const std::string& index, const Latency& ours, double our_recall, const Latency& theirs,
               double their_recall, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %10.1f %9.1f %9.4f   %10.1f %9.1f %9.4f   %9.2f %9.2f\n", index.c_str(),
                ours.p50_us, ours.p99_us, our_recall, theirs.p50_us, theirs.p99_us, their_recall,
                ours.p50_us / theirs.p50_us, ours.p99_us / theirs.p99_us);
  out << line;
}

void print_table(const DataSet& d, const OurSide& ours, const FaissSide& theirs, const ServeBenchOptions& o,
                 std::ostream& out) {
  out << "\n" << d.name << ": " << d.description << "\n";
  out << "top " << o.k << ", one query per call, one thread; microseconds; recall@" << o.k
      << " against each system's exact top " << o.k << "\n";
  out << "index           twotower p50       p99    recall      faiss p50       p99    recall   p50 ratio p99 ratio\n";
  print_row("exact", ours.exact, 1.0, theirs.flat, 1.0, out);
  for (int ef : o.ef_search) {
    print_row("hnsw ef " + std::to_string(ef), ours.hnsw.at(ef), ours.recall.at(ef), theirs.hnsw.at(ef),
              theirs.recall.at(ef), out);
  }
  out << "hnsw build (M " << o.hnsw_m << ", efConstruction " << o.ef_construction << ", " << o.build_threads
      << " thread" << (o.build_threads > 1 ? "s" : "") << "): twotower " << figure(ours.hnsw_build_s, 1) << " s, faiss "
      << figure(theirs.hnsw_build_s, 1) << " s\n";
}

void check_options(const ServeBenchOptions& o) {
  if (o.export_dir.empty() && o.generated_items == 0) {
    fail("bench serve: got no --export and --generated-items 0, expected --export DIR or --generated-items > 0");
  }
  if (o.generated_items < 0) fail("--generated-items: got ", o.generated_items, ", expected >= 0");
  if (o.queries < 1) fail("--queries: got ", o.queries, ", expected >= 1");
  if (o.k < 1) fail("--k: got ", o.k, ", expected >= 1");
  if (o.build_threads < 1) fail("--build-threads: got ", o.build_threads, ", expected >= 1");
  if (o.ef_search.empty()) fail("--ef-search: got no value, expected at least one");
  for (int ef : o.ef_search) {
    if (ef < 1) fail("--ef-search: got ", ef, ", expected values >= 1");
  }
}

}  // namespace

Latency percentiles(std::vector<double> us) {
  if (us.empty()) fail("percentiles: got no times, expected at least one");
  std::sort(us.begin(), us.end());
  const size_t n = us.size();
  return {us[n / 2], us[std::min(n - 1, n * 99 / 100)]};
}

double recall_against(std::span<const int64_t> found, std::span<const int64_t> truth, int64_t k) {
  if (k < 1) fail("recall: got k ", k, ", expected >= 1");
  if (found.size() != truth.size() || truth.size() % static_cast<size_t>(k) != 0) {
    fail("recall: got ", found.size(), " found and ", truth.size(), " true ids, expected the same multiple of k ", k);
  }
  const auto n = static_cast<int64_t>(truth.size()) / k;
  if (n == 0) return 1.0;
  int64_t hits = 0;
  for (int64_t q = 0; q < n; ++q) {
    const auto row = truth.subspan(static_cast<size_t>(q * k), static_cast<size_t>(k));
    const std::unordered_set<int64_t> expected(row.begin(), row.end());
    for (int64_t id : found.subspan(static_cast<size_t>(q * k), static_cast<size_t>(k))) {
      hits += id >= 0 && expected.contains(id) ? 1 : 0;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(n * k);
}

FaissSide parse_faiss_output(const std::string& output) {
  std::istringstream in(output);
  std::string json_line;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind('{', 0) == 0) json_line = line;
  }
  const std::string end = output.size() > 300 ? output.substr(output.size() - 300) : output;
  if (json_line.empty()) fail("serve_faiss.py: got no JSON line, expected one starting with '{'; its output ends: ", end);
  try {
    const nlohmann::json j = nlohmann::json::parse(json_line);
    FaissSide f;
    f.version = j.at("faiss_version").get<std::string>();
    f.flat = {j.at("flat").at("p50_us").get<double>(), j.at("flat").at("p99_us").get<double>()};
    f.hnsw_build_s = j.at("hnsw").at("build_s").get<double>();
    for (const auto& [ef, v] : j.at("hnsw").at("ef").items()) {
      f.hnsw[std::stoi(ef)] = {v.at("p50_us").get<double>(), v.at("p99_us").get<double>()};
      f.recall[std::stoi(ef)] = v.at("recall").get<double>();
    }
    return f;
  } catch (const std::exception& e) {
    fail("serve_faiss.py: got \"", json_line, "\", expected its JSON result: ", e.what());
  }
}

void run_serve_bench(const ServeBenchOptions& o, std::ostream& out) {
  check_options(o);
  fs::create_directories(o.work_dir);
  const MachineInfo before = machine_info();
  out << "command: " << o.command_line << "\n";
  out << "machine: " << before.cpu_model << ", " << before.cores << " cores; " << load_text(before) << " at start\n"
      << std::flush;
  std::vector<DataSet> sets;
  if (!o.export_dir.empty()) sets.push_back(export_data(o.export_dir, o.queries));
  if (o.generated_items > 0) sets.push_back(generated_data(o));
  for (const DataSet& d : sets) {
    const OurSide ours = run_ours(d, o);
    out << d.name << ": twotower done; " << load_text(machine_info()) << "\n" << std::flush;
    const FaissSide theirs = run_faiss(d, o, out);
    out << d.name << ": faiss " << theirs.version << " done; " << load_text(machine_info()) << "\n";
    print_table(d, ours, theirs, o, out);
    out << std::flush;
  }
  out << "\n" << load_text(machine_info()) << " at end\n";
}

}  // namespace twotower
