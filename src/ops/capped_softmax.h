// Fused attention-probability kernel: logit cap, mask and softmax in one pass.
//
// probs = softmax(where(mask, -0.7 * FLT_MAX, cap * tanh(logits / cap)))
// computed in float32 whatever the storage dtype (the reference runs the
// softmax in float32). Masked logits take the reference's finite mask value,
// so a fully masked row comes out uniform, as in the official code.
#pragma once

#include <torch/torch.h>

namespace videoprism::ops {

// The reference mask value: -0.7 * float32 max.
constexpr float kMaskValue = -0.7f * 3.40282347e+38f;

// logits: [B, N, T, S] float32 or bfloat16. mask: undefined, or bool
// broadcastable to [B, 1, T, S] with size-1 dims allowed in B and T
// (true = masked). cap <= 0 disables the cap.
// Differentiable: with grad mode on and logits requiring grad, runs the
// unfused composition of libtorch ops instead (same values).
torch::Tensor capped_masked_softmax(const torch::Tensor& logits, const torch::Tensor& mask, double cap);

// The unfused composition, kept as the reference the fused kernel is tested against.
torch::Tensor capped_masked_softmax_reference(const torch::Tensor& logits, const torch::Tensor& mask,
                                              double cap);

}  // namespace videoprism::ops
