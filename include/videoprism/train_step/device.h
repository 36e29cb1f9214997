// Training on a device: moving batches there, and the device's peak memory.
// The `device` key of the training configs is parsed by parse_device
// (videoprism/model.h), the one parser of device names.
//
// Parameters, optimizer state, logit scale and decoders live on the device;
// every random draw (initialization, masks, permutations, data order) stays
// on the CPU and is moved, so a run draws the same numbers on every device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace videoprism::train {

// t on `device` (undefined stays undefined; a tensor already there is returned
// as is). Pinned host memory is copied with non_blocking: the copy is ordered
// on the current stream before the kernels that read it.
torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device);

// Peak bytes allocated on a CUDA device since the last reset (or the start),
// from the CUDA caching allocator; -1 on the CPU or in a build without
// VIDEOPRISM_HAVE_CUDA (the allocator's stats are only linked there).
int64_t device_peak_memory_bytes(const torch::Device& device);
void reset_device_peak_memory(const torch::Device& device);

}  // namespace videoprism::train
