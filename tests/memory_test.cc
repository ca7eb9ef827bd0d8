#include "twotower/common/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace twotower {
namespace {

// Touching 64 MiB raises the resident size by about that much, and the peak never falls
// below the current size.
TEST(Memory, ResidentAndPeakFollowTouchedPages) {
  const double before = resident_mib();
  ASSERT_GT(before, 0.0);
  constexpr size_t kBytes = size_t{64} << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  const double during = resident_mib();
  EXPECT_GT(during - before, 60.0);
  EXPECT_GE(peak_resident_mib(), during);
  EXPECT_EQ(block[kBytes - 1], 1);
}

}  // namespace
}  // namespace twotower
