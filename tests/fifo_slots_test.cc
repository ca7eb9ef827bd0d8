#include "twotower/serve/http/fifo_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace twotower {
namespace {

// Waiters get the slot in the order they asked for it, and never more than `slots` hold one.
TEST(FifoSlots, GrantsInRequestOrderAndBoundsHolders) {
  FifoSlots slots(1);
  slots.acquire();  // held by the test: every thread below has to wait
  constexpr int kWaiters = 6;
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> holders{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      FifoSlots::Held held(slots);
      int now = ++holders;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(i);
      }
      --holders;
    });
    while (slots.waiting() < i + 1) std::this_thread::yield();  // thread i queued before i + 1 starts
  }
  slots.release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(most.load(), 1);
  // Free again: two acquires on two slots do not block.
  FifoSlots two(2);
  two.acquire();
  two.acquire();
  two.release();
  two.release();
}

}  // namespace
}  // namespace twotower
