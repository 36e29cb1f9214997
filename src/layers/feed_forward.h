// FeedForward (`linear` Dense: kernel [in, out], bias [out]) and the
// transformer block's TransformerFeedForward with its norm policies.
#pragma once

#include <torch/torch.h>

#include "layers/packed_weights.h"
#include "layers/layer_norm.h"
#include "videoprism/core/config.h"

namespace videoprism {

enum class Activation { kIdentity, kRelu, kGeluExact };
torch::Tensor apply_activation(const torch::Tensor& x, Activation activation);

// Holds the `linear` sub-module so names match `.../ffn_layer1/linear/kernel`.
class DenseImpl : public torch::nn::Module {
 public:
  DenseImpl(int64_t in_dim, int64_t out_dim, int64_t stack);
  // As an int8 GEMM when use_int8(x), through oneDNN when use_packed_f32(x)
  // (layers/packed_weights.h).
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);  // [..., in] -> [..., out]
  // Makes every layer's copy of `kind` now (else on first use).
  void prepare_packed(PackedKind kind);
  void clear_packed() {
    int8_->clear();
    f32_->clear();
  }
  // The oneDNN float32 copy of `layer` (for callers that fuse an epilogue).
  std::shared_ptr<const ops::F32Linear> f32_at(int64_t layer);
  torch::Tensor kernel;  // [L?, in, out]
  torch::Tensor bias;    // [L?, out]

 private:
  std::shared_ptr<const ops::Int8Linear> int8_at(int64_t layer);
  std::shared_ptr<Int8Weights> int8_ = std::make_shared<Int8Weights>();
  std::shared_ptr<F32Weights> f32_ = std::make_shared<F32Weights>();
};
TORCH_MODULE(Dense);

class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t in_dim, int64_t out_dim, Activation activation, int64_t stack = 0);
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);
  Dense linear{nullptr};

 private:
  Activation activation_;
};
TORCH_MODULE(FeedForward);

class TransformerFeedForwardImpl : public torch::nn::Module {
 public:
  TransformerFeedForwardImpl(int64_t dim, int64_t hidden_dim, Activation activation, NormPolicy policy,
                             int64_t stack);
  // x: [B, T, D]; paddings: [B, T] or undefined. Returns x + FFN(x) per policy.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& paddings, int64_t layer = -1);

  LayerNorm layer_norm{nullptr}, pre_layer_norm{nullptr}, post_layer_norm{nullptr};
  FeedForward ffn_layer1{nullptr}, ffn_layer2{nullptr};

 private:
  // Pre-norm, no paddings, GELU, CPU float32 through oneDNN: x + FFN(h) a row
  // block at a time, bias + GELU and bias + residual inside the GEMMs, so a
  // block's [rows, F] hidden activations stay in cache. h: normalized x. [B, T, D].
  torch::Tensor fused_rows(const torch::Tensor& h, const torch::Tensor& x, int64_t layer);
  Activation activation_;
  NormPolicy policy_;
};
TORCH_MODULE(TransformerFeedForward);

// Rows per block of TransformerFeedForward's fused CPU path (256 x 3072 float32: 3 MB).
inline constexpr int64_t kFusedFfnRows = 256;

}  // namespace videoprism
