// Small helpers shared by the layers: stacked ("scanned") parameters and
// cast-at-use.
//
// A scanned stack stores every parameter once with a leading layer axis L
// (`x_layers/...` in the checkpoint). Layers built with `stack > 0` allocate
// [L, ...] parameters and take the layer index at call time; `stack == 0`
// builds an ordinary single layer.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "videoprism/core/profile.h"

namespace videoprism {

// Shape of a parameter of per-layer shape `shape` in a stack of `stack` layers.
inline std::vector<int64_t> stacked_shape(int64_t stack, std::vector<int64_t> shape) {
  if (stack > 0) shape.insert(shape.begin(), stack);
  return shape;
}

// The slice of a (possibly stacked) parameter used by layer `layer`.
inline torch::Tensor at_layer(const torch::Tensor& param, int64_t layer) {
  return layer >= 0 ? param.select(0, layer) : param;
}

// Parameters stay float32; activations may be bfloat16. Cast at use.
inline torch::Tensor cast_like(const torch::Tensor& param, const torch::Tensor& activations) {
  return param.scalar_type() == activations.scalar_type() ? param : param.to(activations.scalar_type());
}

// Parameters are allocated uninitialized: they are filled by a checkpoint load
// or by init_parameters(); a preset built only to be counted never touches memory.
inline torch::Tensor empty_param(const std::vector<int64_t>& shape) {
  return torch::empty(shape, torch::TensorOptions().dtype(torch::kFloat32));
}

}  // namespace videoprism

namespace videoprism {

// Bytes a pass over `x` moves when it reads `reads` tensors of x's size and
// writes `writes` of them (for profile regions; 0 when no session is open).
inline double pass_bytes(const torch::Tensor& x, int reads, int writes) {
  return profile::active() ? profile::tensor_bytes(x.numel(), x.scalar_type()) * (reads + writes) : 0.0;
}

// fresh + other, reusing `fresh`'s memory when autograd does not need it.
// `fresh` must be a temporary the caller owns (e.g. a layer's output).
inline torch::Tensor add_into(torch::Tensor fresh, const torch::Tensor& other) {
  if (torch::GradMode::is_enabled() && (fresh.requires_grad() || other.requires_grad())) return fresh + other;
  return fresh.add_(other);
}

}  // namespace videoprism
