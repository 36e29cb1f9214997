// Checks the fused CUDA attention against an independent float64 composition
// of libtorch ops, forward and backward, over the shapes the models use
// (spatial, temporal, padded, causal, pooler, long, odd head dims). Run by
// `videoprism bench --device cuda` before anything is timed, and by the tests
// when a GPU is present.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace videoprism::cuda {

struct AttentionCheck {
  std::string name;           // the case, with its shape
  double forward_error = 0;   // ||fused - ref|| / ||ref|| of the output
  double backward_error = 0;  // the worst of dq, dk, dv (0 when not checked)
  bool backward = false;      // whether gradients were checked
  bool passed = false;
};

// Tolerances: bf16 operands with float32 accumulation land near 4e-3.
constexpr double kForwardTolerance = 1e-2;
constexpr double kBackwardTolerance = 2e-2;

std::vector<AttentionCheck> check_fused_attention(const torch::Device& device, uint64_t seed = 0);

}  // namespace videoprism::cuda
