// VisionTransformer: a StackedTransformer named `transformers_stack` with the
// vision settings (exact GELU, H^-0.5 query scale, no causal mask).
#pragma once

#include <torch/torch.h>

#include "layers/transformer.h"
#include "videoprism/core/config.h"

namespace videoprism {

class VisionTransformerImpl : public torch::nn::Module {
 public:
  VisionTransformerImpl(int64_t num_layers, int64_t model_dim, int64_t num_heads, int64_t mlp_dim,
                        double atten_logit_cap, NormPolicy norm_policy, bool scan);
  // x: [B, N, D]; paddings: [B, N] or undefined. Returns [B, N, D].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& paddings = {});
  StackedTransformer transformers_stack{nullptr};
};
TORCH_MODULE(VisionTransformer);

}  // namespace videoprism
