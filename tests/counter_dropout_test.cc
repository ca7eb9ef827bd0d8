#include "twotower/model/counter_dropout.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

// Kept elements are scaled by 1 / (1 - p), dropped ones are 0, and about p of them drop.
TEST(CounterDropout, MaskScaleAndRate) {
  torch::Tensor x = torch::rand({1000, 1000}) + 0.5;  // no zeros
  torch::Tensor y = counter_dropout(x, 0.1, 12345);
  torch::Tensor kept = y != 0;
  double dropped = 1.0 - kept.to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(dropped, 0.1, 0.002);  // 1M Bernoulli(0.1) draws: standard deviation 0.0003
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / 0.9, 1e-6, 1e-6));
  EXPECT_NEAR(1.0 - (counter_dropout(x, 0.5, 7) != 0).to(torch::kDouble).mean().item<double>(), 0.5, 0.002);
  // Masks of neighbouring rows and columns are not correlated: drop rates by row stay near p.
  torch::Tensor by_row = 1.0 - kept.to(torch::kDouble).mean(1);
  EXPECT_LT((by_row - 0.1).abs().max().item<double>(), 0.06);  // 1000 rows of 1000: 6 sigma
}

// The mask is a function of the seed alone: the same seed repeats it, another changes it.
TEST(CounterDropout, SeededAndReproducible) {
  torch::Tensor x = torch::ones({64, 64});
  EXPECT_TRUE(torch::equal(counter_dropout(x, 0.3, 1), counter_dropout(x, 0.3, 1)));
  EXPECT_FALSE(torch::equal(counter_dropout(x, 0.3, 1), counter_dropout(x, 0.3, 2)));
  EXPECT_TRUE(torch::equal(counter_dropout(x, 0.0, 1), x));
  // The module draws its seed from torch's generator: manual_seed reproduces it.
  CounterDropout d(0.3);
  d->train();
  torch::manual_seed(5);
  torch::Tensor a = d(x);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(d(x), a));
  EXPECT_FALSE(torch::equal(d(x), a));  // the next call draws another seed
  d->eval();
  EXPECT_TRUE(torch::equal(d(x), x));
}

// The gradient is the upstream gradient through the same mask and scale.
TEST(CounterDropout, GradientUsesTheForwardMask) {
  torch::Tensor x = (torch::rand({300, 70}) + 0.5).requires_grad_(true);
  torch::Tensor y = counter_dropout(x, 0.25, 99);
  torch::Tensor upstream = torch::randn({300, 70});
  (y * upstream).sum().backward();
  torch::Tensor mask = (y != 0).to(torch::kFloat).detach();
  EXPECT_TRUE(torch::allclose(x.grad(), upstream * mask / 0.75, 1e-6, 1e-6));
}

// The fused ReLU + dropout equals relu then counter_dropout with the same seed, in value and in
// gradient, zeros and negative inputs included (relu's gradient at 0 is 0, as torch's).
TEST(ReluDropout, EqualsReluThenCounterDropout) {
  torch::manual_seed(8);
  torch::Tensor base = torch::randn({257, 33});
  base.index_put_({0, torch::indexing::Slice(0, 5)}, 0.0);
  torch::Tensor upstream = torch::randn({257, 33});
  torch::Tensor a = base.clone().requires_grad_(true), b = base.clone().requires_grad_(true);
  torch::Tensor fused = relu_counter_dropout(a, 0.3, 42);
  torch::Tensor plain = counter_dropout(torch::relu(b), 0.3, 42);
  EXPECT_TRUE(torch::equal(fused, plain));
  (fused * upstream).sum().backward();
  (plain * upstream).sum().backward();
  EXPECT_TRUE(torch::equal(a.grad(), b.grad()));
  // Hand-checked: an element passes its gradient scaled by 1 / 0.7 exactly where it is kept and
  // positive.
  torch::Tensor passes = (fused > 0).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(a.grad(), upstream * passes / 0.7, 1e-6, 1e-6));
  EXPECT_EQ(torch::equal(relu_counter_dropout(base, 0.0, 1), torch::relu(base)), true);
  // The module: a plain ReLU in eval mode; the same seed sequence as CounterDropout in training.
  ReluDropout fused_module(0.3);
  CounterDropout dropout_module(0.3);
  torch::manual_seed(5);
  torch::Tensor m1 = fused_module(base);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(m1, dropout_module(torch::relu(base))));
  fused_module->eval();
  EXPECT_TRUE(torch::equal(fused_module(base), torch::relu(base)));
}

}  // namespace
}  // namespace twotower
