// training.trace_steps: a stretch of training recorded with PyTorch's profiler (Kineto), as
// torch.profiler records a PyTorch run: on a CUDA device the kernels (CUPTI's activity records,
// without the host's operators, whose recording would slow the host that launches them), on the
// CPU the operators. The trace is written in Chrome's trace format (chrome://tracing, Perfetto)
// and its kernels' share of the traced time is logged (train/gpu/kernel_share.h).
//
// The trace covers `steps` batches of the first epoch the run trains, from its batch
// kWarmupSteps + 1 on (allocator, cuBLAS, a captured step graph are set up by then), and ends
// early at the epoch's end: the epoch's end-of-epoch work is never in it. The device is
// synchronized when the trace starts and when it ends; nothing else changes, so the run's
// results are those of a run without it.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace twotower {

class StepTrace {
 public:
  static constexpr int64_t kWarmupSteps = 10;

  /// `steps` >= 1 batches, traced on `device` into `file`.
  StepTrace(int64_t steps, const torch::Device& device, std::filesystem::path file);
  /// A trace still running (an exception ended the epoch) is stopped and not written.
  ~StepTrace();
  StepTrace(const StepTrace&) = delete;
  StepTrace& operator=(const StepTrace&) = delete;

  /// Before batch `batch` (0-based) of epoch `epoch`: starts the trace at batch kWarmupSteps of
  /// the first epoch. Throws when the profiler cannot start.
  void before_batch(int64_t epoch, int64_t batch);
  /// After batch `batch`; `last_of_epoch` when the epoch ends with it. Stops the trace after
  /// `steps` batches or at the epoch's end, writes the file and logs what it holds. An epoch too
  /// short to reach the trace is logged, and no later epoch is traced.
  void after_batch(int64_t epoch, int64_t batch, bool last_of_epoch);
  /// Whether the file has been written.
  bool written() const { return written_; }

 private:
  void stop(int64_t epoch, int64_t batch);

  int64_t steps_;
  torch::Device device_;
  std::filesystem::path file_;
  bool running_ = false, done_ = false, written_ = false;
  int64_t first_batch_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace twotower
