#include "layers/layer_norm.h"

#include "layers/module_util.h"

namespace videoprism {

LayerNormImpl::LayerNormImpl(int64_t dim, int64_t stack) : dim_(dim) {
  scale = register_parameter("scale", empty_param(stacked_shape(stack, {dim})));
  bias = register_parameter("bias", empty_param(stacked_shape(stack, {dim})));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x, int64_t layer) {
  // (x - mean) * rsqrt(var + 1e-6) * (1 + scale) + bias
  torch::Tensor weight = cast_like(at_layer(scale, layer), x) + 1;
  return torch::layer_norm(x, {dim_}, weight, cast_like(at_layer(bias, layer), x), 1e-6);
}

}  // namespace videoprism
