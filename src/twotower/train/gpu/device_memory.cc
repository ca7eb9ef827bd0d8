#include "twotower/train/gpu/device_memory.h"

#include <c10/core/CachingDeviceAllocator.h>

namespace twotower {

int64_t device_peak_bytes(const torch::Device& device) {
  if (device.is_cpu()) return -1;
  const c10::CachingDeviceAllocator::DeviceStats stats =
      c10::getDeviceAllocator(device.type())->getDeviceStats(device.has_index() ? device.index() : 0);
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

}  // namespace twotower
