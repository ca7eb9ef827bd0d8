#include "twotower/serve/http/fifo_slots.h"

namespace twotower {

FifoSlots::FifoSlots(int64_t slots) : free_(slots) {}

void FifoSlots::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    return;
  }
  Waiter me;
  waiters_.push_back(&me);
  me.wake.wait(lock, [&] { return me.granted; });
}

void FifoSlots::release() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (waiters_.empty()) {
    ++free_;
    return;
  }
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;  // the slot passes straight to it: no one can take it in between
  next->wake.notify_one();
}

int64_t FifoSlots::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(waiters_.size());
}

}  // namespace twotower
