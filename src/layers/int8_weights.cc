#include "layers/int8_weights.h"

#include "layers/attention.h"
#include "layers/epilogues.h"
#include "layers/feed_forward.h"

namespace videoprism {

const ops::Int8Linear& Int8Weights::get(int64_t layer, const Make& make) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_layer_.find(layer);
  if (it == by_layer_.end()) it = by_layer_.emplace(layer, make(layer)).first;
  return *it->second;
}

void Int8Weights::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  by_layer_.clear();
}

bool use_int8(const torch::Tensor& x) {
  return EpilogueScope::current().int8_gemms && x.scalar_type() == torch::kFloat32 && x.device().is_cpu() &&
         !torch::GradMode::is_enabled();
}

void prepare_int8_weights(torch::nn::Module& root) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules()) {
    if (auto* dense = dynamic_cast<DenseImpl*>(m.get())) dense->prepare_int8();
    if (auto* attention = dynamic_cast<DotProductAttentionImpl*>(m.get())) attention->prepare_int8();
  }
}

void clear_int8_weights(torch::nn::Module& root) {
  for (const auto& m : root.modules()) {
    if (auto* dense = dynamic_cast<DenseImpl*>(m.get())) dense->clear_int8();
    if (auto* attention = dynamic_cast<DotProductAttentionImpl*>(m.get())) attention->clear_int8();
  }
}

std::vector<int64_t> layer_indices(const torch::Tensor& param, int64_t per_layer_dims) {
  if (param.dim() == per_layer_dims) return {-1};
  std::vector<int64_t> layers;
  for (int64_t l = 0; l < param.size(0); ++l) layers.push_back(l);
  return layers;
}

}  // namespace videoprism
