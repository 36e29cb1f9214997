#include "models/video_classifier.h"

#include "videoprism/core/profile.h"

namespace videoprism {

FactorizedVideoClassifierImpl::FactorizedVideoClassifierImpl(const ModelConfig& config) {
  const EncoderConfig& e = config.encoder;
  encoder = register_module("encoder", FactorizedEncoder(e));
  atten_pooler = register_module("atten_pooler", AttenTokenPoolingLayer(e.model_dim, e.model_dim, e.num_heads));
  projection = register_module("projection", FeedForward(e.model_dim, config.num_classes, Activation::kIdentity));
}

ClassifierOutputs FactorizedVideoClassifierImpl::forward(const torch::Tensor& video,
                                                         const torch::Tensor& frame_paddings) {
  ClassifierOutputs out;
  EncoderOutputs encoded = encoder->forward(video, frame_paddings);
  out.spatial_features = encoded.spatial_features;
  out.spatiotemporal_features = encoded.embeddings;
  profile::Region region("pooler");
  out.global_embeddings = atten_pooler->forward(encoded.embeddings).squeeze(1);  // [B, D]
  out.logits = projection->forward(out.global_embeddings);
  return out;
}

}  // namespace videoprism
