// AttenTokenPoolingLayer (MAP): learned queries cross-attend to all tokens,
// then LayerNorm. The pooler's attention uses the learned per-dim query scale
// and no logit cap; no residual, no MLP.
#pragma once

#include <torch/torch.h>

#include "layers/attention.h"
#include "layers/layer_norm.h"

namespace videoprism {

class AttenTokenPoolingLayerImpl : public torch::nn::Module {
 public:
  // hidden_dim: attention width (4*D for the CLIP pooler, D for the classifier).
  AttenTokenPoolingLayerImpl(int64_t dim, int64_t hidden_dim, int64_t num_heads, int64_t num_queries = 1);
  // tokens: [B, S, D]; paddings: [B, S] or undefined. Returns [B, Q, D].
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& paddings = {});

  torch::Tensor pooling_attention_query;  // [Q, D]
  DotProductAttention pooling_attention{nullptr};
  LayerNorm pooling_attention_layer_norm{nullptr};
};
TORCH_MODULE(AttenTokenPoolingLayer);

}  // namespace videoprism
