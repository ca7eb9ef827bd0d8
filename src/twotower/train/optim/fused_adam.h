// torch's Adam with its update done by ATen's fused kernel (`at::_fused_adam_`, what PyTorch's
// `Adam(fused=True)` calls): one pass over each parameter, its gradient and both moments, where
// torch::optim::Adam's step runs about ten tensor operations, each a pass over memory. Same
// formula (L2 weight decay added to the gradient, bias-corrected moments), the same state
// (AdamParamState: step, exp_avg, exp_avg_sq), so checkpoints load either way; the rounding
// differs (the kernel interpolates the first moment with lerp). training.fused_adam picks it.
// A CPU parameter with a sparse gradient (the id tables, train/optim/optimizers.h) takes the same dense
// update, every row, from its touched rows (train/optim/sparse_grad_adam.h).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace twotower {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;

  /// One Adam step of every parameter with a gradient (dense Adam: every element of it moves).
  /// A sparse gradient is coalesced in place; off the CPU it is made dense for the fused kernel.
  /// With amsgrad (the kernels here take none) it is torch::optim::Adam::step.
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace twotower
