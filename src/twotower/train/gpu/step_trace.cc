#include "twotower/train/gpu/step_trace.h"

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/cuda.h>

#include <set>
#include <utility>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/train/gpu/kernel_share.h"

namespace twotower {
namespace {

namespace kineto = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

// What the trace records on `device`: the GPU's activity, or the CPU's operators.
std::set<ActivityType> activities(const torch::Device& device) {
  return {device.is_cuda() ? ActivityType::CUDA : ActivityType::CPU};
}

void wait_for(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

}  // namespace

StepTrace::StepTrace(int64_t steps, const torch::Device& device, std::filesystem::path file)
    : steps_(steps), device_(device), file_(std::move(file)) {
  if (steps_ < 1) fail("training.trace_steps: got ", steps_, ", expected >= 1 to trace");
}

StepTrace::~StepTrace() {
  if (!running_) return;
  try {
    kineto::disableProfiler();
  } catch (...) {  // a destructor does not throw; the run's own error is the one reported
  }
}

void StepTrace::before_batch(int64_t epoch, int64_t batch) {
  if (done_ || running_ || batch != kWarmupSteps) return;
  wait_for(device_);
  const ProfilerConfig config(ProfilerState::KINETO);
  try {
    kineto::prepareProfiler(config, activities(device_));
    kineto::enableProfiler(config, activities(device_));
  } catch (const std::exception& e) {
    fail("training.trace_steps: PyTorch's profiler did not start on ", device_.str(), " (epoch ", epoch, ", step ",
         batch + 1, "): ", e.what());
  }
  running_ = true;
  first_batch_ = batch;
  started_ = std::chrono::steady_clock::now();
}

void StepTrace::after_batch(int64_t epoch, int64_t batch, bool last_of_epoch) {
  if (running_ && (batch + 1 - first_batch_ == steps_ || last_of_epoch)) {
    stop(epoch, batch);
  } else if (!running_ && !done_ && last_of_epoch) {
    log_warn("training.trace_steps: epoch ", epoch, " has ", batch + 1, " steps, expected more than the ", kWarmupSteps,
             " that warm up before the trace; nothing is traced");
    done_ = true;
  }
}

void StepTrace::stop(int64_t epoch, int64_t batch) {
  wait_for(device_);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  std::unique_ptr<kineto::ProfilerResult> result = kineto::disableProfiler();
  running_ = false;
  done_ = true;
  result->save(file_.string());
  written_ = true;
  const KernelShare share = read_kernel_share(file_);
  const std::string steps = str_cat("steps ", first_batch_ + 1, "-", batch + 1, " of epoch ", epoch, " (", ms, " ms)");
  if (share.kernels == 0) {
    log_info("trace: ", steps, " in ", file_.string(), ": no GPU kernels (on ", device_.str(), " it holds the operators)");
  } else {
    log_info("trace: ", steps, " in ", file_.string(), ": GPU kernels ran ", 100 * share.share(), "% of the ",
             share.span_us / 1000, " ms from the first kernel's start to the last one's end (", share.kernels,
             " kernels)");
  }
}

}  // namespace twotower
