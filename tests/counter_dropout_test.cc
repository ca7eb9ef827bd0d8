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

}  // namespace
}  // namespace twotower
