#include "twotower/train/optim/counter_adam.h"

#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/train/optim/fused_adam.h"

namespace twotower {
namespace {

// Two groups (their own rates and weight decay) of three parameters; `c` gets no gradient in the
// steps that leave it out, so its count must stay behind.
struct Parameters {
  torch::Tensor a, b, c;
};

Parameters make_parameters() {
  torch::manual_seed(1);
  return {torch::randn({5, 3}).requires_grad_(), torch::randn({4}).requires_grad_(), torch::randn({2, 2}).requires_grad_()};
}

std::vector<torch::optim::OptimizerParamGroup> groups_of(const Parameters& p) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{p.a, p.c},
                      std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.05).weight_decay(0.01)));
  groups.emplace_back(std::vector<torch::Tensor>{p.b},
                      std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.02)));
  return groups;
}

// The gradients of step `s`: a fixed function of the parameters, c left out on odd steps.
void backward(const Parameters& p, int s) {
  torch::Tensor loss = (p.a * p.a).sum() * (1 + s % 3) + (p.b.sin() * p.b).sum();
  if (s % 2 == 0) loss = loss + (p.c * p.c * p.c).sum();
  loss.backward();
}

// Eight steps of FusedAdam against the same steps taken by CounterAdam after the first eager one,
// with the rates changed halfway and one more eager step among the counted ones (as an epoch's
// last, short batch falls between replays).
TEST(CounterAdam, StepsAsFusedAdam) {
  const Parameters eager = make_parameters(), counted = make_parameters();
  FusedAdam reference(groups_of(eager), torch::optim::AdamOptions(0.05));
  FusedAdam shared(groups_of(counted), torch::optim::AdamOptions(0.05));
  std::unique_ptr<CounterAdam> counter;
  for (int s = 0; s < 8; ++s) {
    if (s == 4) {
      for (auto* o : {&reference, &shared}) o->param_groups()[0].options().set_lr(0.01);
    }
    reference.zero_grad();
    backward(eager, s);
    reference.step();
    shared.zero_grad();
    backward(counted, s);
    if (s == 0 || s == 5) {  // eager steps (the first makes the state)
      shared.step();
      continue;
    }
    if (!counter) counter = std::make_unique<CounterAdam>(shared, torch::kCPU);
    counter->fill();
    counter->update();
    counter->advance();
  }
  for (const auto& [x, y] : {std::pair{eager.a, counted.a}, std::pair{eager.b, counted.b}, std::pair{eager.c, counted.c}}) {
    EXPECT_TRUE(torch::allclose(y, x, 1e-5, 1e-7)) << "largest difference " << (y - x).abs().max().item<double>();
    const auto* expected = static_cast<const torch::optim::AdamParamState*>(reference.state().at(x.unsafeGetTensorImpl()).get());
    const auto* got = static_cast<const torch::optim::AdamParamState*>(shared.state().at(y.unsafeGetTensorImpl()).get());
    EXPECT_EQ(got->step(), expected->step());
  }
  EXPECT_EQ(static_cast<const torch::optim::AdamParamState*>(shared.state().at(counted.c.unsafeGetTensorImpl()).get())->step(), 4);
}

TEST(CounterAdam, RefusesAParameterWithoutState) {
  const Parameters p = make_parameters();
  FusedAdam adam(groups_of(p), torch::optim::AdamOptions(0.05));
  CounterAdam counter(adam, torch::kCPU);
  backward(p, 0);
  counter.fill();
  EXPECT_THROW(counter.update(), Error);
}

}  // namespace
}  // namespace twotower
