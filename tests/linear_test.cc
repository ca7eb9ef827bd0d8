#include "twotower/model/linear.h"

#include "twotower/model/two_tower.h"

#include <gtest/gtest.h>

#include <vector>

namespace twotower {
namespace {

// A seed gives the same weights as torch::nn::Linear, under the same parameter names.
TEST(Linear, SameParametersAndInitAsTorchLinear) {
  torch::manual_seed(3);
  torch::nn::Linear reference(70, 20);
  torch::manual_seed(3);
  Linear ours(70, 20);
  EXPECT_TRUE(torch::equal(ours->weight, reference->weight));
  EXPECT_TRUE(torch::equal(ours->bias, reference->bias));
  std::vector<std::string> names;
  for (const auto& p : ours->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias"}));
}

// 64 rows of ones times weight rows filled with their index: y[r][i] = 64 * i + b[i], by hand.
// 64 rows and a 64-wide input are oneDNN's share whole (no torch remainder).
TEST(Linear, HandComputedProduct) {
  torch::Tensor x = torch::ones({64, 64});
  torch::Tensor w = torch::arange(3, torch::kFloat).unsqueeze(1).expand({3, 64}).contiguous();
  torch::Tensor b = torch::tensor({0.5f, -1.0f, 2.0f});
  torch::Tensor y = linear(x, w, b);
  torch::Tensor expected = torch::tensor({0.5f, 63.0f, 130.0f}).expand({64, 3});
  EXPECT_TRUE(torch::equal(y, expected)) << y[0];
  // Gradients by hand for loss = sum(y): dL/dW[i][j] = sum_r x[r][j] = 64, dL/db = 64,
  // dL/dx[r][j] = sum_i W[i][j] = 0 + 1 + 2 = 3.
  torch::Tensor xg = x.clone().requires_grad_(true), wg = w.clone().requires_grad_(true),
                bg = b.clone().requires_grad_(true);
  linear(xg, wg, bg).sum().backward();
  EXPECT_TRUE(torch::equal(wg.grad(), torch::full({3, 64}, 64.0f)));
  EXPECT_TRUE(torch::equal(bg.grad(), torch::full({3}, 64.0f)));
  EXPECT_TRUE(torch::equal(xg.grad(), torch::full({64, 64}, 3.0f)));
}

// matmul_into: beta 0 overwrites, beta 1 adds, with rows and inner sizes that split between
// oneDNN (multiples of 64) and torch (the rest).
TEST(Linear, MatmulIntoOverwritesOrAccumulates) {
  torch::manual_seed(1);
  for (auto [m, k] : std::vector<std::pair<int64_t, int64_t>>{{1, 5}, {64, 64}, {130, 100}, {200, 768}}) {
    torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, 33});
    torch::Tensor expected = torch::mm(a.to(torch::kDouble), b.to(torch::kDouble));
    torch::Tensor out = torch::full({m, 33}, 7.0f);
    matmul_into(a, b, out, 0.0f);
    EXPECT_TRUE(torch::allclose(out.to(torch::kDouble), expected, 1e-4, 1e-4)) << m << "x" << k;
    torch::Tensor acc = torch::full({m, 33}, 7.0f);
    matmul_into(a, b, acc, 1.0f);
    EXPECT_TRUE(torch::allclose(acc.to(torch::kDouble), expected + 7.0, 1e-4, 1e-4)) << m << "x" << k;
  }
}

// The oneDNN path equals torch's linear in value and in every gradient, for batch sizes below,
// at and between multiples of 64 and an input width that is not one; a transposed argument
// (the weight gradient's [out, N] view) is read in place.
TEST(Linear, OneDnnEqualsTorchLinearInValueAndGradients) {
  if (!onednn_available()) GTEST_SKIP() << "this LibTorch has no oneDNN: only torch's path exists";
  torch::manual_seed(2);
  for (int64_t n : {1, 63, 64, 65, 130, 1000}) {
    for (int64_t in : {100, 768}) {
      torch::Tensor x = torch::randn({n, in}), w = torch::randn({96, in}) * 0.05, b = torch::randn({96});
      torch::Tensor upstream = torch::randn({n, 96});
      std::vector<torch::Tensor> ours{x.clone().requires_grad_(true), w.clone().requires_grad_(true),
                                      b.clone().requires_grad_(true)};
      std::vector<torch::Tensor> plain{x.clone().requires_grad_(true), w.clone().requires_grad_(true),
                                       b.clone().requires_grad_(true)};
      torch::Tensor y = linear(ours[0], ours[1], ours[2]);
      torch::Tensor z = torch::nn::functional::linear(plain[0], plain[1], plain[2]);
      EXPECT_TRUE(torch::allclose(y, z, 1e-5, 1e-4)) << n << "x" << in;
      (y * upstream).sum().backward();
      (z * upstream).sum().backward();
      for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(torch::allclose(ours[i].grad(), plain[i].grad(), 1e-5, 1e-3)) << n << "x" << in << " grad " << i;
      }
    }
  }
  EXPECT_TRUE(onednn_takes(torch::zeros({64, 64})));
}

// An input that needs no gradient (the fixed text embeddings) gets none; the weight's is right.
TEST(Linear, NoGradientForInputsThatNeedNone) {
  torch::manual_seed(4);
  torch::Tensor x = torch::randn({128, 64});
  Linear layer(64, 8);
  layer(x).sum().backward();
  EXPECT_FALSE(x.grad().defined());
  EXPECT_TRUE(torch::allclose(layer->weight.grad(), x.sum(0).expand({8, 64}), 1e-4, 1e-4));
}

// kTorch, double tensors and 3-D inputs take torch's own linear: bit for bit its result.
TEST(Linear, TorchPathAndOtherTensorsUseTorchLinear) {
  torch::manual_seed(5);
  torch::Tensor x = torch::randn({128, 64}), w = torch::randn({16, 64}), b = torch::randn({16});
  EXPECT_FALSE(onednn_takes(x, CpuMatmul::kTorch));
  EXPECT_TRUE(torch::equal(linear(x, w, b, {CpuMatmul::kTorch}), torch::nn::functional::linear(x, w, b)));
  EXPECT_FALSE(onednn_takes(x.to(torch::kDouble)));
  torch::Tensor xd = x.to(torch::kDouble), wd = w.to(torch::kDouble), bd = b.to(torch::kDouble);
  EXPECT_TRUE(torch::equal(linear(xd, wd, bd), torch::nn::functional::linear(xd, wd, bd)));
  torch::Tensor x3 = torch::randn({2, 64, 64});
  EXPECT_TRUE(torch::equal(linear(x3, w, b), torch::nn::functional::linear(x3, w, b)));
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// One row: the output is a new tensor, never the bias (a [1, out] expand of it is contiguous).
TEST(Linear, OneRowLeavesTheBiasAlone) {
  for (CpuMatmul kind : {CpuMatmul::kOneDnn, CpuMatmul::kTorch}) {
    torch::Tensor x = torch::ones({1, 2}), w = torch::ones({3, 2}), b = torch::tensor({1.0f, 2.0f, 3.0f});
    torch::Tensor y = linear(x, w, b, {kind});
    EXPECT_TRUE(torch::equal(y, torch::tensor({{3.0f, 4.0f, 5.0f}})));
    EXPECT_TRUE(torch::equal(b, torch::tensor({1.0f, 2.0f, 3.0f})));
  }
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// matmul_into_bf16's oneDNN share is the product of the bf16-rounded operands, rounded to bf16
// (a relative 2^-8 at most); torch's share (rows past the last multiple of 64) stays exact fp32.
TEST(LinearBf16, ProductOfRoundedOperands) {
  if (!onednn_bf16_available()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU";
  torch::manual_seed(7);
  torch::Tensor a = torch::randn({130, 96}), b = torch::randn({96, 40});
  torch::Tensor a16 = a.to(torch::kBFloat16), b16 = b.to(torch::kBFloat16);
  torch::Tensor out = torch::zeros({130, 40});
  matmul_into_bf16(a, a16, b, b16, out, 0.0f);
  // rows 0-127: oneDNN over the first 64 of the 96 inner columns in bf16, the last 32 in fp32
  torch::Tensor bulk = torch::mm(a16.narrow(1, 0, 64).to(torch::kFloat), b16.narrow(0, 0, 64).to(torch::kFloat));
  torch::Tensor expected = bulk + torch::mm(a.narrow(1, 64, 32), b.narrow(0, 64, 32));
  torch::Tensor top = out.narrow(0, 0, 128), want = expected.narrow(0, 0, 128);
  EXPECT_LE((top - want).abs().max().item<float>(), bulk.abs().max().item<float>() * (1.0f / 256.0f));
  EXPECT_TRUE(torch::allclose(out.narrow(0, 128, 2), torch::mm(a.narrow(0, 128, 2), b), 1e-5, 1e-5));
  // beta 1 adds
  torch::Tensor acc = torch::ones({130, 40});
  matmul_into_bf16(a, a16, b, b16, acc, 1.0f);
  EXPECT_TRUE(torch::allclose(acc, out + 1.0, 1e-5, 1e-5));
}

// The bf16 layer stays within bf16's rounding of the fp32 layer in value and in every gradient
// (relative to each tensor's scale: inputs and result carry 8 significant bits).
TEST(LinearBf16, CloseToFp32InValueAndGradients) {
  if (!onednn_bf16_available()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU";
  torch::manual_seed(8);
  torch::Tensor x = torch::randn({1000, 256}), w = torch::randn({128, 256}) * 0.06, b = torch::randn({128});
  torch::Tensor upstream = torch::randn({1000, 128});
  auto run = [&](MatmulPrecision p) {
    std::vector<torch::Tensor> v{x.clone().requires_grad_(true), w.clone().requires_grad_(true),
                                 b.clone().requires_grad_(true)};
    torch::Tensor y = linear(v[0], v[1], v[2], {CpuMatmul::kOneDnn, p});
    (y * upstream).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), v[0].grad(), v[1].grad(), v[2].grad()};
  };
  auto fp32 = run(MatmulPrecision::kFp32), bf16 = run(MatmulPrecision::kBf16);
  EXPECT_FALSE(torch::equal(fp32[0], bf16[0]));  // the bf16 path did run
  for (int i = 0; i < 4; ++i) {
    const float scale = fp32[i].abs().max().item<float>();
    EXPECT_LE((fp32[i] - bf16[i]).abs().max().item<float>(), scale * 0.02f) << "tensor " << i;
  }
  EXPECT_TRUE(torch::equal(fp32[3], bf16[3]));  // the bias gradient is a sum in fp32 either way
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// matmul_2d: by hand for a 2 x 2 (torch's share), and equal to torch::mm in value and both gradients at
// the in-batch softmax's shapes (oneDNN's share, a remainder of rows and of the inner size).
TEST(Matmul2d, HandComputedAndEqualToTorchMm) {
  torch::Tensor a = torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), b = torch::tensor({{5.0f, 6.0f}, {7.0f, 8.0f}});
  EXPECT_TRUE(torch::equal(matmul_2d(a, b), torch::tensor({{19.0f, 22.0f}, {43.0f, 50.0f}})));
  torch::manual_seed(9);
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{300, 128, 300}, {256, 96, 129}}) {
    torch::Tensor x = torch::randn({m, k}), y = torch::randn({n, k}), upstream = torch::randn({m, n});
    torch::Tensor x1 = x.clone().requires_grad_(true), y1 = y.clone().requires_grad_(true);
    torch::Tensor x2 = x.clone().requires_grad_(true), y2 = y.clone().requires_grad_(true);
    torch::Tensor ours = matmul_2d(x1, y1.t()), theirs = torch::mm(x2, y2.t());
    EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-4)) << m << "x" << k << "x" << n;
    (ours * upstream).sum().backward();
    (theirs * upstream).sum().backward();
    EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-5, 1e-3));
    EXPECT_TRUE(torch::allclose(y1.grad(), y2.grad(), 1e-5, 1e-3));
  }
}

// matmul_2d under bf16: within bf16 rounding of fp32 (2% of each tensor's scale) in value and both
// gradients, and not equal to it (the bf16 products ran).
TEST(Matmul2d, Bf16CloseToFp32) {
  if (!onednn_bf16_available()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU";
  torch::manual_seed(10);
  torch::Tensor x = torch::randn({512, 128}), y = torch::randn({512, 128}), upstream = torch::randn({512, 512});
  auto run = [&](MatmulPrecision p) {
    torch::Tensor a = x.clone().requires_grad_(true), b = y.clone().requires_grad_(true);
    torch::Tensor scores = matmul_2d(a, b.t(), {CpuMatmul::kOneDnn, p});
    (scores * upstream).sum().backward();
    return std::vector<torch::Tensor>{scores.detach(), a.grad(), b.grad()};
  };
  auto fp32 = run(MatmulPrecision::kFp32), bf16 = run(MatmulPrecision::kBf16);
  EXPECT_FALSE(torch::equal(fp32[0], bf16[0]));
  for (int i = 0; i < 3; ++i) {
    const float scale = fp32[i].abs().max().item<float>();
    EXPECT_LE((fp32[i] - bf16[i]).abs().max().item<float>(), scale * 0.02f) << "tensor " << i;
  }
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// The products' options belong to each layer, not to the process: a torch layer and a oneDNN
// layer built side by side each keep their own path (the torch one equals torch's linear bit for
// bit), and the model hands its options to every Linear of both towers.
TEST(Linear, OptionsArePerLayer) {
  torch::manual_seed(11);
  Linear by_torch(64, 16, MatmulOptions{CpuMatmul::kTorch}), by_onednn(64, 16, MatmulOptions{CpuMatmul::kOneDnn});
  EXPECT_EQ(by_torch->options.backend, CpuMatmul::kTorch);
  EXPECT_EQ(by_onednn->options.backend, CpuMatmul::kOneDnn);
  torch::Tensor x = torch::randn({128, 64});
  by_onednn(x);
  EXPECT_TRUE(torch::equal(by_torch(x), torch::nn::functional::linear(x, by_torch->weight, by_torch->bias)));

  ModelConfig c;
  TwoTowerModel model(c, ModelSizes{5, 7, 2, 3, 10}, MatmulOptions{CpuMatmul::kTorch, MatmulPrecision::kBf16});
  int64_t layers = 0;
  for (const auto& m : model->modules()) {
    if (auto* linear = m->as<LinearImpl>()) {
      EXPECT_EQ(linear->options.backend, CpuMatmul::kTorch);
      EXPECT_EQ(linear->options.precision, MatmulPrecision::kBf16);
      ++layers;
    }
  }
  EXPECT_EQ(layers, 7);  // user tower: 2 hidden + output; item tower: text projection, 2 hidden + output
}

}  // namespace
}  // namespace twotower
