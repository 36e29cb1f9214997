#include "models/model_modules.h"

#include <map>

#include "videoprism/core/error.h"

namespace videoprism {
namespace {

template <typename Impl>
Impl& typed(Model& model, ModelKind kind, const std::string& who) {
  check(model.config().kind == kind, who, ": expected a ", to_string(kind), ", got a ", to_string(model.config().kind));
  auto module = std::dynamic_pointer_cast<Impl>(model.module_ptr());
  check(module != nullptr, who, ": the module tree is not a ", to_string(kind));
  return *module;
}

}  // namespace

FactorizedVideoCLIPImpl& video_clip_module(Model& model, const std::string& who) {
  return typed<FactorizedVideoCLIPImpl>(model, ModelKind::kVideoClip, who);
}

FactorizedEncoderImpl& encoder_module(Model& model, const std::string& who) {
  return typed<FactorizedEncoderImpl>(model, ModelKind::kEncoder, who);
}

FactorizedVideoClassifierImpl& classifier_module(Model& model, const std::string& who) {
  return typed<FactorizedVideoClassifierImpl>(model, ModelKind::kVideoClassifier, who);
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> copy_encoder_weights(FactorizedEncoderImpl& from,
                                                                          FactorizedEncoderImpl& to,
                                                                          const std::string& who) {
  std::map<std::string, torch::Tensor> source;
  for (const auto& item : from.named_parameters()) source[item.key()] = item.value();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  torch::NoGradGuard no_grad;
  for (const auto& item : to.named_parameters()) {
    auto it = source.find(item.key());
    check(it != source.end(), who, " does not fit the model: no parameter '", item.key(), "'");
    check(it->second.sizes() == item.value().sizes(), who, " does not fit the model at '", item.key(), "': expected ",
          shape_str(item.value().sizes()), ", got ", shape_str(it->second.sizes()));
    item.value().copy_(it->second);
    pairs.emplace_back(item.value(), it->second);
  }
  return pairs;
}

}  // namespace videoprism
