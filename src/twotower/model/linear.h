// The towers' fully connected layer: y = x W^T + b, with its CPU matrix products run by oneDNN.
//
// LibTorch's CPU wheel multiplies fp32 matrices with MKL, which takes its generic code path on
// AMD processors; oneDNN (also inside LibTorch, at::native::mkldnn_matmul) dispatches on the CPU's
// features (rates per shape: bench/matmul_bench, docs/speed.md). Both are plain fp32 products;
// only the summation order differs.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "twotower/config/config.h"

namespace twotower {

/// How the towers' CPU products run, chosen per run (training.cpu_matmul and
/// training.matmul_precision) and handed to each layer when it is built.
/// precision kBf16 rounds x, W and the output gradient to bf16 for oneDNN's share of each product,
/// which accumulates in fp32 and rounds its result to bf16 (oneDNN's bf16 product writes bf16);
/// torch's share (the < 64 remainder rows), the bias, the parameters, the gradients' storage and
/// the optimizer stay fp32. Measured rates: docs/speed.md.
struct MatmulOptions {
  CpuMatmul backend = CpuMatmul::kOneDnn;
  MatmulPrecision precision = MatmulPrecision::kFp32;
};

/// The products' options a training config asks for.
MatmulOptions matmul_options(const TrainingConfig& training);

/// Whether this LibTorch build has oneDNN (at::hasMKLDNN()) and its product runs on this CPU
/// (LibTorch's oneDNN product needs AVX512 BW/VL/DQ or AVX-NE-CONVERT, in fp32 too); tried once
/// on a 64 x 64 product. Without it every product is torch's.
bool onednn_available();

/// Whether oneDNN multiplies bf16 matrices on this CPU (it needs AVX512-BF16, AVX-NE-CONVERT or
/// AMX); tried once on a 64 x 64 product.
bool onednn_bf16_available();

/// Whether matmul_into gives oneDNN a product with `a` under `kind`: kOneDnn, oneDNN available,
/// `a` a CPU float32 tensor (its size aside).
bool onednn_takes(const torch::Tensor& a, CpuMatmul kind = CpuMatmul::kOneDnn);

/// out = beta * out + a @ b for CPU float32 2-D tensors (`out` [a.rows, b.cols] and contiguous,
/// beta 0 or 1; with beta 0 `out` may hold anything), by `kind`. oneDNN computes the first rows of a in multiples of 64 and
/// torch the remaining < 64: oneDNN builds (and caches) a kernel per shape, and the row count
/// varies from batch to batch (shared item heads, distinct users), so a round row count keeps the
/// shapes few. With kTorch, or without oneDNN, all of it is torch's.
void matmul_into(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& out, float beta,
                 CpuMatmul kind = CpuMatmul::kOneDnn);

/// matmul_into with oneDNN's share read from a16 and b16, the bf16 copies of a and b (same
/// shapes and strides), its bf16 result added to `out` in fp32; the rest as matmul_into's, in
/// fp32. Takes oneDNN's path whenever oneDNN is available.
void matmul_into_bf16(const torch::Tensor& a, const torch::Tensor& a16, const torch::Tensor& b, const torch::Tensor& b16,
                      const torch::Tensor& out, float beta);

/// linear(x, W, b) = x W^T + b for [N, in] CPU float32 x, differentiable in x, W and b; the
/// forward and both backward products go through matmul_into by options.backend
/// (matmul_into_bf16 under precision kBf16). Other tensors (CUDA, other dtypes or ranks) get
/// torch::nn::functional::linear.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const MatmulOptions& options = {});

/// matmul_2d(a, b) = a @ b for 2-D CPU float32 tensors, differentiable in both, every product
/// through matmul_into, or matmul_into_bf16 under precision kBf16 (the in-batch softmax's
/// [B, D] x [D, C] scores). Other tensors get torch::mm.
torch::Tensor matmul_2d(const torch::Tensor& a, const torch::Tensor& b, const MatmulOptions& options = {});

/// Drop-in for torch::nn::Linear (with bias): the same parameter names (weight [out, in], bias
/// [out]) and initialization (Kaiming uniform, a = sqrt(5); bias uniform in +-1/sqrt(in)), so
/// checkpoints and seeded runs are unchanged; forward is twotower::linear under `options`.
struct LinearImpl : torch::nn::Cloneable<LinearImpl> {
  LinearImpl(int64_t in_features, int64_t out_features, const MatmulOptions& options = {});
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  int64_t in_features, out_features;
  MatmulOptions options;
  torch::Tensor weight, bias;
};
TORCH_MODULE(Linear);

}  // namespace twotower
