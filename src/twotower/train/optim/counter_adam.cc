#include "twotower/train/optim/counter_adam.h"

#include <ATen/ops/_fused_adam.h>

#include <tuple>

#include "twotower/common/error.h"

namespace twotower {

CounterAdam::CounterAdam(torch::optim::Adam& adam, const torch::Device& device) : adam_(adam) {
  for (const auto& group : adam_.param_groups()) parameter_count_ += static_cast<int64_t>(group.params().size());
  counters_ = torch::ones({parameter_count_ + static_cast<int64_t>(adam_.param_groups().size())},
                          torch::TensorOptions(torch::kFloat).device(device));
}

void CounterAdam::fill() {
  std::vector<float> values;
  const auto& state = adam_.state();
  const auto& groups = adam_.param_groups();
  for (const auto& group : groups) {
    for (const auto& p : group.params()) {
      const auto found = state.find(p.unsafeGetTensorImpl());
      const auto* s = found == state.end() ? nullptr : static_cast<const torch::optim::AdamParamState*>(found->second.get());
      values.push_back(s ? static_cast<float>(s->step() + 1) : 1.0f);
    }
  }
  for (const auto& group : groups) values.push_back(static_cast<float>(group.options().get_lr()));
  torch::Tensor host = torch::tensor(values, torch::kFloat);
  const bool cuda = counters_.device().is_cuda();
  if (cuda) host = host.pin_memory();
  counters_.copy_(host, /*non_blocking=*/cuda);
}

void CounterAdam::update() {
  torch::NoGradGuard no_grad;  // an in-place update of the leaves, as FusedAdam::step makes it
  groups_.clear();
  int64_t slot = 0;  // the parameter's position among all groups' parameters
  auto& state = adam_.state();
  const auto& groups = adam_.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(groups[g].options());
    Group group;
    for (const auto& p : groups[g].params()) {
      const int64_t at = slot++;
      if (!p.grad().defined()) continue;
      auto found = state.find(p.unsafeGetTensorImpl());
      if (found == state.end()) {
        fail("counter Adam: parameter ", at, " (", p.sizes(), ") has a gradient but no Adam state, expected an eager ",
             "step before the first update");
      }
      auto* s = static_cast<torch::optim::AdamParamState*>(found->second.get());
      group.params.push_back(p);
      group.grads.push_back(p.grad());
      group.exp_avgs.push_back(s->exp_avg());
      group.exp_avg_sqs.push_back(s->exp_avg_sq());
      group.steps.push_back(counters_[at]);
      group.states.push_back(s);
    }
    if (group.params.empty()) continue;
    const auto [beta1, beta2] = o.betas();
    at::_fused_adam_(group.params, group.grads, group.exp_avgs, group.exp_avg_sqs, {}, group.steps,
                     counters_[parameter_count_ + static_cast<int64_t>(g)], beta1, beta2, o.weight_decay(), o.eps(),
                     /*amsgrad=*/false, /*maximize=*/false);
    groups_.push_back(std::move(group));
  }
}

void CounterAdam::advance() {
  for (const Group& g : groups_) {
    for (auto* state : g.states) state->step(state->step() + 1);
  }
}

}  // namespace twotower
