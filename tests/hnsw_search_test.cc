#include "twotower/serve/index/hnsw_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace twotower {
namespace {

constexpr int64_t kD = 24, kN = 3000, kQ = 100, kK = 10;

// Plain Gaussian rows (no clusters: a hard case for a graph), scaled to unit length.
std::vector<float> unit_gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(n * kD));
  for (int64_t r = 0; r < n; ++r) {
    float* row = out.data() + r * kD;
    float norm = 0;
    for (int64_t j = 0; j < kD; ++j) {
      row[j] = normal(rng);
      norm += row[j] * row[j];
    }
    for (int64_t j = 0; j < kD; ++j) row[j] /= std::sqrt(norm);
  }
  return out;
}

// The exact top kK rows of each query, by faiss's flat index.
std::vector<std::set<int64_t>> exact_top(const std::vector<float>& items, const std::vector<float>& queries) {
  faiss::IndexFlatIP flat(kD);
  flat.add(kN, items.data());
  std::vector<float> scores(kQ * kK);
  std::vector<faiss::Index::idx_t> ids(kQ * kK);
  flat.search(kQ, queries.data(), kK, scores.data(), ids.data());
  std::vector<std::set<int64_t>> out(kQ);
  for (int64_t q = 0; q < kQ; ++q) out[q] = std::set<int64_t>(ids.begin() + q * kK, ids.begin() + (q + 1) * kK);
  return out;
}

double walk_recall(const faiss::IndexHNSW& index, const std::vector<float>& queries,
                   const std::vector<std::set<int64_t>>& truth, int ef) {
  int64_t hits = 0;
  for (int64_t q = 0; q < kQ; ++q) {
    const auto found = walk_hnsw(index, queries.data() + q * kD, ef, kK);
    EXPECT_EQ(found.size(), static_cast<size_t>(kK));
    for (const auto& [score, row] : found) hits += truth[q].contains(row) ? 1 : 0;
  }
  return static_cast<double>(hits) / (kQ * kK);
}

double faiss_recall(const faiss::IndexHNSW& index, const std::vector<float>& queries,
                    const std::vector<std::set<int64_t>>& truth) {
  std::vector<float> scores(kQ * kK);
  std::vector<faiss::Index::idx_t> ids(kQ * kK);
  index.search(kQ, queries.data(), kK, scores.data(), ids.data());
  int64_t hits = 0;
  for (int64_t q = 0; q < kQ; ++q) {
    for (int64_t r = 0; r < kK; ++r) hits += truth[q].contains(ids[q * kK + r]) ? 1 : 0;
  }
  return static_cast<double>(hits) / (kQ * kK);
}

// On one graph (M 8, efConstruction 32, hard data), the walk finds at least what faiss's own search
// finds at the same efSearch (less 0.02 for a different stopping rule), more as efSearch grows, and
// each answer's scores are the rows' true inner products with the query.
TEST(HnswSearch, RecallAsFaissOwnSearch) {
  const std::vector<float> items = unit_gaussian(kN, 1), queries = unit_gaussian(kQ, 2);
  faiss::IndexHNSWFlat index(kD, 8, faiss::METRIC_INNER_PRODUCT);
  index.hnsw.efConstruction = 32;
  index.add(kN, items.data());
  const auto truth = exact_top(items, queries);
  double previous = 0;
  for (int ef : {10, 40, 160}) {
    index.hnsw.efSearch = ef;
    const double ours = walk_recall(index, queries, truth, ef), theirs = faiss_recall(index, queries, truth);
    EXPECT_GE(ours, theirs - 0.02) << "ef " << ef;
    EXPECT_GE(ours, previous) << "ef " << ef;
    previous = ours;
  }
  EXPECT_GE(previous, 0.97);
  for (const auto& [score, row] : walk_hnsw(index, queries.data(), 40, kK)) {
    float want = 0;
    for (int64_t j = 0; j < kD; ++j) want += queries[j] * items[static_cast<size_t>(row * kD + j)];
    EXPECT_NEAR(score, want, 1e-5);
  }
}

// Threads walking one graph at once (each with its own visited table) answer as one thread does;
// an empty graph answers nothing, a one-row graph that row, a k above the rows every row.
TEST(HnswSearch, ConcurrentEmptyAndSmall) {
  const std::vector<float> items = unit_gaussian(kN, 3), queries = unit_gaussian(kQ, 4);
  faiss::IndexHNSWFlat index(kD, 8, faiss::METRIC_INNER_PRODUCT);
  index.add(kN, items.data());
  std::vector<std::vector<std::pair<float, int64_t>>> alone(kQ);
  for (int64_t q = 0; q < kQ; ++q) alone[q] = walk_hnsw(index, queries.data() + q * kD, 32, kK);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t q = 0; q < kQ; ++q) mismatches[t] += walk_hnsw(index, queries.data() + q * kD, 32, kK) != alone[q];
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));

  faiss::IndexHNSWFlat empty(kD, 8, faiss::METRIC_INNER_PRODUCT);
  EXPECT_TRUE(walk_hnsw(empty, queries.data(), 16, kK).empty());
  faiss::IndexHNSWFlat small(kD, 8, faiss::METRIC_INNER_PRODUCT);
  small.add(1, items.data());
  const auto one = walk_hnsw(small, queries.data(), 16, kK);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].second, 0);
  small.add(4, items.data() + kD);
  std::vector<int64_t> rows;
  for (const auto& [score, row] : walk_hnsw(small, queries.data(), 16, kK)) rows.push_back(row);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace twotower
