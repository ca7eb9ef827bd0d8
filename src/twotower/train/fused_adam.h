// torch's Adam with its update done by ATen's fused kernel (`at::_fused_adam_`, what PyTorch's
// `Adam(fused=True)` calls): one pass over each parameter, its gradient and both moments, where
// torch::optim::Adam's step runs about ten tensor operations, each a pass over memory. Same
// formula (L2 weight decay added to the gradient, bias-corrected moments), the same state
// (AdamParamState: step, exp_avg, exp_avg_sq), so checkpoints load either way; the rounding
// differs (the kernel interpolates the first moment with lerp). training.fused_adam picks it.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace twotower {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;

  /// One Adam step of every parameter with a gradient. With a sparse gradient or amsgrad (the
  /// fused kernel takes neither) it is torch::optim::Adam::step, which refuses sparse gradients.
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace twotower
