// Fused, softcapped multi-head attention on CUDA (bf16 in and out, float32
// accumulation), the raw-pointer interface of attention_fwd.cu and
// attention_bwd.cu. The libtorch-facing side is fused_attention.h.
//
// For every batch b, head n, query t:
//   s_j   = scale * <q_t, k_j>
//   c_j   = cap > 0 ? cap * tanh(s_j / cap) : s_j
//   c_j   = mask(b, t, j) ? kMaskValue : c_j      (the reference's finite value)
//   o_t   = sum_j softmax(c)_j v_j,   lse_t = log sum_j exp(c_j)
// so a fully masked row averages every value, exactly like the official code.
//
// Layouts: every tensor is [batch, seq, head, head_dim] in memory with the
// head_dim axis contiguous and arbitrary element strides for the other three
// (q/k/v can be views into one fused QKV projection output).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace videoprism::cuda {

struct Strides {
  int64_t batch = 0, seq = 0, head = 0;  // in elements
};

struct AttentionForwardParams {
  const void* q = nullptr;  // bf16 [B, T, N, H]
  const void* k = nullptr;  // bf16 [B, S, N, H]
  const void* v = nullptr;  // bf16 [B, S, N, H]
  void* o = nullptr;        // bf16 [B, T, N, H]
  float* lse = nullptr;     // float [B, N, T] contiguous, or null (inference)
  Strides q_strides, k_strides, v_strides, o_strides;
  // Optional bool mask (true = masked), element (b, t, j) at
  // mask[b * mask_batch + t * mask_query + j * mask_key]; strides may be 0
  // (broadcast). Null: nothing masked.
  const bool* mask = nullptr;
  int64_t mask_batch = 0, mask_query = 0, mask_key = 1;
  int batch = 0, heads = 0, q_len = 0, kv_len = 0, head_dim = 0;
  float scale = 1.0f;
  float cap = 0.0f;  // <= 0: no cap
};

struct AttentionBackwardParams {
  AttentionForwardParams fwd;  // q, k, v, o, lse (required), masks, sizes
  const void* dout = nullptr;  // bf16 [B, T, N, H]
  Strides dout_strides;
  const float* delta = nullptr;  // float [B, N, T] contiguous: sum_h dout * o
  float* dq_accum = nullptr;     // float [B, T, N, H] contiguous, zeroed by the caller
  void* dk = nullptr;            // bf16 [B, S, N, H] contiguous
  void* dv = nullptr;            // bf16 [B, S, N, H] contiguous
};

// Head dims the kernels are built for: multiples of 16 up to 128 (forward)
// or 64 (backward).
bool attention_head_dim_supported(int head_dim, bool backward);

// Both return cudaSuccess or the launch error.
cudaError_t attention_forward(const AttentionForwardParams& params, cudaStream_t stream);
cudaError_t attention_backward(const AttentionBackwardParams& params, cudaStream_t stream);

}  // namespace videoprism::cuda
