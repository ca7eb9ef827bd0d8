#include "twotower/serve/index/hnsw_storage.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "test_util.h"

namespace twotower {
namespace {

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(n));
  for (float& v : out) v = normal(rng);
  return out;
}

// The vectorised product equals a double-precision loop for every width around the 8- and
// 32-float steps and their remainders (1, 7, 8, 9, 31, 32, 33, 128, 131).
TEST(HnswStorage, InnerProductEqualsPlainSum) {
  for (int64_t d : {1, 7, 8, 9, 31, 32, 33, 128, 131}) {
    const std::vector<float> a = gaussian(d, 1), b = gaussian(d, 2);
    double want = 0, magnitude = 0;
    for (int64_t j = 0; j < d; ++j) {
      want += static_cast<double>(a[j]) * b[j];
      magnitude += std::abs(static_cast<double>(a[j]) * b[j]);
    }
    EXPECT_NEAR(storage_inner_product(a.data(), b.data(), d), want, 1e-6 * magnitude + 1e-7) << "d " << d;
  }
}

// Swapping the storage keeps the vectors bit for bit and the graph as built, so a search finds
// the same rows with the same scores (to float rounding) as faiss's own storage.
TEST(HnswStorage, SearchesAsFaissOwnStorage) {
  constexpr int64_t kD = 48, kN = 2000, kQ = 20, kK = 10;
  const std::vector<float> items = gaussian(kN * kD, 3), queries = gaussian(kQ * kD, 4);
  faiss::IndexHNSWFlat index(kD, 16, faiss::METRIC_INNER_PRODUCT);
  index.add(kN, items.data());
  std::vector<float> before_scores(kQ * kK), after_scores(kQ * kK);
  std::vector<faiss::Index::idx_t> before_ids(kQ * kK), after_ids(kQ * kK);
  index.search(kQ, queries.data(), kK, before_scores.data(), before_ids.data());
  use_vectorised_storage(index);
  use_vectorised_storage(index);  // a second call keeps the vectorised storage
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index.storage);
  ASSERT_NE(flat, nullptr);
  EXPECT_EQ(flat->ntotal, kN);
  EXPECT_EQ(std::vector<float>(flat->get_xb(), flat->get_xb() + kN * kD), items);
  index.search(kQ, queries.data(), kK, after_scores.data(), after_ids.data());
  EXPECT_EQ(after_ids, before_ids);
  for (size_t i = 0; i < before_scores.size(); ++i) EXPECT_NEAR(after_scores[i], before_scores[i], 1e-4);
  // The build's pairwise scores: row 0 with row 1.
  std::unique_ptr<faiss::DistanceComputer> dc(index.storage->get_distance_computer());
  EXPECT_NEAR(dc->symmetric_dis(0, 1), storage_inner_product(items.data(), items.data() + kD, kD), 1e-6);
}

// Only an owned inner-product IndexFlat can be replaced; the message names what was got.
TEST(HnswStorage, RejectsOtherStorage) {
  faiss::IndexHNSWFlat l2(4, 8);  // METRIC_L2
  testing::expect_exact_error([&] { use_vectorised_storage(l2); },
                              "hnsw storage: got an IndexFlat of metric 1, owned, expected an owned inner-product "
                              "IndexFlat (metric 0)");
}

}  // namespace
}  // namespace twotower
