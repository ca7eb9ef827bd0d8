#include "twotower/model/l2_normalize.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

torch::Tensor torch_normalize(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

// By hand: [3, 4] -> [0.6, 0.8]; a zero row stays zero; a row below eps is divided by eps.
// Gradient of sum(g * y) at [3, 4] with g = [1, 0]: (g - y (g . y)) / 5 = [0.128, -0.096]; at
// the zero row (norm clamped to eps) g / eps.
TEST(L2Normalize, HandComputedValuesAndGradient) {
  torch::Tensor x = torch::tensor({{3.0f, 4.0f}, {0.0f, 0.0f}, {1e-13f, 0.0f}}).requires_grad_(true);
  torch::Tensor y = l2_normalize(x);
  EXPECT_TRUE(torch::allclose(y, torch::tensor({{0.6f, 0.8f}, {0.0f, 0.0f}, {0.1f, 0.0f}}), 1e-6, 1e-7)) << y;
  torch::Tensor g = torch::tensor({{1.0f, 0.0f}, {1.0f, 2.0f}, {0.0f, 0.0f}});
  (y * g).sum().backward();
  EXPECT_NEAR(x.grad()[0][0].item<float>(), 0.128f, 1e-6);
  EXPECT_NEAR(x.grad()[0][1].item<float>(), -0.096f, 1e-6);
  EXPECT_FLOAT_EQ(x.grad()[1][0].item<float>(), 1e12f);
  EXPECT_FLOAT_EQ(x.grad()[1][1].item<float>(), 2e12f);
}

// Equal to torch's normalize in value and gradient, for a width with and without a remainder
// below the 16 lanes, and for a zero row.
TEST(L2Normalize, EqualsTorchNormalizeInValueAndGradient) {
  torch::manual_seed(6);
  for (auto [rows, d] : {std::pair<int64_t, int64_t>{2048, 128}, {5, 37}, {300, 1}}) {
    torch::Tensor base = torch::randn({rows, d});
    base[0].zero_();
    torch::Tensor upstream = torch::randn({rows, d});
    torch::Tensor a = base.clone().requires_grad_(true), b = base.clone().requires_grad_(true);
    torch::Tensor ours = l2_normalize(a), theirs = torch_normalize(b);
    EXPECT_TRUE(torch::allclose(ours, theirs, 1e-6, 1e-6)) << rows << "x" << d;
    (ours * upstream).sum().backward();
    (theirs * upstream).sum().backward();
    EXPECT_TRUE(torch::allclose(a.grad(), b.grad(), 1e-5, 1e-5)) << rows << "x" << d;
  }
}

// Other tensors take torch's normalize, bit for bit.
TEST(L2Normalize, OtherTensorsUseTorchNormalize) {
  torch::Tensor x = torch::randn({4, 8}, torch::kDouble);
  EXPECT_TRUE(torch::equal(l2_normalize(x), torch_normalize(x)));
  torch::Tensor x3 = torch::randn({2, 3, 8});
  EXPECT_TRUE(torch::equal(l2_normalize(x3), torch_normalize(x3)));
}

}  // namespace
}  // namespace twotower
