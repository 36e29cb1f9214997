// Training device: batch moves, peak memory.
#include "videoprism/train_step/device.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "videoprism/core/error.h"

namespace videoprism::train {

torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  if (!t.defined() || t.device() == device) return t;
  const bool pinned = device.is_cuda() && t.device().is_cpu() && t.is_pinned();
  return t.to(device, /*non_blocking=*/pinned);
}

int64_t device_peak_memory_bytes(const torch::Device& device) {
#ifdef VIDEOPRISM_HAVE_CUDA
  if (device.is_cuda()) {
    // Index 0 of every StatArray is StatType::AGGREGATE (both pools), in
    // libtorch 1.13 and 2.x alike; `auto` because DeviceStats moved namespaces.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return static_cast<int64_t>(stats.allocated_bytes[0].peak);
  }
#endif
  return -1;
}

void reset_device_peak_memory(const torch::Device& device) {
#ifdef VIDEOPRISM_HAVE_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
}

}  // namespace videoprism::train
