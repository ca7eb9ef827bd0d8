// A training step captured once as a CUDA graph and replayed for every later batch of the same
// sizes (training.cuda_graph): the forward pass, the backward pass, the clip and the Adam update
// of a batch become one graph launch instead of some hundreds of kernel launches from the host,
// whose cost bounds a GPU step at the reference's batch sizes (docs/speed.md, "On a GPU").
//
// A replay computes what an eager step of the same batch computes: the batch is copied into the
// graph's input buffers first, and Adam's step counts and learning rates, which change between
// replays, are read by ATen's fused kernel from a device buffer the host fills before each
// replay (the eager FusedAdam bakes them in as numbers). The first kWarmupSteps batches of the
// graph's sizes, and every batch of other sizes (an epoch's last, short one), step eagerly on the
// graph's stream, which also sets up what the capture needs there (cuBLAS's workspace, the
// optimizer's state). Built against a CUDA LibTorch (step_graph_cuda.cc); a CPU build refuses it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "twotower/config/config.h"
#include "twotower/train/optim/optimizers.h"

namespace twotower {

class StepGraph {
 public:
  /// The batch's loss from tensors on the device (`negatives` and `history` may be undefined).
  using LossOf = std::function<torch::Tensor(const torch::Tensor& users, const torch::Tensor& items,
                                             const torch::Tensor& negatives, const torch::Tensor& history)>;
  /// Makes the graph's stream the current one while alive (an epoch runs on it, eager steps
  /// included), after the work queued before; the default stream then waits for the epoch's.
  class Scope {
   public:
    virtual ~Scope() = default;
  };
  static constexpr int64_t kWarmupSteps = 3;

  virtual ~StepGraph() = default;
  virtual std::unique_ptr<Scope> scope() = 0;
  /// Trains one batch (CPU tensors) when it has the graph's sizes (the sizes of the first batch
  /// given) and the warm-up is over, capturing the graph at the first such batch: returns the
  /// batch's 0-dim loss on the device. Returns an undefined tensor, having done nothing, for a
  /// batch the caller steps eagerly.
  virtual torch::Tensor step(const torch::Tensor& users, const torch::Tensor& items, const torch::Tensor& negatives,
                             const torch::Tensor& history) = 0;
  /// Graph launches so far.
  virtual int64_t replays() const = 0;
};

/// The step graph of a run on `device` (a CUDA device) whose parameters are `parameters` (all of
/// them, clipped together when t.clip_grad_norm > 0) and whose optimizer is optimizers.dense, a
/// FusedAdam. Throws when this LibTorch has no CUDA.
std::unique_ptr<StepGraph> make_step_graph(const std::vector<torch::Tensor>& parameters, Optimizers& optimizers,
                                           const TrainingConfig& t, const torch::Device& device,
                                           StepGraph::LossOf loss_of);

}  // namespace twotower
