// Row-wise L2 normalization, the towers' last step, as one pass forward and one backward.
// torch::nn::functional::normalize composes it from a norm, a clamp, an expand and a division,
// and its backward from as many elementwise passes again; at a 2,048-row batch each is a pass
// over a [2048, 128] tensor and a trip through the dispatcher.
#pragma once

#include <torch/torch.h>

namespace twotower {

/// y = x / max(||x||_2, eps) for each row of a 2-D tensor (torch::nn::functional::normalize with
/// p = 2, dim = -1), differentiable: where ||x|| >= eps, dL/dx = (g - y (g . y)) / ||x||; where
/// the norm is clamped, dL/dx = g / eps. CPU float32 contiguous rows run the fused kernels;
/// other tensors get torch's normalize.
torch::Tensor l2_normalize(const torch::Tensor& x, double eps = 1e-12);

}  // namespace twotower
