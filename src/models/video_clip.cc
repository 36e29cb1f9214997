#include "models/video_clip.h"

#include "videoprism/core/profile.h"

namespace videoprism {

torch::Tensor l2_normalize(const torch::Tensor& x) {
  torch::Tensor x32 = x.to(torch::kFloat32);
  torch::Tensor norm = torch::sqrt((x32 * x32).sum(-1, /*keepdim=*/true) + 1e-12);
  return (x32 / norm).to(x.scalar_type());
}

FactorizedVideoCLIPImpl::FactorizedVideoCLIPImpl(const ModelConfig& config) : config_(config) {
  const EncoderConfig& e = config.encoder;
  EncoderConfig vision = e;
  vision.norm_policy = NormPolicy::kPre;
  vision_encoder = register_module("vision_encoder", FactorizedEncoder(vision));
  if (config.num_auxiliary_layers > 0) {
    auxiliary_encoder = register_module(
        "auxiliary_encoder", VisionTransformer(config.num_auxiliary_layers, e.model_dim, e.num_heads, e.mlp_dim,
                                               e.atten_logit_cap, NormPolicy::kPre, e.scan));
  }
  contrastive_vision_pooler =
      register_module("contrastive_vision_pooler", AttenTokenPoolingLayer(e.model_dim, 4 * e.model_dim, e.num_heads));
  text_encoder = register_module(
      "text_encoder", TextEncoder(config.vocabulary_size, e.model_dim, config.num_unimodal_layers, e.num_heads,
                                  4 * e.model_dim, e.atten_logit_cap, config.text_norm_policy,
                                  config.enable_causal_atten, e.scan));
}

VideoClipOutputs FactorizedVideoCLIPImpl::encode_video(const torch::Tensor& video, const torch::Tensor& frame_paddings,
                                                       bool with_frame_embeddings) {
  VideoClipOutputs out;
  EncoderOutputs encoded = vision_encoder->forward(video, frame_paddings);
  out.spatial_features = encoded.spatial_features;
  out.spatiotemporal_features = encoded.embeddings;
  // The auxiliary layers and the pooler see every token, padded frames included,
  // as in the reference.
  torch::Tensor features = auxiliary_features(encoded.embeddings);                // [B, T*N, D]
  out.video_embeddings_unnormalized = pool_features(features);                     // [B, D]
  out.video_embeddings = l2_normalize(out.video_embeddings_unnormalized);
  if (with_frame_embeddings) {
    const int64_t b = video.size(0), t = video.size(1), d = features.size(2);
    profile::Region region("frame_pooler");
    torch::Tensor frames = features.reshape({b * t, -1, d});  // [(B*T), N, D]
    torch::Tensor pooled = contrastive_vision_pooler->forward(frames).squeeze(1).view({b, t, d});
    out.frame_embeddings = l2_normalize(pooled);
  }
  return out;
}

torch::Tensor FactorizedVideoCLIPImpl::auxiliary_features(const torch::Tensor& tokens) {
  if (!auxiliary_encoder) return tokens;
  profile::Region region("auxiliary");
  return auxiliary_encoder->forward(tokens);
}

torch::Tensor FactorizedVideoCLIPImpl::pool_features(const torch::Tensor& features) {
  profile::Region region("pooler");
  return contrastive_vision_pooler->forward(features).squeeze(1);  // [B, D]
}

torch::Tensor FactorizedVideoCLIPImpl::pool_tokens(const torch::Tensor& tokens) {
  return pool_features(auxiliary_features(tokens));
}

TextOutputs FactorizedVideoCLIPImpl::encode_text(const torch::Tensor& ids, const torch::Tensor& paddings) {
  torch::ScalarType dtype = paddings.defined() && paddings.is_floating_point() ? paddings.scalar_type() : torch::kFloat32;
  profile::Region region("text");
  torch::Tensor features = text_encoder->forward(ids, paddings, dtype);  // [B, L+1, D]
  TextOutputs out;
  out.text_embeddings_unnormalized = features.select(1, features.size(1) - 1);
  out.text_embeddings = l2_normalize(out.text_embeddings_unnormalized);
  return out;
}

}  // namespace videoprism
