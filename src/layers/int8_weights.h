// Int8 copies of a module's projection weights for `--dtype int8` inference
// (ops/int8_gemm.h), one per stacked layer. They live outside the parameter
// tree: checkpoints, save() and training only ever see the float32 parameters.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <torch/torch.h>

#include "ops/int8_gemm.h"

namespace videoprism {

class Int8Weights {
 public:
  using Make = std::function<std::shared_ptr<const ops::Int8Linear>(int64_t layer)>;
  // The int8 weights of `layer` (-1: an unstacked module), made by `make` on
  // first use (Model::prepare_for_inference makes them all at load). Thread-safe.
  const ops::Int8Linear& get(int64_t layer, const Make& make);
  // Forgets them (the float32 parameters changed).
  void clear();

 private:
  std::mutex mutex_;
  std::map<int64_t, std::shared_ptr<const ops::Int8Linear>> by_layer_;
};

// Whether a projection of `x` runs as an int8 GEMM: this call's EpilogueScope
// asks for int8 (RunOptions dtype kQInt8), x is float32 on the CPU and no
// gradient is being recorded.
bool use_int8(const torch::Tensor& x);

// Quantizes every projection in the module tree under `root` (Dense kernels,
// self-attention's fused QKV and output projections) to int8 now.
void prepare_int8_weights(torch::nn::Module& root);
// Drops every int8 copy under `root` (its float32 parameters changed).
void clear_int8_weights(torch::nn::Module& root);

// The layer indices of a parameter with `per_layer_dims` dimensions per layer:
// 0..L-1 when it is stacked, else {-1}.
std::vector<int64_t> layer_indices(const torch::Tensor& param, int64_t per_layer_dims);

}  // namespace videoprism
