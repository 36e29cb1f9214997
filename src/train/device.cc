// Training device: parsing and checks, batch moves, peak memory.
#include "videoprism/train/device.h"

#include <cstdlib>

#ifdef VIDEOPRISM_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "videoprism/error.h"

namespace videoprism::train {

torch::Device training_device(const std::string& name, const std::string& who) {
  if (name == "cpu") return torch::kCPU;
  int64_t index = -1;
  if (name == "cuda") {
    // One process per GPU under torchrun: LOCAL_RANK picks this process's GPU.
    const char* local = std::getenv("LOCAL_RANK");
    index = (local != nullptr && *local != '\0') ? std::atoi(local) : 0;
  } else if (name.rfind("cuda:", 0) == 0 && name.size() > 5 &&
             name.find_first_not_of("0123456789", 5) == std::string::npos && name.size() <= 8) {
    index = std::stoi(name.substr(5));
  } else {
    fail(who, ": \"device\" must be cpu, cuda or cuda:N, got \"", name, "\"");
  }
  check(torch::cuda::is_available(), who, ": \"device\": \"", name,
        "\" needs CUDA, but torch::cuda::is_available() is false (a CPU-only libtorch, or no visible GPU); "
        "use \"cpu\"");
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  check(index < count, who, ": \"device\": \"", name, "\" asks for GPU ", index, " but ", count,
        " CUDA device(s) are visible");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

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
