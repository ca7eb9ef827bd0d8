// Dropout with a counter-based mask: element i of a call is kept when a 32-bit hash of (seed, i)
// is at least p * 2^32, so the mask costs a few integer operations per element, is computed in
// parallel and is recomputed in the backward pass instead of being stored. torch's CPU dropout
// draws a Bernoulli variate per element from a sequential generator, which the reference
// profile puts at a third of a training step. Each call's seed is drawn from torch's default
// generator, so a run is reproduced by torch::manual_seed and resumed exactly from the RNG
// state that checkpoints hold.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace twotower {

/// x * mask / (1 - p), mask_i = [hash(seed, i) >= round(p * 2^32)]; differentiable (the backward
/// recomputes the mask). CPU float32 tensors; other tensors get torch::dropout.
torch::Tensor counter_dropout(const torch::Tensor& x, double p, uint64_t seed);

/// relu(x) then counter_dropout with the same seed, in one pass: out = x * mask / (1 - p) where
/// x > 0, else 0. The backward needs no mask: an element passes the gradient exactly where its
/// output is positive (kept and x > 0), so it reads the saved output instead of rehashing.
/// CPU float32; other tensors get torch::relu then torch::dropout.
torch::Tensor relu_counter_dropout(const torch::Tensor& x, double p, uint64_t seed);

/// The two above with a seed drawn from torch's default generator (one draw per call), as the
/// modules below draw theirs: what a training-mode forward calls. Off the CPU, torch::dropout
/// with no draw from the host's generator.
torch::Tensor counter_dropout(const torch::Tensor& x, double p);
torch::Tensor relu_counter_dropout(const torch::Tensor& x, double p);

/// ReLU and CounterDropout fused (relu_counter_dropout); in eval mode or at p = 0 a plain ReLU.
/// make_mlp puts it in the ReLU's slot and an Identity in the Dropout's, so module indices and
/// checkpoint keys stay the reference's.
struct ReluDropoutImpl : torch::nn::Module {
  explicit ReluDropoutImpl(double p) : p(p) {}
  torch::Tensor forward(const torch::Tensor& x);
  double p;
};
TORCH_MODULE(ReluDropout);

/// Drop-in for torch::nn::Dropout (no parameters or buffers, so module indices and checkpoint
/// keys stay those of the reference's Sequential).
struct CounterDropoutImpl : torch::nn::Module {
  explicit CounterDropoutImpl(double p) : p(p) {}
  torch::Tensor forward(const torch::Tensor& x);
  double p;
};
TORCH_MODULE(CounterDropout);

}  // namespace twotower
