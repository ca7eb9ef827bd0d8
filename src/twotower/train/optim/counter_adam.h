// ATen's fused Adam with each parameter's step count and each group's learning rate read from a
// buffer on the parameters' device instead of passed as numbers: an update that a CUDA graph can
// capture once and replay (train/gpu/step_graph.h), each replay reading the counts and rates the host
// wrote into the buffer before it. The state is torch's Adam's (AdamParamState), the one
// FusedAdam's eager steps move, so eager steps and replays can alternate; one fill, update and
// advance is one FusedAdam::step, up to the rounding of the learning rate to float.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace twotower {

class CounterAdam {
 public:
  /// Keeps `adam` by reference (it must outlive this); allocates the buffer on `device`, so make
  /// it outside a capture. Every parameter to update needs its Adam state already (an eager step).
  CounterAdam(torch::optim::Adam& adam, const torch::Device& device);

  /// Writes each parameter's count after the next step (1 for a parameter without state), and
  /// each group's learning rate, into the buffer: on a CUDA device an asynchronous copy from
  /// pinned memory. Before each run of the update.
  void fill();
  /// The update of every parameter that has a gradient now, reading the buffer (what a capture
  /// records). Throws naming the parameter when one has a gradient but no Adam state.
  void update();
  /// Adds one to the host's count of each parameter the last update() covered (after each run of
  /// that update, captured or not).
  void advance();

 private:
  // One parameter group's share of the update.
  struct Group {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    std::vector<torch::optim::AdamParamState*> states;
  };

  torch::optim::Adam& adam_;
  int64_t parameter_count_ = 0;  // over all groups; the learning rates follow in the buffer
  torch::Tensor counters_;       // float32 [each parameter's count..., each group's rate...]
  std::vector<Group> groups_;
};

}  // namespace twotower
