#include "encoders/vision_transformer.h"

namespace videoprism {

VisionTransformerImpl::VisionTransformerImpl(int64_t num_layers, int64_t model_dim, int64_t num_heads,
                                             int64_t mlp_dim, double atten_logit_cap, NormPolicy norm_policy,
                                             bool scan) {
  TransformerOptions options;
  options.model_dim = model_dim;
  options.hidden_dim = mlp_dim;
  options.num_heads = num_heads;
  options.norm_policy = norm_policy;
  options.activation = Activation::kGeluExact;
  options.atten_logit_cap = atten_logit_cap;
  transformers_stack =
      register_module("transformers_stack", StackedTransformer(num_layers, options, scan, /*causal=*/false));
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& x, const torch::Tensor& paddings) {
  return transformers_stack->forward(x, paddings);
}

}  // namespace videoprism
