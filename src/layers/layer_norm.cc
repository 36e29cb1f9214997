#include "layers/layer_norm.h"

#include "layers/module_util.h"
#include "ops/layer_norm_kernel.h"

namespace videoprism {

LayerNormImpl::LayerNormImpl(int64_t dim, int64_t stack) : dim_(dim) {
  scale = register_parameter("scale", empty_param(stacked_shape(stack, {dim})));
  bias = register_parameter("bias", empty_param(stacked_shape(stack, {dim})));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x, int64_t layer) {
  // (x - mean) * rsqrt(var + 1e-6) * (1 + scale) + bias
  const bool differentiable = torch::GradMode::is_enabled() && (x.requires_grad() || scale.requires_grad());
  if (!differentiable && x.device().is_cpu()) {
    // Statistics in float32 even for bf16 activations (the reference's bf16
    // LN reduces in bf16; float32 is the more accurate of the two).
    return ops::layer_norm_inference(x, at_layer(scale, layer) + 1, at_layer(bias, layer), 1e-6);
  }
  torch::Tensor weight = cast_like(at_layer(scale, layer), x) + 1;
  return torch::layer_norm(x, {dim_}, weight, cast_like(at_layer(bias, layer), x), 1e-6);
}

}  // namespace videoprism
