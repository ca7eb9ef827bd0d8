#include "twotower/common/parallel_for.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {

int resolve_threads(int num_threads, const char* what) {
  if (num_threads < 0) fail(what, ": field \"num_threads\": got ", num_threads, ", expected >= 0");
  if (num_threads > 0) return num_threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(int64_t n, int num_threads, const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n < 0) fail("parallel_for: got ", n, " items, expected >= 0");
  if (num_threads < 1) fail("parallel_for: got ", num_threads, " threads, expected >= 1");
  if (n == 0) return;
  const int64_t workers = std::min<int64_t>(num_threads, n);
  if (workers == 1) {
    fn(0, n);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  {
    std::vector<std::jthread> pool;  // joined when the block ends, before any rethrow
    pool.reserve(static_cast<size_t>(workers));
    for (int64_t w = 0; w < workers; ++w) {
      pool.emplace_back([&, w] {
        try {
          fn(n * w / workers, n * (w + 1) / workers);
        } catch (...) {
          errors[static_cast<size_t>(w)] = std::current_exception();
        }
      });
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace twotower
