// The machine's fp32 matrix-multiply rate: the bound a training step can reach.
#pragma once

#include <cstdint>

#include "twotower/config/config.h"

namespace twotower {

/// GFLOP/s of an fp32 [n, n] x [n, n] product with `threads` intra-op threads, repeated for about
/// `seconds` after one warm-up product (2 n^3 FLOPs per product): kTorch is LibTorch's mm (MKL in
/// the CPU wheel, what the reference's layers use), kOneDnn is model/linear.h's matmul_into
/// (oneDNN, what twotower's layers use; torch's mm where this LibTorch has no oneDNN).
double measure_gemm_gflops(int threads, CpuMatmul kind = CpuMatmul::kTorch, int64_t n = 1024, double seconds = 1.0);

}  // namespace twotower
