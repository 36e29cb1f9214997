// What a training step needs from the process group: the features' gather
// and the gradients' sum over ranks. This base is one process (nothing to
// communicate); train/distributed.h implements it over c10d. The step's math
// (train_step.h) sees only this, so it builds without c10d.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace videoprism::train {

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const { return 0; }
  virtual int world() const { return 1; }
  // [world*B, ...]: every rank's `local` [B, ...] in rank order, gradient
  // flowing only into this rank's own slot (CLIP-style gather).
  virtual torch::Tensor all_gather_with_local_grad(const torch::Tensor& local) { return local; }
  // In-place sum over ranks of float32 tensors.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) {}
};

}  // namespace videoprism::train
