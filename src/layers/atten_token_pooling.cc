#include "layers/atten_token_pooling.h"

#include "layers/module_util.h"

namespace videoprism {

AttenTokenPoolingLayerImpl::AttenTokenPoolingLayerImpl(int64_t dim, int64_t hidden_dim, int64_t num_heads,
                                                       int64_t num_queries) {
  pooling_attention_query = register_parameter("pooling_attention_query", empty_param({num_queries, dim}));
  DotProductAttentionOptions options;
  options.input_dim = dim;
  options.hidden_dim = hidden_dim;
  options.num_heads = num_heads;
  options.atten_logit_cap = 0.0;
  options.per_dim_scale = true;
  pooling_attention = register_module("pooling_attention", DotProductAttention(options));
  pooling_attention_layer_norm = register_module("pooling_attention_layer_norm", LayerNorm(dim));
}

torch::Tensor AttenTokenPoolingLayerImpl::forward(const torch::Tensor& tokens, const torch::Tensor& paddings) {
  const int64_t batch = tokens.size(0);
  torch::Tensor query = cast_like(pooling_attention_query, tokens).unsqueeze(0).expand({batch, -1, -1});  // [B, Q, D]
  torch::Tensor mask = make_attention_mask(paddings, /*causal=*/false, tokens.size(1), tokens.device());
  torch::Tensor pooled = pooling_attention->forward(query, tokens, mask);  // [B, Q, D]
  return pooling_attention_layer_norm->forward(pooled);
}

}  // namespace videoprism
