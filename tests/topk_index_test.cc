#include "twotower/serve/index/topk_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "test_util.h"

namespace twotower {
namespace {

// n unit rows of width d: `clusters` centres (0 = no clusters: plain Gaussian rows) plus noise.
std::vector<float> unit_rows(int64_t n, int64_t d, int clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(std::max(clusters, 1) * d));
  for (float& c : centres) c = normal(rng);
  std::vector<float> out(static_cast<size_t>(n * d));
  for (int64_t r = 0; r < n; ++r) {
    const float* c = centres.data() + (clusters > 0 ? static_cast<int64_t>(rng() % clusters) : 0) * d;
    float norm = 0;
    for (int64_t j = 0; j < d; ++j) {
      float& v = out[static_cast<size_t>(r * d + j)];
      v = clusters > 0 ? c[j] + 0.3f * normal(rng) : normal(rng);
      norm += v * v;
    }
    for (int64_t j = 0; j < d; ++j) out[static_cast<size_t>(r * d + j)] /= std::sqrt(norm);
  }
  return out;
}

// The reference: every row's score, sorted by score descending then row ascending, excluded rows
// dropped, the first k kept.
std::vector<ScoredItem> brute_force(const std::vector<float>& items, int64_t d, const float* q, int64_t k,
                                    const std::set<int64_t>& exclude) {
  std::vector<ScoredItem> all;
  for (int64_t r = 0; r < static_cast<int64_t>(items.size()) / d; ++r) {
    if (exclude.contains(r)) continue;
    float s = 0;
    for (int64_t j = 0; j < d; ++j) s += items[static_cast<size_t>(r * d + j)] * q[j];
    all.push_back({r, s});
  }
  std::sort(all.begin(), all.end(), [](const ScoredItem& a, const ScoredItem& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(k)));
  return all;
}

// Exact search returns the brute-force ranking, exclusions applied, on 600 Gaussian rows with
// a run of duplicates (rows 100..109 copy row 5: ties broken by the lower row).
TEST(TopKIndex, ExactEqualsBruteForce) {
  const int64_t n = 600, d = 16, k = 10;
  std::vector<float> items = unit_rows(n, d, 0, 1);
  for (int64_t r = 100; r < 110; ++r) std::copy_n(items.data() + 5 * d, d, items.data() + r * d);
  const std::vector<float> queries = unit_rows(30, d, 0, 2);
  TopKIndex index(items, d);
  EXPECT_EQ(index.size(), n);
  for (int64_t q = 0; q < 31; ++q) {
    // The last query is row 5 itself: its ten copies tie.
    const float* query = q < 30 ? queries.data() + q * d : items.data() + 5 * d;
    const std::set<int64_t> exclude = q % 2 ? std::set<int64_t>{} : std::set<int64_t>{3, 5, 101, 599, 7000};
    const std::vector<int64_t> ex(exclude.begin(), exclude.end());
    const std::vector<ScoredItem> got = index.search({query, static_cast<size_t>(d)}, k, ex);
    const std::vector<ScoredItem> want = brute_force(items, d, query, k, exclude);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r) {
      EXPECT_EQ(got[r].item, want[r].item) << "query " << q << " rank " << r;
      EXPECT_NEAR(got[r].score, want[r].score, 1e-5);
    }
  }
}

// Fewer rows than k (after exclusions): all eligible rows come back, best first.
TEST(TopKIndex, FewerRowsThanK) {
  const std::vector<float> items = {1, 0, 0, 1, 0.6f, 0.8f};  // three rows, d = 2
  TopKIndex index(items, 2);
  const std::vector<float> q = {1, 0};
  const std::vector<int64_t> exclude = {1};
  const std::vector<ScoredItem> got = index.search(q, 10, exclude);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].item, 0);  // 1*1 + 0*0 = 1
  EXPECT_EQ(got[1].item, 2);  // 0.6
  EXPECT_FLOAT_EQ(got[1].score, 0.6f);
}

// HNSW at the default options (M 32, efConstruction 200, efSearch 96) over 5,000 clustered unit rows finds >= 95% of
// the exact top 10; rows added later are searchable under their new ids and stored as given.
TEST(TopKIndex, HnswRecallAndAdd) {
  const int64_t n = 5000, d = 32;
  const std::vector<float> items = unit_rows(n, d, 50, 3);
  const std::vector<float> queries = unit_rows(200, d, 50, 4);
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  TopKIndex index(items, d, o);
  const double recall = index.recall_at(queries, 10);
  EXPECT_GE(recall, 0.95);
  EXPECT_LE(recall, 1.0);
  TopKIndex exact(items, d);
  EXPECT_EQ(exact.recall_at(queries, 10), 1.0);
  // A new row equal to the query is its best match (score 1 for unit rows).
  const std::span<const float> q(queries.data(), static_cast<size_t>(d));
  index.add(q);
  exact.add(q);
  for (TopKIndex* i : {&index, &exact}) {
    EXPECT_EQ(i->size(), n + 1);
    const std::vector<ScoredItem> got = i->search(q, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].item, n);
    EXPECT_NEAR(got[0].score, 1.0f, 1e-5);
    const std::span<const float> stored = i->vector(n), first = i->vector(0);
    EXPECT_TRUE(std::equal(stored.begin(), stored.end(), q.begin()));
    EXPECT_TRUE(std::equal(first.begin(), first.end(), items.begin()));
  }
}

// A saved HNSW graph reads back with its M and efConstruction and answers every query as the
// original; the exact index has nothing to save; a file of another kind is named.
TEST(TopKIndex, HnswSavesAndLoads) {
  testing::TempDir dir;
  const int64_t d = 16;
  const std::vector<float> items = unit_rows(800, d, 20, 5), queries = unit_rows(50, d, 20, 6);
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  o.hnsw_m = 12;
  o.hnsw_ef_construction = 40;
  TopKIndex built(items, d, o);
  built.save((dir / "g.faiss").string());
  const std::unique_ptr<TopKIndex> loaded =
      TopKIndex::load_hnsw((dir / "g.faiss").string(), d, built.options().hnsw_ef_search);
  EXPECT_EQ(loaded->size(), 800);
  EXPECT_EQ(loaded->options().hnsw_m, 12);
  EXPECT_EQ(loaded->options().hnsw_ef_construction, 40);
  for (int64_t q = 0; q < 50; ++q) {
    const std::span<const float> query(queries.data() + q * d, static_cast<size_t>(d));
    const std::vector<ScoredItem> a = built.search(query, 10), b = loaded->search(query, 10);
    ASSERT_EQ(a.size(), b.size());
    for (size_t r = 0; r < a.size(); ++r) EXPECT_EQ(a[r].item, b[r].item) << "query " << q;
  }
  testing::expect_error([&] { TopKIndex::load_hnsw((dir / "g.faiss").string(), 8, 64); },
                        "g.faiss: got an IndexHNSWFlat of width 16, expected an inner-product IndexHNSWFlat of "
                        "width 8");
  testing::write_file(dir / "not.faiss", "hello");
  testing::expect_error([&] { TopKIndex::load_hnsw((dir / "not.faiss").string(), d, 64); },
                        "not.faiss: cannot read a faiss index");
  TopKIndex exact(items, d);
  testing::expect_exact_error([&] { exact.save((dir / "e.faiss").string()); },
                              "top-k index: save: got the exact index, expected hnsw");
}

// efSearch set after the build, or given at load, widens the search: faiss 1.7.3 sizes the
// candidate queue by the graph's own efSearch whatever the search parameters say, so a graph built
// at efSearch 10 stayed at ef 10's recall when asked for 400. Plain Gaussian rows in 32-d and a
// small graph (M 8, efConstruction 16) keep ef 10 well below exact.
TEST(TopKIndex, EfSearchTakesEffectAfterBuildAndLoad) {
  testing::TempDir dir;
  const int64_t d = 32;
  const std::vector<float> items = unit_rows(4000, d, 0, 7), queries = unit_rows(100, d, 0, 8);
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  o.hnsw_m = 8;
  o.hnsw_ef_construction = 16;
  o.hnsw_ef_search = 10;
  TopKIndex index(items, d, o);
  const double narrow = index.recall_at(queries, 10);
  EXPECT_LT(narrow, 0.95);
  index.save((dir / "g.faiss").string());
  index.set_hnsw_ef_search(400);
  const double wide = index.recall_at(queries, 10);
  EXPECT_GE(wide, 0.98) << "ef 10: " << narrow;
  EXPECT_EQ(TopKIndex::load_hnsw((dir / "g.faiss").string(), d, 400)->recall_at(queries, 10), wide);
  EXPECT_EQ(TopKIndex::load_hnsw((dir / "g.faiss").string(), d, 10)->recall_at(queries, 10), narrow);
}

// Bad options and queries name the option or the size got and expected.
TEST(TopKIndex, Errors) {
  const std::vector<float> items = {1, 0, 0, 1};
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  o.hnsw_m = 1;
  testing::expect_exact_error([&] { TopKIndex(items, 2, o); }, "index option hnsw_m: got 1, expected >= 2");
  testing::expect_error([&] { TopKIndex(items, 3); }, "got 4 floats, expected a multiple of dim 3");
  TopKIndex index(items, 2);
  const std::vector<float> q = {1, 0, 0};
  testing::expect_exact_error([&] { index.search(q, 1); }, "top-k index: got a query of 3 floats, expected 2");
  testing::expect_exact_error([&] { index.search({q.data(), 2}, 0); }, "top-k index: got k 0, expected >= 1");
  testing::expect_exact_error([&] { parse_index_kind("ivf", "--index"); },
                              "--index: got \"ivf\", expected exact or hnsw");
}

}  // namespace
}  // namespace twotower
