// Built only against a CUDA LibTorch, run only where a GPU is present: what `bench train --device
// cuda` reads of a GPU run, its peak device memory (train/gpu/device_memory.h) and its trace's kernel
// share (train/gpu/step_trace.h, train/gpu/kernel_share.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "test_util.h"
#include "twotower/train/gpu/device_memory.h"
#include "twotower/train/gpu/kernel_share.h"
#include "twotower/train/gpu/step_trace.h"

namespace twotower {
namespace {

TEST(StepTraceCuda, PeakMemoryCountsATensorHeld) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: this check needs one";
  const torch::Device gpu(torch::kCUDA, 0);
  const torch::Tensor held = torch::ones({64, 1024, 1024}, torch::TensorOptions(torch::kFloat).device(gpu));  // 256 MiB
  EXPECT_GE(device_peak_bytes(gpu), int64_t{256} << 20);
  EXPECT_EQ(device_peak_bytes(torch::Device(torch::kCPU)), -1);
}

// Large products back to back keep the GPU busy: the trace's kernels cover most of their span.
// Small ones, each read back, leave it idle most of the time.
TEST(StepTraceCuda, KernelShareSeparatesBusyFromIdle) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: this check needs one";
  const torch::Device gpu(torch::kCUDA, 0);
  testing::TempDir dir;
  const auto traced = [&](const char* name, const std::function<void()>& step) {
    StepTrace trace(5, gpu, dir / name);
    for (int64_t b = 0; b < StepTrace::kWarmupSteps + 5; ++b) {
      trace.before_batch(1, b);
      step();
      trace.after_batch(1, b, false);
    }
    EXPECT_TRUE(trace.written());
    return read_kernel_share(dir / name);
  };
  const torch::Tensor big = torch::randn({4096, 4096}, torch::TensorOptions(torch::kFloat).device(gpu));
  const KernelShare busy = traced("busy.json", [&] {
    torch::Tensor x = big;
    for (int i = 0; i < 4; ++i) x = torch::mm(x, big) / 4096;
  });
  const torch::Tensor small = torch::randn({8, 8}, torch::TensorOptions(torch::kFloat).device(gpu));
  const KernelShare idle = traced("idle.json", [&] {
    for (int i = 0; i < 4; ++i) (void)torch::mm(small, small).sum().item<float>();
  });
  EXPECT_GE(busy.kernels, 20);
  EXPECT_GT(busy.share(), 0.9);
  EXPECT_GE(idle.kernels, 40);
  EXPECT_LT(idle.share(), 0.5);
}

}  // namespace
}  // namespace twotower
