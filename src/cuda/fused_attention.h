// The libtorch side of the fused CUDA attention (attention_kernels.h):
// shape checks, dispatch, and autograd. Only built with VIDEOPRISM_CUDA.
#pragma once

#include <torch/torch.h>

namespace videoprism::cuda {

// Whether the fused kernels take these inputs: CUDA bfloat16, head dim at most
// 128 (64 when gradients are needed); head dims off a multiple of 16 are
// zero-padded and unaligned layouts copied.
// False also when disabled by set_fused_attention_enabled(false) or by the
// environment variable VIDEOPRISM_FUSED_ATTENTION=0.
bool fused_attention_supported(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

// Turns the fused path off (true by default): the plain libtorch composition
// runs instead. For validating one against the other.
void set_fused_attention_enabled(bool enabled);
bool fused_attention_enabled();

// q: [B, T, N, H], k and v: [B, S, N, H] (any strides with H contiguous), mask:
// bool broadcastable to [B, 1, T, S] (true = masked) or undefined. q is not yet
// scaled: logits are scale * <q, k>, capped at `cap` (<= 0: no cap).
// Returns [B, T, N, H] contiguous. Differentiable in q, k and v.
torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& mask, double scale, double cap);

}  // namespace videoprism::cuda
