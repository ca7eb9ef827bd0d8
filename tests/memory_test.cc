#include "twotower/common/memory.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
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

// GCC says __SANITIZE_ADDRESS__ under AddressSanitizer; clang says __has_feature(address_sanitizer).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TWOTOWER_CLANG_ASAN 1
#endif
#endif
#ifndef TWOTOWER_CLANG_ASAN
#define TWOTOWER_CLANG_ASAN 0
#endif

// A touched heap block is anonymous memory and a live malloc allocation; once freed, malloc
// either keeps it (free held) or returns it to the kernel, and it is no longer live.
TEST(Memory, AnonymousAndMallocSplit) {
#if defined(__SANITIZE_ADDRESS__) || TWOTOWER_CLANG_ASAN
  GTEST_SKIP() << "AddressSanitizer's allocator replaces malloc: mallinfo2 sees none of its blocks";
#endif
  const double anon_before = resident_anon_mib(), live_before = malloc_live_mib();
  ASSERT_GT(resident_file_mib(), 0.0);  // this binary's own code at least
  constexpr size_t kBytes = size_t{64} << 20;
  auto* block = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  EXPECT_GT(resident_anon_mib() - anon_before, 60.0);
  EXPECT_GT(malloc_live_mib() - live_before, 63.0);
  EXPECT_NEAR(resident_anon_mib() + resident_file_mib(), resident_mib(), 16.0);  // + RssShmem
  std::free(block);
  EXPECT_LT(malloc_live_mib() - live_before, 1.0);
}


// The out-of-memory message names the process's limits: a data limit set here is reported in MiB,
// and "unlimited" again once it is lifted.
TEST(Memory, LimitsSummaryNamesTheDataLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_DATA, &saved), 0);
  rlimit lower = saved;
  lower.rlim_cur = rlim_t{1} << 40;  // 1 TiB: above anything this test uses
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < lower.rlim_cur) GTEST_SKIP() << "hard data limit below 1 TiB";
  ASSERT_EQ(setrlimit(RLIMIT_DATA, &lower), 0);
  const std::string limited = memory_limits_summary();
  ASSERT_EQ(setrlimit(RLIMIT_DATA, &saved), 0);
  EXPECT_NE(limited.find("data limit 1048576 MiB,"), std::string::npos) << limited;
  EXPECT_NE(limited.find("peak resident "), std::string::npos) << limited;
  if (saved.rlim_cur == RLIM_INFINITY) {
    EXPECT_NE(memory_limits_summary().find("data limit unlimited,"), std::string::npos) << memory_limits_summary();
  }
}

}  // namespace
}  // namespace twotower
