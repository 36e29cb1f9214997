// Transformer block and StackedTransformer, with the official names:
// `x_layers` (scanned: every parameter has a leading layer axis) or
// `x_layers_{i}` (unscanned).
#pragma once

#include <torch/torch.h>

#include "layers/attention.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "videoprism/core/config.h"

namespace videoprism {

struct TransformerOptions {
  int64_t model_dim = 0;
  int64_t hidden_dim = 0;  // FFN width
  int64_t num_heads = 1;
  NormPolicy norm_policy = NormPolicy::kPre;
  Activation activation = Activation::kRelu;
  double atten_logit_cap = 0.0;
  int64_t stack = 0;
};

class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const TransformerOptions& options);
  // x: [B, T, D]; paddings [B, T] (FFN only) or undefined; mask from make_attention_mask.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& paddings, const torch::Tensor& mask,
                        int64_t layer = -1);

  LayerNorm layer_norm{nullptr}, pre_layer_norm{nullptr}, post_layer_norm{nullptr};
  DotProductAttention self_attention{nullptr};
  TransformerFeedForward ff_layer{nullptr};

 private:
  TransformerOptions options_;
};
TORCH_MODULE(Transformer);

class StackedTransformerImpl : public torch::nn::Module {
 public:
  StackedTransformerImpl(int64_t num_layers, TransformerOptions options, bool scan, bool causal);
  // x: [B, T, D]; paddings: [B, T] or undefined (no padding). Returns [B, T, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& paddings);
  int64_t num_layers() const { return num_layers_; }

 private:
  int64_t num_layers_;
  bool scan_;
  bool causal_;
  Transformer stacked_{nullptr};       // scan: `x_layers`
  std::vector<Transformer> layers_;    // no scan: `x_layers_{i}`
};
TORCH_MODULE(StackedTransformer);

}  // namespace videoprism
