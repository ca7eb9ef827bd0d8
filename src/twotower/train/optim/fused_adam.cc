#include "twotower/train/optim/fused_adam.h"

#include <ATen/ops/_fused_adam.h>

#include <tuple>

#include "twotower/train/optim/sparse_grad_adam.h"

namespace twotower {
namespace {

// `all`: the optimizer's state map (torch::optim::Optimizer::state_).
template <class StateMap>
torch::optim::AdamParamState& state_of(const torch::Tensor& p, StateMap& all) {
  auto& slot = all[p.unsafeGetTensorImpl()];
  if (!slot) {  // as torch::optim::Adam starts a parameter's state
    auto fresh = std::make_unique<torch::optim::AdamParamState>();
    fresh->step(0);
    fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    slot = std::move(fresh);
  }
  return static_cast<torch::optim::AdamParamState&>(*slot);
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  for (const auto& group : param_groups_) {
    if (static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()) return Adam::step(closure);
  }
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    std::vector<torch::Tensor> params, grads, first, second, steps;
    for (auto& p : group.params()) {
      torch::Tensor g = p.grad();
      if (!g.defined()) continue;
      auto& state = state_of(p, state_);
      state.step(state.step() + 1);
      if (g.is_sparse() && p.device().is_cpu()) {
        if (!g.is_coalesced()) g = p.mutable_grad() = g.coalesce();
        adam_step_with_sparse_grad(p, g, state.exp_avg(), state.exp_avg_sq(),
                                   AdamRow::at_step(o.lr(), beta1, beta2, o.weight_decay(), o.eps(),
                                                    static_cast<int64_t>(state.step())));
        continue;
      }
      params.push_back(p);
      grads.push_back(g.is_sparse() ? g.to_dense() : g);
      first.push_back(state.exp_avg());
      second.push_back(state.exp_avg_sq());
      // The kernel reads the step count (after this step) from a float tensor on the parameter's device.
      steps.push_back(torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat)));
    }
    if (params.empty()) continue;
    at::_fused_adam_(params, grads, first, second, {}, steps, o.lr(), beta1, beta2, o.weight_decay(), o.eps(),
                     /*amsgrad=*/false, /*maximize=*/false);
  }
  return loss;
}

}  // namespace twotower
