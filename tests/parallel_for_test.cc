#include "twotower/common/parallel_for.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

// Counts the visits of every index of [0, n) on `threads` threads.
std::vector<int> visits(int64_t n, int threads) {
  std::vector<std::atomic<int>> counts(static_cast<size_t>(n));
  parallel_for(n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) counts[static_cast<size_t>(i)].fetch_add(1);
  });
  std::vector<int> out;
  for (const auto& c : counts) out.push_back(c.load());
  return out;
}

// Every index of [0, n) is visited exactly once, for any thread count.
TEST(ParallelFor, EveryIndexVisitedExactlyOnce) {
  for (int threads : {1, 2, 3, 7}) {
    EXPECT_EQ(visits(1000, threads), std::vector<int>(1000, 1)) << threads << " threads";
  }
}

// 10 items on 3 workers: slices [10w/3, 10(w+1)/3) = [0, 3), [3, 6), [6, 10).
TEST(ParallelFor, SlicesAreContiguousAndInOrder) {
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> slices;
  parallel_for(10, 3, [&](int64_t begin, int64_t end) {
    std::lock_guard lock(m);
    slices.emplace_back(begin, end);
  });
  std::sort(slices.begin(), slices.end());
  EXPECT_EQ(slices, (std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 6}, {6, 10}}));
}

// No items: fn is never called. One item: one call with [0, 1), on the calling thread.
TEST(ParallelFor, ZeroAndOneItems) {
  int calls = 0;
  parallel_for(0, 4, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  std::thread::id caller = std::this_thread::get_id(), ran_on;
  parallel_for(1, 4, [&](int64_t begin, int64_t end) {
    ++calls;
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 1);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, caller);
}

// More threads than items: one worker per item, each with a slice of exactly one index.
TEST(ParallelFor, MoreThreadsThanItems) {
  std::atomic<int> calls = 0;
  std::vector<std::atomic<int>> counts(3);
  parallel_for(3, 16, [&](int64_t begin, int64_t end) {
    ++calls;
    EXPECT_EQ(end - begin, 1);
    for (int64_t i = begin; i < end; ++i) counts[static_cast<size_t>(i)].fetch_add(1);
  });
  EXPECT_EQ(calls.load(), 3);
  for (const auto& c : counts) EXPECT_EQ(c.load(), 1);
}

// A worker's exception reaches the caller after every worker has finished; with several
// failing workers, the lowest-numbered one's (here the slice starting at 0) is the one seen.
TEST(ParallelFor, WorkerExceptionReachesTheCaller) {
  std::atomic<int> finished = 0;
  try {
    parallel_for(4, 4, [&](int64_t begin, int64_t) {
      if (begin == 0 || begin == 2) {
        ++finished;
        throw std::runtime_error("worker " + std::to_string(begin) + " failed");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++finished;
    });
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "worker 0 failed");
  }
  EXPECT_EQ(finished.load(), 4);  // all joined before the rethrow
  // On the calling thread (one worker) the exception passes through as well.
  EXPECT_THROW(parallel_for(5, 1, [](int64_t, int64_t) { throw std::runtime_error("inline"); }),
               std::runtime_error);
}

TEST(ParallelFor, BadArgumentsNameTheValue) {
  auto noop = [](int64_t, int64_t) {};
  testing::expect_exact_error([&] { parallel_for(-1, 2, noop); }, "parallel_for: got -1 items, expected >= 0");
  testing::expect_exact_error([&] { parallel_for(3, 0, noop); }, "parallel_for: got 0 threads, expected >= 1");
}

// 0 asks for the hardware concurrency (at least 1); a positive count is kept; negative throws.
TEST(ParallelFor, ResolveThreads) {
  EXPECT_EQ(resolve_threads(3, "x"), 3);
  EXPECT_GE(resolve_threads(0, "x"), 1);
  testing::expect_exact_error([&] { resolve_threads(-2, "evaluation"); }, "evaluation: field \"num_threads\": got -2, expected >= 0");
}

}  // namespace
}  // namespace twotower
