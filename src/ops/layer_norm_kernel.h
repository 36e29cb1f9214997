// Fused CPU LayerNorm for inference: one pass per row computing mean and
// variance in float32, whatever the storage dtype (float32 or bfloat16).
// libtorch 1.13's bf16 layer_norm is several times slower than its float32 one.
#pragma once

#include <torch/torch.h>

namespace videoprism::ops {

// (x - mean) * rsqrt(var + eps) * weight + bias over the last axis.
// x: [..., D] contiguous float32/bfloat16 on CPU; weight, bias: [D] float32.
// Differentiable callers must use torch::layer_norm; this is no-grad only.
torch::Tensor layer_norm_inference(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps);

}  // namespace videoprism::ops
