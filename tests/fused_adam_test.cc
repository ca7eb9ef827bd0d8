#include "twotower/train/optim/fused_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

#include "twotower/train/optim/sparse_grad_adam.h"

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
void set_grads(const Params& p, int step) {
  torch::manual_seed(100 + step);
  for (size_t k = 0; k < p.tensors.size(); ++k) {
    torch::Tensor g = torch::randn(p.tensors[k].sizes());
    if (k == 1 && step % 2 == 1) {
      p.tensors[k].mutable_grad().reset();
      continue;
    }
    p.tensors[k].mutable_grad() = g;
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

// A sparse table gradient (a few rows, with repeats, uncoalesced) takes dense Adam's step: every
// row moves, the untouched ones by their moments and weight decay alone. Same as torch's Adam over
// the gradient made dense, over steps where the touched rows change and some rows are never
// touched; the table spans several parallel chunks.
TEST(FusedAdam, SparseTableGradientStepsAsDenseAdam) {
  torch::manual_seed(3);
  const torch::Tensor start = torch::randn({700, 8});
  torch::Tensor sparse_table = start.clone().set_requires_grad(true), dense_table = start.clone().set_requires_grad(true);
  const auto options = torch::optim::AdamOptions(0.01).weight_decay(1e-2);
  FusedAdam fused(std::vector<torch::Tensor>{sparse_table}, options);
  torch::optim::Adam plain(std::vector<torch::Tensor>{dense_table}, options);
  for (int step = 0; step < 12; ++step) {
    // Rows in [0, 600) only; rows 600+ never get a gradient but still move.
    torch::Tensor rows = torch::randint(0, 600, {1, 90}, torch::kLong);
    torch::Tensor g = torch::sparse_coo_tensor(rows, torch::randn({90, 8}), {700, 8});
    ASSERT_FALSE(g.is_coalesced());
    sparse_table.mutable_grad() = g;
    dense_table.mutable_grad() = g.to_dense();
    fused.step();
    plain.step();
  }
  EXPECT_TRUE(torch::allclose(sparse_table, dense_table, 1e-5, 1e-6))
      << "max difference " << (sparse_table - dense_table).abs().max().item<double>();
  const torch::Tensor untouched = torch::arange(600, 700);
  EXPECT_FALSE(torch::equal(sparse_table.index_select(0, untouched), start.index_select(0, untouched)))
      << "rows without a gradient did not move, as dense Adam moves them";
}

// The kernel refuses a gradient it would misread.
TEST(FusedAdam, SparseGradAdamRefusesAnUncoalescedGradient) {
  torch::Tensor w = torch::zeros({4, 2}), m = torch::zeros({4, 2}), v = torch::zeros({4, 2});
  torch::Tensor g = torch::sparse_coo_tensor(torch::tensor({{1, 1}}, torch::kLong), torch::ones({2, 2}), {4, 2});
  try {
    adam_step_with_sparse_grad(w, g, m, v, AdamRow::at_step(1e-3, 0.9, 0.999, 0, 1e-8, 1));
    ADD_FAILURE() << "an uncoalesced gradient was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("expected a coalesced sparse float32 tensor"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace twotower
