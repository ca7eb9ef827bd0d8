// Full-ranking evaluation throughput on random embeddings: Games size (50,546 users x 16,859
// items x 128) and the reference size (93,543 x 159,279 x 128, generated), memory bounded by
// the chunk size. Prints the command and the machine with the figures.
//
//   build/bench/evaluate_bench                                  # both sizes
//   build/bench/evaluate_bench --benchmark_filter=Games         # Games size only
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench_context.h"
#include "twotower/eval/evaluator.h"

namespace twotower {
namespace {

// A leave-last-out-like split: every user has 1-15 train items, one valid and one test item.
EvalData synthetic_split(int64_t users, int64_t items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Interactions in;
  for (int64_t u = 0; u < users; ++u) {
    const int n = 1 + static_cast<int>(rng() % 15);
    for (int k = 0; k < n + 2; ++k) {
      in.user.push_back(u);
      in.item.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(items)));
      in.rating.push_back(NAN);
      in.timestamp.push_back(k);
      in.split.push_back(k < n ? Split::kTrain : k == n ? Split::kValid : Split::kTest);
    }
  }
  return make_eval_data(in, users, items, Split::kTest);
}

std::vector<float> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> m(static_cast<size_t>(rows * cols));
  for (float& x : m) x = g(rng);
  return m;
}

// CPU seconds of every thread of the process: with other jobs sharing the cores, wall time
// overstates the cost and this does not (an idle 2-core machine needs about cpu_s / 2).
double process_cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

double peak_rss_gib() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

// Args: users, items, dim, chunk_users.
void BM_EvaluateEmbeddings(benchmark::State& state) {
  const int64_t users = state.range(0), items = state.range(1), dim = state.range(2), chunk = state.range(3);
  const EvalData data = synthetic_split(users, items, 1);
  const std::vector<float> u = random_matrix(users, dim, 2), v = random_matrix(items, dim, 3);
  EvalOptions o;
  o.ks = {10, 20};
  o.chunk_users = chunk;
  RankingMetrics m;
  const double cpu_start = process_cpu_seconds();
  for (auto _ : state) {
    m = evaluate_embeddings(data, {u.data(), users, dim}, {v.data(), items, dim}, o);
    benchmark::DoNotOptimize(m);
  }
  state.counters["process_cpu_s"] = process_cpu_seconds() - cpu_start;
  state.counters["users_per_s"] = benchmark::Counter(static_cast<double>(m.all.users), benchmark::Counter::kIsRate);
  state.counters["GFLOP_per_s"] = benchmark::Counter(2.0 * static_cast<double>(users) * static_cast<double>(items) *
                                                         static_cast<double>(dim) / 1e9,
                                                     benchmark::Counter::kIsRate);
  state.counters["score_buffer_MiB"] = static_cast<double>(chunk * items * 4) / (1024.0 * 1024.0);
  state.counters["peak_rss_GiB"] = peak_rss_gib();
  state.counters["recall@10"] = m.value("recall@10");
  state.counters["score_s"] = m.score_seconds;
  state.counters["rank_s"] = m.rank_seconds;
}

// Scoring only (the GEMM), chunk by chunk, to split the time between scoring and ranking.
void BM_ScoreOnly(benchmark::State& state) {
  const int64_t users = state.range(0), items = state.range(1), dim = state.range(2), chunk = state.range(3);
  const std::vector<float> u = random_matrix(users, dim, 2), v = random_matrix(items, dim, 3);
  DotProductScorer scorer({u.data(), users, dim}, {v.data(), items, dim});
  std::vector<int64_t> ids(static_cast<size_t>(users));
  for (int64_t i = 0; i < users; ++i) ids[static_cast<size_t>(i)] = i;
  std::vector<float> out(static_cast<size_t>(chunk * items));
  const double cpu_start = process_cpu_seconds();
  for (auto _ : state) {
    for (int64_t first = 0; first < users; first += chunk) {
      const int64_t n = std::min(chunk, users - first);
      scorer.score_users({ids.data() + first, static_cast<size_t>(n)}, out.data());
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.counters["GFLOP_per_s"] = benchmark::Counter(2.0 * static_cast<double>(users) * static_cast<double>(items) *
                                                         static_cast<double>(dim) / 1e9,
                                                     benchmark::Counter::kIsRate);
  state.counters["process_cpu_s"] = process_cpu_seconds() - cpu_start;
}

constexpr int64_t kGamesUsers = 50546, kGamesItems = 16859;
constexpr int64_t kRefUsers = 93543, kRefItems = 159279;

BENCHMARK(BM_ScoreOnly)->Name("Games/score_only")->Args({kGamesUsers, kGamesItems, 128, 1024})
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_EvaluateEmbeddings)->Name("Games/evaluate")->Args({kGamesUsers, kGamesItems, 128, 1024})
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_EvaluateEmbeddings)->Name("Games/evaluate")->Args({kGamesUsers, kGamesItems, 128, 256})
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_EvaluateEmbeddings)->Name("Reference/evaluate")->Args({kRefUsers, kRefItems, 128, 256})
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();


}  // namespace
}  // namespace twotower

int main(int argc, char** argv) { return twotower::benchmark_main(argc, argv); }
