// Multi-head dot-product attention as in the official layers.py:
// AttentionProjection (`w` [D,N,H], `b`), PerDimScale and DotProductAttention.
#pragma once

#include <utility>

#include <torch/torch.h>

#include "layers/packed_weights.h"

namespace videoprism {

// Bool attention mask (true = masked) broadcastable to [B, 1, T, S], built the
// way compute_attention_masks_for_fprop does: padded keys are masked; with
// causal masking, keys after the query and every position of a padded query
// row are masked too. paddings: [B, S] float (1 = padding) or undefined.
// Returns an undefined tensor when nothing can be masked.
torch::Tensor make_attention_mask(const torch::Tensor& paddings, bool causal, int64_t length,
                                  const torch::Device& device);

// einsum('...D,DNH->...NH') projection (or its transpose for the output).
class AttentionProjectionImpl : public torch::nn::Module {
 public:
  AttentionProjectionImpl(int64_t dim, int64_t num_heads, int64_t dim_per_head, bool is_output, int64_t stack);
  // input: [..., D] -> [..., N, H]; output projection: [..., N, H] -> [..., D].
  // As an int8 GEMM when use_int8(x), through oneDNN when use_packed_f32(x)
  // (layers/packed_weights.h).
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);
  // Makes every layer's copy of `kind` now (else on first use).
  void prepare_packed(PackedKind kind);
  void clear_packed() {
    int8_->clear();
    f32_->clear();
  }
  // The oneDNN float32 copy of `layer` as [K, N_out]: [D, N*H] for an input
  // projection, [N*H, D] for the output projection.
  std::shared_ptr<const ops::F32Linear> f32_at(int64_t layer);

  torch::Tensor w;  // [L?, D, N, H]
  torch::Tensor b;  // [L?, N, H], or [L?, D] for the output projection

 private:
  std::shared_ptr<const ops::Int8Linear> int8_at(int64_t layer);
  // The weights of `layer` as [K, N_out] and the bias as [N_out].
  std::pair<torch::Tensor, torch::Tensor> kn_weights(int64_t layer) const;
  bool is_output_;
  std::shared_ptr<Int8Weights> int8_ = std::make_shared<Int8Weights>();
  std::shared_ptr<F32Weights> f32_ = std::make_shared<F32Weights>();
};
TORCH_MODULE(AttentionProjection);

// q * (1.442695041 / sqrt(H)) * softplus(per_dim_scale); the stored value is
// zero-initialized so softplus(0) * 1.4427 = 1 gives plain 1/sqrt(H) scaling.
class PerDimScaleImpl : public torch::nn::Module {
 public:
  PerDimScaleImpl(int64_t dim, int64_t stack);
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);  // [..., H]
  torch::Tensor per_dim_scale;  // [L?, H]
};
TORCH_MODULE(PerDimScale);

struct DotProductAttentionOptions {
  int64_t input_dim = 0;   // D of the query / key / value inputs
  int64_t hidden_dim = 0;  // N * H
  int64_t num_heads = 1;
  double atten_logit_cap = 0.0;  // 0: no cap
  bool per_dim_scale = false;    // learned per-dim query scale (pooler) vs H^-0.5
  int64_t stack = 0;             // layers stacked in each parameter (0: none)
};

class DotProductAttentionImpl : public torch::nn::Module {
 public:
  explicit DotProductAttentionImpl(const DotProductAttentionOptions& options);
  // query_in: [B, T, D], key_value_in: [B, S, D], mask: see make_attention_mask.
  // Returns [B, T, D].
  torch::Tensor forward(const torch::Tensor& query_in, const torch::Tensor& key_value_in,
                        const torch::Tensor& mask, int64_t layer = -1);
  // Self-attention with one fused QKV matmul. x: [B, T, D] -> [B, T, D]. With
  // `residual` ([B, T, D]) the result is attention + residual, the add fused
  // into the output projection's GEMM when the EpilogueScope allows (layers/epilogues.h).
  torch::Tensor self_attention(const torch::Tensor& x, const torch::Tensor& mask, int64_t layer = -1,
                               const torch::Tensor& residual = {});
  // Makes the fused QKV's and the output projection's copies of `kind` for
  // every layer now (self-attention's; cross-attention's q/k/v are made on first use).
  void prepare_packed(PackedKind kind);
  void clear_packed();

  AttentionProjection query{nullptr}, key{nullptr}, value{nullptr}, post{nullptr};
  PerDimScale per_dim_scale{nullptr};

 private:
  // The fused CUDA kernel (cuda/fused_attention.h) when it takes these inputs,
  // else undefined. q, k, v: [B, T|S, N, H]; q not yet scaled. Returns [B, T, N*H].
  torch::Tensor attend_fused(torch::Tensor q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, int64_t layer);
  // The libtorch composition. q, k, v: [B, N, T|S, H]; q not yet scaled. Returns [B, T, N*H].
  torch::Tensor attend(torch::Tensor q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                       int64_t layer);
  // The fused QKV weights of `layer`: w [D, 3*N*H], b [3*N*H].
  std::pair<torch::Tensor, torch::Tensor> fused_qkv_weights(int64_t layer) const;
  // The same in int8, and packed for oneDNN.
  std::shared_ptr<const ops::Int8Linear> qkv_int8_at(int64_t layer);
  std::shared_ptr<const ops::F32Linear> qkv_f32_at(int64_t layer);
  ParamStamp qkv_stamp() const;
  DotProductAttentionOptions options_;
  int64_t dim_per_head_;
  std::shared_ptr<Int8Weights> qkv_int8_ = std::make_shared<Int8Weights>();
  std::shared_ptr<F32Weights> qkv_f32_ = std::make_shared<F32Weights>();
};
TORCH_MODULE(DotProductAttention);

}  // namespace videoprism
