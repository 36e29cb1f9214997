// A transformer sub-block's last projection with its residual add fused into
// the GEMM (cuda/linear_residual.h), opted into per thread by
// FusedResidualScope (RunOptions::fused_residual). Everywhere else, and for
// anything the fused call does not take, callers compute it unfused.
#pragma once

#include <torch/torch.h>

namespace videoprism {

// While alive on this thread with `enabled`, pre-norm transformer blocks on
// CUDA bf16 without gradients end their attention and feed-forward parts with
// one cuBLASLt matmul computing projection + bias + residual.
class FusedResidualScope {
 public:
  explicit FusedResidualScope(bool enabled);
  ~FusedResidualScope();
  static bool active();

 private:
  bool previous_;
};

// x @ W + bias + residual when a FusedResidualScope is active and the fused
// CUDA path takes these inputs (weight [K, N], or [N, K] with weight_nk);
// otherwise an undefined tensor and nothing computed.
torch::Tensor fused_linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                                    const torch::Tensor& bias, const torch::Tensor& residual);

}  // namespace videoprism
