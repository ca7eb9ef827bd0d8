// The share of a traced stretch of training in which the GPU ran a kernel, from a Chrome trace
// as PyTorch's profiler (Kineto) writes it: training.trace_steps for twotower, torch.profiler's
// export_chrome_trace for the PyTorch reference (bench/train/reference_probe.py). One reading
// for both systems, so `twotower bench train --device cuda` compares like with like.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace twotower {

struct KernelShare {
  int64_t kernels = 0;  // complete events ("ph": "X") of category "kernel"
  double busy_us = 0;   // the time at least one kernel ran (the union of their intervals)
  double span_us = 0;   // from the first kernel's start to the last one's end
  /// busy_us / span_us: 1 when the GPU never waits between kernels; 0 without kernels.
  double share() const { return span_us > 0 ? busy_us / span_us : 0.0; }
};

/// The kernels of `trace` (an object with "traceEvents"); copies and memsets ("gpu_memcpy",
/// "gpu_memset") are not kernels and do not count. Throws when "traceEvents" is missing or a
/// kernel lacks a numeric "ts" or "dur" (microseconds).
KernelShare kernel_share(const nlohmann::json& trace);

/// kernel_share of the trace in `file`; errors name the file.
KernelShare read_kernel_share(const std::filesystem::path& file);

}  // namespace twotower
