// The machine's fp32 matrix-multiply rate through LibTorch: the bound a training step can reach.
#pragma once

#include <cstdint>

namespace twotower {

/// GFLOP/s of LibTorch's fp32 mm of [n, n] x [n, n] with `threads` intra-op threads, repeated
/// for about `seconds` after one warm-up product (2 n^3 FLOPs per product).
double measure_gemm_gflops(int threads, int64_t n = 1024, double seconds = 1.0);

}  // namespace twotower
