#include "layers/transformer.h"

#include "layers/module_util.h"

namespace videoprism {

TransformerImpl::TransformerImpl(const TransformerOptions& options) : options_(options) {
  const int64_t d = options.model_dim, l = options.stack;
  if (options.norm_policy == NormPolicy::kPrimerHybrid) {
    pre_layer_norm = register_module("pre_layer_norm", LayerNorm(d, l));
    post_layer_norm = register_module("post_layer_norm", LayerNorm(d, l));
  } else {
    layer_norm = register_module("layer_norm", LayerNorm(d, l));
  }
  DotProductAttentionOptions attention;
  attention.input_dim = d;
  attention.hidden_dim = d;
  attention.num_heads = options.num_heads;
  attention.atten_logit_cap = options.atten_logit_cap;
  attention.per_dim_scale = false;  // transformer stacks scale queries by H^-0.5
  attention.stack = l;
  self_attention = register_module("self_attention", DotProductAttention(attention));
  ff_layer = register_module("ff_layer", TransformerFeedForward(d, options.hidden_dim, options.activation,
                                                                options.norm_policy, l));
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& x, const torch::Tensor& paddings,
                                       const torch::Tensor& mask, int64_t layer) {
  const NormPolicy policy = options_.norm_policy;
  torch::Tensor h = x;
  {
    profile::Region region("ln1", 0, pass_bytes(x, 1, 1));
    if (policy == NormPolicy::kPrimerHybrid) h = pre_layer_norm->forward(h, layer);
    if (policy == NormPolicy::kPre) h = layer_norm->forward(h, layer);
  }
  torch::Tensor attended;
  if (policy == NormPolicy::kPre) {
    attended = self_attention->self_attention(h, mask, layer, /*residual=*/x);  // x + attention
  } else {
    attended = self_attention->self_attention(h, mask, layer);
    profile::Region region("residual1", 0, pass_bytes(x, 2, 1));
    if (policy == NormPolicy::kPrimerHybrid) attended = post_layer_norm->forward(attended, layer);
    if (policy == NormPolicy::kPost) attended = layer_norm->forward(attended, layer);
    attended = add_into(attended, x);
    if (policy == NormPolicy::kPostSkip) attended = layer_norm->forward(attended, layer);
  }
  return ff_layer->forward(attended, paddings, layer);
}

StackedTransformerImpl::StackedTransformerImpl(int64_t num_layers, TransformerOptions options, bool scan,
                                               bool causal)
    : num_layers_(num_layers), scan_(scan), causal_(causal) {
  if (scan) {
    options.stack = num_layers;
    // A scanned stack of zero layers has no parameters at all.
    if (num_layers > 0) stacked_ = register_module("x_layers", Transformer(options));
  } else {
    options.stack = 0;
    for (int64_t i = 0; i < num_layers; ++i) {
      layers_.push_back(register_module("x_layers_" + std::to_string(i), Transformer(options)));
    }
  }
}

torch::Tensor StackedTransformerImpl::forward(const torch::Tensor& x, const torch::Tensor& paddings) {
  torch::Tensor mask = make_attention_mask(paddings, causal_, x.size(1), x.device());
  torch::Tensor out = x;
  for (int64_t i = 0; i < num_layers_; ++i) {
    out = scan_ ? stacked_->forward(out, paddings, mask, i) : layers_[i]->forward(out, paddings, mask);
  }
  return out;
}

}  // namespace videoprism
