#include "twotower/train/fused_adam.h"

#include <ATen/ops/_fused_adam.h>

#include <tuple>

namespace twotower {

torch::Tensor FusedAdam::step(LossClosure closure) {
  for (const auto& group : param_groups_) {
    if (static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()) return Adam::step(closure);
    for (const auto& p : group.params()) {
      if (p.grad().defined() && p.grad().is_sparse()) return Adam::step(closure);
    }
  }
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, first, second, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {  // as torch::optim::Adam starts a parameter's state
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*slot);
      state.step(state.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      first.push_back(state.exp_avg());
      second.push_back(state.exp_avg_sq());
      // The kernel reads the step count (after this step) from a float tensor on the parameter's device.
      steps.push_back(torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat)));
    }
    if (params.empty()) continue;
    at::_fused_adam_(params, grads, first, second, {}, steps, o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()),
                     o.weight_decay(), o.eps(), /*amsgrad=*/false, /*maximize=*/false);
  }
  return loss;
}

}  // namespace twotower
