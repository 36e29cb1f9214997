#include "layers/packed_weights.h"

#include "layers/attention.h"
#include "layers/epilogues.h"
#include "layers/feed_forward.h"

namespace videoprism {

ParamStamp param_stamp(std::initializer_list<torch::Tensor> sources) {
  ParamStamp stamp;
  for (const auto& t : sources) stamp.emplace_back(t.storage().data(), t._version());
  return stamp;
}

bool use_int8(const torch::Tensor& x) {
  return EpilogueScope::current().int8_gemms && x.scalar_type() == torch::kFloat32 && x.device().is_cpu() &&
         !torch::GradMode::is_enabled();
}

bool use_packed_f32(const torch::Tensor& x) {
  return EpilogueScope::current().packed_f32_gemms && x.scalar_type() == torch::kFloat32 && x.device().is_cpu() &&
         !torch::GradMode::is_enabled();
}

bool use_onednn_attention(const torch::Tensor& x) { return use_packed_f32(x) || use_int8(x); }

void prepare_packed_weights(torch::nn::Module& root, PackedKind kind) {
  torch::NoGradGuard no_grad;
  for (const auto& m : root.modules()) {
    if (auto* dense = dynamic_cast<DenseImpl*>(m.get())) dense->prepare_packed(kind);
    if (auto* attention = dynamic_cast<DotProductAttentionImpl*>(m.get())) attention->prepare_packed(kind);
  }
}

void clear_packed_weights(torch::nn::Module& root) {
  for (const auto& m : root.modules()) {
    if (auto* dense = dynamic_cast<DenseImpl*>(m.get())) dense->clear_packed();
    if (auto* attention = dynamic_cast<DotProductAttentionImpl*>(m.get())) attention->clear_packed();
  }
}

std::vector<int64_t> layer_indices(const torch::Tensor& param, int64_t per_layer_dims) {
  if (param.dim() == per_layer_dims) return {-1};
  std::vector<int64_t> layers;
  for (int64_t l = 0; l < param.size(0); ++l) layers.push_back(l);
  return layers;
}

}  // namespace videoprism
