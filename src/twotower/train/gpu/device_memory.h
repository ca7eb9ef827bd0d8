// How much memory a training device has held: what PyTorch reports as
// torch.cuda.max_memory_allocated, so that twotower and the PyTorch reference are read alike.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace twotower {

/// The most bytes the device's caching allocator has had allocated at one time since the process
/// started (tensors' memory, not the allocator's cached reserve); -1 for the CPU.
int64_t device_peak_bytes(const torch::Device& device);

}  // namespace twotower
