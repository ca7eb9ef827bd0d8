#include "twotower/train/negative_sampler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {
namespace {

// Negatives lie in [0, n), follow the seed, never equal their positive when excluded, and the
// saved state continues the same stream.
TEST(NegativeSampler, RangeSeedExclusionAndState) {
  std::vector<int64_t> pos{0, 1, 2, 0};
  std::vector<int64_t> a(12), b(12), c(12);
  NegativeSampler s1(3, 9), s2(3, 9);
  s1.sample(pos.data(), 4, 3, true, a.data());
  s2.sample(pos.data(), 4, 3, true, b.data());
  EXPECT_EQ(a, b);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t j = 0; j < 4; ++j) {
      int64_t v = a[static_cast<size_t>(r * 4 + j)];
      EXPECT_GE(v, 0);
      EXPECT_LT(v, 3);
      EXPECT_NE(v, pos[static_cast<size_t>(j)]);
    }
  }
  std::string state = s1.state();
  s1.sample(pos.data(), 4, 3, false, a.data());
  NegativeSampler s3(3, 1);
  s3.set_state(state);
  s3.sample(pos.data(), 4, 3, false, c.data());
  EXPECT_EQ(a, c);
  EXPECT_THROW(NegativeSampler(1, 0).sample(pos.data(), 1, 1, true, a.data()), Error);
}

}  // namespace
}  // namespace twotower
