// Inference copies of a module's projection weights, one per stacked layer:
//   int8 (ops/int8_gemm.h) for `--dtype int8`;
//   float32 packed for oneDNN (ops/f32_gemm.h) for CPU float32 inference.
// They live outside the parameter tree: checkpoints, save() and training only
// ever see the float32 parameters. Each copy remembers which values it was made
// from (the parameters' storage and version counters, which every in-place
// update such as an optimizer step or a checkpoint load bumps), and is made
// again when they changed, so an evaluation between training steps never reads
// stale weights.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "ops/f32_gemm.h"
#include "ops/int8_gemm.h"

namespace videoprism {

// Which values a copy was made from: (storage pointer, version) per source tensor.
using ParamStamp = std::vector<std::pair<const void*, int64_t>>;
ParamStamp param_stamp(std::initializer_list<torch::Tensor> sources);

template <class T>
class PackedWeights {
 public:
  using Make = std::function<std::shared_ptr<const T>(int64_t layer)>;
  // The copy of `layer` (-1: an unstacked module) made from the values `stamp`
  // names; made by `make` when there is none or it came from other values.
  // Thread-safe.
  std::shared_ptr<const T> get(int64_t layer, const ParamStamp& stamp, const Make& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_layer_.find(layer);
    if (it != by_layer_.end() && it->second.first == stamp) return it->second.second;
    std::shared_ptr<const T> made = make(layer);
    by_layer_[layer] = {stamp, made};
    return made;
  }
  // Forgets them.
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    by_layer_.clear();
  }

 private:
  std::mutex mutex_;
  std::map<int64_t, std::pair<ParamStamp, std::shared_ptr<const T>>> by_layer_;
};
using Int8Weights = PackedWeights<ops::Int8Linear>;
using F32Weights = PackedWeights<ops::F32Linear>;

// Whether a projection of `x` runs as an int8 GEMM: this call's EpilogueScope
// asks for int8 (RunOptions dtype kQInt8), x is float32 on the CPU and no
// gradient is being recorded.
bool use_int8(const torch::Tensor& x);
// Whether it runs through oneDNN with packed float32 weights: the scope asks
// for it (RunOptions::cpu_gemm kOneDnn, float32 on the CPU), x is float32 on
// the CPU and no gradient is being recorded.
bool use_packed_f32(const torch::Tensor& x);
// Whether attention's float32 batched matmuls of `x` go to oneDNN: either of
// the two above (int8 inference keeps attention in float32).
bool use_onednn_attention(const torch::Tensor& x);

enum class PackedKind { kInt8, kF32 };
// Makes every projection's copy of `kind` in the module tree under `root`
// (Dense kernels, self-attention's fused QKV and output projections) now.
void prepare_packed_weights(torch::nn::Module& root, PackedKind kind);
// Drops every copy under `root`.
void clear_packed_weights(torch::nn::Module& root);

// The layer indices of a parameter with `per_layer_dims` dimensions per layer:
// 0..L-1 when it is stacked, else {-1}.
std::vector<int64_t> layer_indices(const torch::Tensor& param, int64_t per_layer_dims);

}  // namespace videoprism
