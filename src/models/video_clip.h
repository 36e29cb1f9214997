// FactorizedVideoCLIP: the video-text ("LvT") model. Vision encoder
// (`vision_encoder`, always norm policy pre), optional `auxiliary_encoder`
// layers, the `contrastive_vision_pooler` (MAP, hidden 4D) and the
// `text_encoder` (class token last, FFN width 4D).
#pragma once

#include <torch/torch.h>

#include "encoders/factorized_encoder.h"
#include "encoders/text_encoder.h"
#include "encoders/vision_transformer.h"
#include "layers/atten_token_pooling.h"
#include "videoprism/core/config.h"

namespace videoprism {

struct VideoClipOutputs {
  torch::Tensor video_embeddings;               // [B, D], L2-normalized
  torch::Tensor video_embeddings_unnormalized;  // [B, D]
  torch::Tensor spatial_features;               // [B, T*N, D]
  torch::Tensor spatiotemporal_features;        // [B, T*N, D]
  torch::Tensor frame_embeddings;               // [B, T, D], L2-normalized (when asked)
};

struct TextOutputs {
  torch::Tensor text_embeddings;               // [B', D], L2-normalized
  torch::Tensor text_embeddings_unnormalized;  // [B', D]
};

// x / sqrt(sum(x^2) + 1e-12) over the last axis, computed in float32.
torch::Tensor l2_normalize(const torch::Tensor& x);

class FactorizedVideoCLIPImpl : public torch::nn::Module {
 public:
  explicit FactorizedVideoCLIPImpl(const ModelConfig& config);
  VideoClipOutputs encode_video(const torch::Tensor& video, const torch::Tensor& frame_paddings = {},
                                bool with_frame_embeddings = false);
  TextOutputs encode_text(const torch::Tensor& ids, const torch::Tensor& paddings);
  // The clip embedding of vision-encoder tokens [B, L, D]: the auxiliary
  // layers, then the contrastive MAP pooler. [B, D], unnormalized.
  torch::Tensor pool_tokens(const torch::Tensor& tokens);

  FactorizedEncoder vision_encoder{nullptr};
  VisionTransformer auxiliary_encoder{nullptr};
  AttenTokenPoolingLayer contrastive_vision_pooler{nullptr};
  TextEncoder text_encoder{nullptr};

 private:
  torch::Tensor auxiliary_features(const torch::Tensor& tokens);  // [B, L, D] -> [B, L, D]
  torch::Tensor pool_features(const torch::Tensor& features);     // [B, L, D] -> [B, D]

  ModelConfig config_;
};
TORCH_MODULE(FactorizedVideoCLIP);

}  // namespace videoprism
