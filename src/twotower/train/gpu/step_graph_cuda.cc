// The step graph against a CUDA LibTorch (tests/cuda/step_graph_test.cc checks it on a GPU).
#include <ATen/cuda/CUDAGraph.h>
#include <c10/core/Event.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <utility>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/train/optim/counter_adam.h"
#include "twotower/train/gpu/step_graph.h"

namespace twotower {
namespace {

// Makes `waiting` wait for the work queued so far on `done` (on the device; the host goes on).
void wait_for(const c10::Stream& done, const c10::Stream& waiting) {
  c10::Event event(c10::DeviceType::CUDA);
  event.record(done);
  event.block(waiting);
}

class StreamScope : public StepGraph::Scope {
 public:
  explicit StreamScope(const c10::cuda::CUDAStream& stream)
      : before_(c10::cuda::getCurrentCUDAStream(stream.device_index())), stream_(stream), guard_(stream) {
    wait_for(before_, stream_);
  }
  ~StreamScope() override {
    try {
      wait_for(stream_, before_);
    } catch (const std::exception& e) {  // a sticky CUDA error: the read back reports it first
      log_warn("cuda graph: the default stream cannot wait for the epoch's stream: ", e.what());
    }
  }
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  c10::cuda::CUDAStream before_;
  c10::cuda::CUDAStream stream_;
  c10::cuda::CUDAStreamGuard guard_;
};

// The sizes of a batch's tensors, an undefined one as -1: a batch fits the graph when they match.
std::vector<int64_t> shape_of(const std::vector<torch::Tensor>& tensors) {
  std::vector<int64_t> shape;
  for (const auto& t : tensors) {
    if (!t.defined()) {
      shape.push_back(-1);
      continue;
    }
    shape.push_back(t.dim());
    for (int64_t s : t.sizes()) shape.push_back(s);
  }
  return shape;
}

class CudaStepGraph : public StepGraph {
 public:
  CudaStepGraph(const std::vector<torch::Tensor>& parameters, Optimizers& optimizers, const TrainingConfig& t,
                const torch::Device& device, LossOf loss_of)
      : parameters_(parameters), adam_(dynamic_cast<torch::optim::Adam*>(optimizers.dense.get())),
        clip_(t.clip_grad_norm), device_(device), loss_of_(std::move(loss_of)),
        stream_(c10::cuda::getStreamFromPool(false, device.index())) {
    if (!device.is_cuda()) fail("training.cuda_graph: got device ", device.str(), ", expected a CUDA device");
    if (!adam_ || optimizers.rows) {
      fail("training.cuda_graph: expected optimizer adam with fused_adam and embedding_optimizer dense");
    }
  }

  std::unique_ptr<Scope> scope() override { return std::make_unique<StreamScope>(stream_); }

  torch::Tensor step(const torch::Tensor& users, const torch::Tensor& items, const torch::Tensor& negatives,
                     const torch::Tensor& history) override {
    const std::vector<torch::Tensor> batch = {users, items, negatives, history};
    if (shape_.empty()) shape_ = shape_of(batch);
    if (shape_of(batch) != shape_) return {};
    if (warmed_up_ < kWarmupSteps) {
      ++warmed_up_;
      return {};
    }
    copy_inputs(batch);
    if (!graph_) capture();
    adam_update_->fill();
    graph_->replay();
    adam_update_->advance();
    ++replays_;
    return loss_.detach().clone();
  }

  int64_t replays() const override { return replays_; }

 private:
  // The batch into the graph's input buffers (made at the first call), from pinned memory.
  void copy_inputs(const std::vector<torch::Tensor>& batch) {
    if (inputs_.empty()) {
      for (const auto& t : batch) {
        inputs_.push_back(t.defined() ? torch::empty(t.sizes(), t.options().device(device_)) : torch::Tensor());
      }
    }
    for (size_t j = 0; j < batch.size(); ++j) {
      if (batch[j].defined()) inputs_[j].copy_(batch[j].contiguous().pin_memory(), /*non_blocking=*/true);
    }
  }

  // Records loss, backward, clip and update of the batch in the input buffers. The gradients are
  // unset first, so the captured backward writes them rather than adding to them.
  void capture() {
    adam_->zero_grad();
    adam_update_ = std::make_unique<CounterAdam>(*adam_, device_);
    auto graph = std::make_unique<at::cuda::CUDAGraph>();
    graph->capture_begin();
    try {
      loss_ = loss_of_(inputs_[0], inputs_[1], inputs_[2], inputs_[3]);
      loss_.backward();
      if (clip_ > 0) clip_gradients(parameters_, nullptr, clip_);
      adam_update_->update();
    } catch (...) {
      // End the capture (and the allocator's redirection to the graph's pool) so that the error
      // reaches the caller and the stream works again; the graph is not kept.
      try {
        graph->capture_end();
      } catch (...) {
      }
      throw;
    }
    graph->capture_end();
    graph_ = std::move(graph);
  }

  std::vector<torch::Tensor> parameters_;
  torch::optim::Adam* adam_;
  double clip_;
  torch::Device device_;
  LossOf loss_of_;
  c10::cuda::CUDAStream stream_;
  std::vector<int64_t> shape_;
  int64_t warmed_up_ = 0;
  int64_t replays_ = 0;
  std::vector<torch::Tensor> inputs_;  // users, items, negatives, history on the device
  std::unique_ptr<CounterAdam> adam_update_;  // made just before the capture
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  torch::Tensor loss_;
};

}  // namespace

std::unique_ptr<StepGraph> make_step_graph(const std::vector<torch::Tensor>& parameters, Optimizers& optimizers,
                                           const TrainingConfig& t, const torch::Device& device,
                                           StepGraph::LossOf loss_of) {
  return std::make_unique<CudaStepGraph>(parameters, optimizers, t, device, std::move(loss_of));
}

}  // namespace twotower
