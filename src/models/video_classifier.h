// FactorizedVideoClassifier: `encoder` (FactorizedEncoder), `atten_pooler`
// (MAP with hidden D) and a linear `projection` to the class logits.
#pragma once

#include <torch/torch.h>

#include "encoders/factorized_encoder.h"
#include "layers/atten_token_pooling.h"
#include "layers/feed_forward.h"
#include "videoprism/core/config.h"

namespace videoprism {

struct ClassifierOutputs {
  torch::Tensor logits;                   // [B, C]
  torch::Tensor spatial_features;         // [B, T*N, D]
  torch::Tensor spatiotemporal_features;  // [B, T*N, D]
  torch::Tensor global_embeddings;        // [B, D]
};

class FactorizedVideoClassifierImpl : public torch::nn::Module {
 public:
  explicit FactorizedVideoClassifierImpl(const ModelConfig& config);
  ClassifierOutputs forward(const torch::Tensor& video, const torch::Tensor& frame_paddings = {});

  FactorizedEncoder encoder{nullptr};
  AttenTokenPoolingLayer atten_pooler{nullptr};
  FeedForward projection{nullptr};
};
TORCH_MODULE(FactorizedVideoClassifier);

}  // namespace videoprism
