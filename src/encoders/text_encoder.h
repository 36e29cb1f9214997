// CoCa-style TextEncoder: token embedding * sqrt(D) + sinusoidal positions,
// one class token appended LAST (no position embedding, never padded), a
// causal ReLU transformer (`unimodal_transformer`) and `unimodal_ln`.
#pragma once

#include <torch/torch.h>

#include "layers/layer_norm.h"
#include "layers/transformer.h"
#include "videoprism/core/config.h"

namespace videoprism {

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t vocabulary_size, int64_t dim);
  torch::Tensor emb_var;  // [V, D]
};
TORCH_MODULE(Embedding);

class TextEncoderImpl : public torch::nn::Module {
 public:
  TextEncoderImpl(int64_t vocabulary_size, int64_t model_dim, int64_t num_layers, int64_t num_heads,
                  int64_t mlp_dim, double atten_logit_cap, NormPolicy norm_policy, bool causal, bool scan);
  // ids: [B, L] integer; paddings: [B, L] float (1 = padding). Returns the
  // features after unimodal_ln, [B, L+1, D]; the text embedding is [:, -1].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& paddings,
                        torch::ScalarType dtype = torch::kFloat32);

  Embedding token_emb{nullptr};
  torch::Tensor cls_emb;  // [1, 1, D]
  StackedTransformer unimodal_transformer{nullptr};
  LayerNorm unimodal_ln{nullptr};

 private:
  int64_t vocabulary_size_, model_dim_;
};
TORCH_MODULE(TextEncoder);

}  // namespace videoprism
