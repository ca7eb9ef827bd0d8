#include "train/gemm_rate.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>

#include "twotower/model/linear.h"

namespace twotower {

double measure_gemm_gflops(int threads, CpuMatmul kind, int64_t n, double seconds) {
  if (threads > 0) at::set_num_threads(threads);
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  auto product = [&] {
    if (kind == CpuMatmul::kTorch) {
      at::mm_out(c, a, b);
    } else {
      matmul_into(a, b, c, 0.0f, kind);
    }
  };
  product();  // warm-up: packing buffers, kernel generation, thread pool start
  int64_t reps = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    product();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) *
         static_cast<double>(reps) / elapsed / 1e9;
}

}  // namespace twotower
