#include "twotower/train/fused_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

namespace twotower {
namespace {

// Two groups (as the trainer's: tables at one rate, layers at another) of two parameters each.
struct Params {
  explicit Params(int64_t seed) {
    torch::manual_seed(seed);
    for (auto shape : {std::vector<int64_t>{50, 8}, std::vector<int64_t>{8}, std::vector<int64_t>{8, 4}, std::vector<int64_t>{4}}) {
      tensors.push_back(torch::randn(shape).set_requires_grad(true));
    }
  }
  std::vector<torch::optim::OptimizerParamGroup> groups() const {
    std::vector<torch::optim::OptimizerParamGroup> g;
    g.emplace_back(std::vector<torch::Tensor>{tensors[0], tensors[1]},
                   std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.02).weight_decay(1e-3)));
    g.emplace_back(std::vector<torch::Tensor>{tensors[2], tensors[3]},
                   std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(0.003).weight_decay(1e-3)));
    return g;
  }
  std::vector<torch::Tensor> tensors;
};

// Gives every parameter the step's gradient, but the second one none on odd steps.
void set_grads(const Params& p, int step, bool sparse_table = false) {
  torch::manual_seed(100 + step);
  for (size_t k = 0; k < p.tensors.size(); ++k) {
    torch::Tensor g = torch::randn(p.tensors[k].sizes());
    if (k == 1 && step % 2 == 1) {
      p.tensors[k].mutable_grad().reset();
      continue;
    }
    p.tensors[k].mutable_grad() = (k == 0 && sparse_table) ? g.to_sparse() : g;
  }
}

void expect_close(const Params& a, const Params& b, double rtol) {
  for (size_t k = 0; k < a.tensors.size(); ++k) {
    EXPECT_TRUE(torch::allclose(a.tensors[k], b.tensors[k], rtol, 1e-7))
        << "parameter " << k << ": max difference " << (a.tensors[k] - b.tensors[k]).abs().max().item<double>();
  }
}

// The fused step is torch's Adam (weight decay, bias corrections, per-group rates, a parameter
// skipped when it has no gradient) up to float rounding.
TEST(FusedAdam, StepsAsTorchAdam) {
  Params fused_params(1), plain_params(1);
  FusedAdam fused(fused_params.groups(), torch::optim::AdamOptions(1e-3));
  torch::optim::Adam plain(plain_params.groups(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 20; ++step) {
    set_grads(fused_params, step);
    set_grads(plain_params, step);
    fused.step();
    plain.step();
  }
  expect_close(fused_params, plain_params, 1e-5);
  EXPECT_FALSE(torch::equal(fused_params.tensors[0], Params(1).tensors[0])) << "the step moved nothing";
}

// The state is torch's AdamParamState: a checkpoint of one loads into the other and continues.
TEST(FusedAdam, StateLoadsIntoTorchAdamAndBack) {
  Params fused_params(2), plain_params(2);
  FusedAdam fused(fused_params.groups(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 5; ++step) {
    set_grads(fused_params, step);
    fused.step();
  }
  for (size_t k = 0; k < plain_params.tensors.size(); ++k) {
    torch::NoGradGuard no_grad;
    plain_params.tensors[k].copy_(fused_params.tensors[k]);
  }
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    fused.save(archive);
    archive.save_to(saved);
  }
  torch::optim::Adam plain(plain_params.groups(), torch::optim::AdamOptions(1e-3));
  torch::serialize::InputArchive in;
  in.load_from(saved);
  plain.load(in);
  for (int step = 5; step < 10; ++step) {
    set_grads(fused_params, step);
    set_grads(plain_params, step);
    fused.step();
    plain.step();
  }
  expect_close(fused_params, plain_params, 1e-5);
}

// A sparse gradient (the fused kernel takes none) goes to torch's step, which refuses it.
TEST(FusedAdam, SparseGradientIsRefusedAsByTorchAdam) {
  Params params(3);
  FusedAdam fused(params.groups(), torch::optim::AdamOptions(1e-3));
  set_grads(params, 0, /*sparse_table=*/true);
  try {
    fused.step();
    ADD_FAILURE() << "a sparse gradient was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not support sparse gradients"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace twotower
