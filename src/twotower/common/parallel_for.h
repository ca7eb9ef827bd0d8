// A range split over worker threads, as fastText trains: each worker takes one contiguous slice,
// the threads are joined before the call returns (also when a worker throws), and a worker's
// exception is carried back to the caller instead of ending the process.
#pragma once

#include <cstdint>
#include <functional>

namespace twotower {

/// The thread count a `num_threads` option asks for: itself when > 0, else the hardware
/// concurrency (at least 1). Throws when num_threads < 0, naming `what` (the option's owner).
int resolve_threads(int num_threads, const char* what);

/// Calls fn(begin, end) on min(num_threads, n) workers whose slices [begin, end) cover [0, n)
/// exactly once, in order: worker w gets [n * w / W, n * (w + 1) / W). With one worker fn runs
/// on the calling thread; with n == 0 fn is not called. Every worker is joined before the call
/// returns; if workers threw, the exception of the lowest-numbered one is rethrown then (the
/// others are dropped). Throws when n < 0 or num_threads < 1.
void parallel_for(int64_t n, int num_threads, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace twotower
