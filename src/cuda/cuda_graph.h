// Fixed-shape inference through a CUDA graph: one capture, then every call is
// a single graph launch instead of hundreds of kernel launches (which dominate
// at batch 1). Only built with VIDEOPRISM_CUDA.
#pragma once

#include <functional>
#include <memory>

#include <torch/torch.h>

#include "videoprism/core/model.h"

namespace videoprism::cuda {

class GraphRunner {
 public:
  // `fn` runs the model on a device tensor of `example`'s shape, dtype and
  // device, and must not synchronize with the host (no .item(), no copies to
  // the CPU). It is run `warmup` times on a side stream, then captured.
  GraphRunner(std::function<TensorMap(const torch::Tensor&)> fn, const torch::Tensor& example, int warmup = 2);
  ~GraphRunner();

  // Copies `input` (same shape) into the captured input buffer and replays.
  // The returned tensors are the graph's own buffers: valid until the next run.
  const TensorMap& run(const torch::Tensor& input);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace videoprism::cuda
