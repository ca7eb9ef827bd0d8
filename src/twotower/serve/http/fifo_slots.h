// A counting semaphore that hands its slots out in the order they were asked for: the request
// workers of the HTTP server (http_server.h). std::counting_semaphore wakes waiters in no stated
// order, and under a closed loop of 32 connections on 2 slots that order showed as the tail
// latency (docs/serving.md).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

namespace twotower {

/// Thread-safe. acquire() blocks until a slot is free and every earlier caller has one.
class FifoSlots {
 public:
  /// `slots` >= 1.
  explicit FifoSlots(int64_t slots);
  void acquire();
  /// Gives the slot to the longest waiter, or back to the pool when none waits.
  void release();
  /// Callers blocked in acquire() now.
  int64_t waiting() const;

  /// Holds a slot for its lifetime.
  class Held {
   public:
    explicit Held(FifoSlots& slots) : slots_(slots) { slots_.acquire(); }
    ~Held() { slots_.release(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    FifoSlots& slots_;
  };

 private:
  struct Waiter {
    std::condition_variable wake;
    bool granted = false;
  };
  mutable std::mutex mutex_;
  int64_t free_;
  std::deque<Waiter*> waiters_;  // oldest first; each lives on its caller's stack
};

}  // namespace twotower
