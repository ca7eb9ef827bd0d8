// The step graph against a CUDA LibTorch (tests/cuda/step_graph_test.cc checks it on a GPU).
#include <ATen/cuda/CUDAGraph.h>
#include <ATen/ops/_fused_adam.h>
#include <c10/core/Event.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <tuple>
#include <utility>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/train/step_graph.h"

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
  ~StreamScope() override { wait_for(stream_, before_); }
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

// One parameter group's share of the captured Adam update.
struct AdamGroup {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
  std::vector<torch::optim::AdamParamState*> states;
  std::vector<int64_t> slots;  // where each parameter's step count sits in the counters
  torch::Tensor lr;            // 0-dim, a view of the counters
  double beta1 = 0, beta2 = 0, weight_decay = 0, eps = 0;
};

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
    fill_counters();
    graph_->replay();
    ++replays_;
    for (AdamGroup& g : groups_) {
      for (auto* state : g.states) state->step(state->step() + 1);
    }
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

  // Each parameter's step count after this step, then each group's learning rate, into the
  // counters the captured update reads.
  void fill_counters() {
    std::vector<float> values(static_cast<size_t>(counters_.numel()), 1.0f);
    for (const AdamGroup& g : groups_) {
      for (size_t j = 0; j < g.states.size(); ++j) {
        values[static_cast<size_t>(g.slots[j])] = static_cast<float>(g.states[j]->step() + 1);
      }
    }
    const auto& groups = adam_->param_groups();
    for (size_t g = 0; g < groups.size(); ++g) {
      values[static_cast<size_t>(parameter_count_) + g] = static_cast<float>(groups[g].options().get_lr());
    }
    const torch::Tensor host = torch::tensor(values, torch::kFloat).pin_memory();
    counters_.copy_(host, /*non_blocking=*/true);
  }

  // Records loss, backward, clip and update of the batch in the input buffers. The gradients are
  // unset first, so the captured backward writes them rather than adding to them.
  void capture() {
    adam_->zero_grad();
    parameter_count_ = 0;
    for (const auto& group : adam_->param_groups()) parameter_count_ += static_cast<int64_t>(group.params().size());
    counters_ = torch::ones({parameter_count_ + static_cast<int64_t>(adam_->param_groups().size())},
                            torch::TensorOptions(torch::kFloat).device(device_));
    graph_ = std::make_unique<at::cuda::CUDAGraph>();
    graph_->capture_begin();
    loss_ = loss_of_(inputs_[0], inputs_[1], inputs_[2], inputs_[3]);
    loss_.backward();
    if (clip_ > 0) clip_gradients(parameters_, nullptr, clip_);
    capture_update();
    graph_->capture_end();
  }

  // ATen's fused Adam over every parameter with a gradient, its step counts and learning rates
  // read from the counters (as FusedAdam::step, with numbers read on the device).
  void capture_update() {
    groups_.clear();
    int64_t slot = 0;  // the position of the parameter among all groups' parameters
    auto& state = adam_->state();
    const auto num_groups = static_cast<int64_t>(adam_->param_groups().size());
    for (int64_t g = 0; g < num_groups; ++g) {
      const auto& group = adam_->param_groups()[static_cast<size_t>(g)];
      const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
      AdamGroup a;
      std::tie(a.beta1, a.beta2) = o.betas();
      a.weight_decay = o.weight_decay();
      a.eps = o.eps();
      a.lr = counters_[parameter_count_ + g];
      for (const auto& p : group.params()) {
        const int64_t at = slot++;
        if (!p.grad().defined()) continue;
        auto found = state.find(p.unsafeGetTensorImpl());
        if (found == state.end()) fail("training.cuda_graph: a parameter has no Adam state after the warm-up steps");
        auto* s = static_cast<torch::optim::AdamParamState*>(found->second.get());
        a.params.push_back(p);
        a.grads.push_back(p.grad());
        a.exp_avgs.push_back(s->exp_avg());
        a.exp_avg_sqs.push_back(s->exp_avg_sq());
        a.steps.push_back(counters_[at]);
        a.slots.push_back(at);
        a.states.push_back(s);
      }
      if (a.params.empty()) continue;
      at::_fused_adam_(a.params, a.grads, a.exp_avgs, a.exp_avg_sqs, {}, a.steps, a.lr, a.beta1, a.beta2,
                       a.weight_decay, a.eps, /*amsgrad=*/false, /*maximize=*/false);
      groups_.push_back(std::move(a));
    }
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
  int64_t parameter_count_ = 0;        // the optimizer's parameters, over all groups
  torch::Tensor counters_;             // [each parameter's step count..., each group's lr...]
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  torch::Tensor loss_;
  std::vector<AdamGroup> groups_;
};

}  // namespace

std::unique_ptr<StepGraph> make_step_graph(const std::vector<torch::Tensor>& parameters, Optimizers& optimizers,
                                           const TrainingConfig& t, const torch::Device& device,
                                           StepGraph::LossOf loss_of) {
  return std::make_unique<CudaStepGraph>(parameters, optimizers, t, device, std::move(loss_of));
}

}  // namespace twotower
