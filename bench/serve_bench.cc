// Single-query top-10 latency of the serving index on clustered unit vectors (128-d,
// serve/clustered.h): Games' size (16,859 items) and the reference's (159,279); `twotower bench
// serve` measures the same beside faiss-cpu from Python, this binary beside Debian's faiss. Exact
// by TopKIndex (the evaluator's DotProductScorer, then a top-10 heap) beside Debian faiss's
// IndexFlatIP on the same vectors, and HNSW
// (M 32, efConstruction 200) at efSearch 64 and 128 with its recall@10 against exact. Each
// benchmark reports p50/p99 of the per-query wall time (microseconds) as counters. One thread.
//
//   build/bench/serve_bench                                 # both sizes
//   build/bench/serve_bench --benchmark_filter=/16859       # Games size only
//   TWOTOWER_SERVE_BENCH_EXPORT=exports/gen build/bench/serve_bench --benchmark_filter=Recommend
#include <benchmark/benchmark.h>
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "bench_context.h"
#include "serve/clustered.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/recommender.h"
#include "twotower/serve/index/topk_index.h"

namespace twotower {
namespace {

constexpr int64_t kDim = 128;
constexpr int64_t kQueries = 2000;
constexpr int64_t kTop = 10;

struct Data {
  std::vector<float> items, queries;
};

const Data& data_of(int64_t items) {
  static std::map<int64_t, Data> cache;
  auto it = cache.find(items);
  if (it == cache.end()) it = cache.emplace(items, Data{clustered_rows(items, 11), clustered_rows(kQueries, 12)}).first;
  return it->second;
}

std::span<const float> query(const Data& d, int64_t q) {
  return {d.queries.data() + (q % kQueries) * kDim, static_cast<size_t>(kDim)};
}

// Times `one(q)` per query; sets p50/p99 (microseconds) counters.
template <typename Fn>
void timed_queries(benchmark::State& state, Fn one) {
  std::vector<double> us;
  int64_t q = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    one(q++);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void BM_ExactIndex(benchmark::State& state) {
  const Data& d = data_of(state.range(0));
  TopKIndex index(d.items, kDim);
  timed_queries(state, [&](int64_t q) { benchmark::DoNotOptimize(index.search(query(d, q), kTop)); });
}

void BM_FaissFlatIP(benchmark::State& state) {
  const Data& d = data_of(state.range(0));
  faiss::IndexFlatIP flat(kDim);
  flat.add(state.range(0), d.items.data());
  std::vector<float> scores(kTop);
  std::vector<faiss::Index::idx_t> ids(kTop);
  timed_queries(state, [&](int64_t q) { flat.search(1, query(d, q).data(), kTop, scores.data(), ids.data()); });
}

void BM_Hnsw(benchmark::State& state) {
  const Data& d = data_of(state.range(0));
  static std::map<int64_t, std::unique_ptr<TopKIndex>> built;  // one build per size
  auto& index = built[state.range(0)];
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  if (!index) index = std::make_unique<TopKIndex>(d.items, kDim, o);
  index->set_hnsw_ef_search(static_cast<int>(state.range(1)));
  timed_queries(state, [&](int64_t q) { benchmark::DoNotOptimize(index->search(query(d, q), kTop)); });
  state.counters["recall@10"] = index->recall_at({d.queries.data(), static_cast<size_t>(500 * kDim)}, kTop);
}

// Whole requests through the Recommender of an export (TWOTOWER_SERVE_BENCH_EXPORT, e.g. one of
// generated data): known users (stored vector, seen items excluded) and 5-item histories (the user
// tower at request time), exact (arg 0) or HNSW (arg 1, M 32, efSearch 64).
const Recommender* recommender(int hnsw) {
  static std::map<int, std::unique_ptr<Recommender>> loaded;
  const char* path = std::getenv("TWOTOWER_SERVE_BENCH_EXPORT");
  if (path == nullptr) return nullptr;
  auto& r = loaded[hnsw];
  if (!r) {
    RecommenderOptions o;
    o.index.kind = hnsw ? IndexKind::kHnsw : IndexKind::kExact;
    r = std::make_unique<Recommender>(path, o);
  }
  return r.get();
}

void BM_RecommendKnownUser(benchmark::State& state) {
  const Recommender* r = recommender(static_cast<int>(state.range(0)));
  if (r == nullptr) return state.SkipWithError("TWOTOWER_SERVE_BENCH_EXPORT is not set");
  const ExportCatalogue c = read_export_catalogue(r->info().path);
  timed_queries(state, [&](int64_t q) {
    const auto u = static_cast<size_t>(q * 7919 % static_cast<int64_t>(c.user_ids.size()));
    benchmark::DoNotOptimize(r->recommend({c.user_ids[u], {}, kTop, true, {}}));
  });
  state.counters["items"] = static_cast<double>(r->info().num_items);
}

void BM_RecommendHistory(benchmark::State& state) {
  const Recommender* r = recommender(static_cast<int>(state.range(0)));
  if (r == nullptr) return state.SkipWithError("TWOTOWER_SERVE_BENCH_EXPORT is not set");
  const ExportCatalogue c = read_export_catalogue(r->info().path);
  const auto n = static_cast<int64_t>(c.item_ids.size());
  timed_queries(state, [&](int64_t q) {
    std::vector<std::string> history;
    for (int64_t j = 0; j < 5; ++j) history.push_back(c.item_ids[static_cast<size_t>((q * 31 + j * 977) % n)]);
    benchmark::DoNotOptimize(r->recommend({"", history, kTop, true, {}}));
  });
}

BENCHMARK(BM_RecommendKnownUser)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RecommendHistory)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExactIndex)->Arg(16859)->Arg(159279)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FaissFlatIP)->Arg(16859)->Arg(159279)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Hnsw)->Args({16859, 16})->Args({16859, 64})->Args({16859, 128})->Args({159279, 64})->Args({159279, 128})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace twotower

int main(int argc, char** argv) {
  omp_set_num_threads(1);
  return twotower::benchmark_main(argc, argv);
}
