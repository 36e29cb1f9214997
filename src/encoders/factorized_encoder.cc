#include "encoders/factorized_encoder.h"

#include <optional>

#include "layers/module_util.h"
#include "layers/position_embedding.h"
#include "videoprism/core/error.h"

namespace videoprism {

TrainablePositionalEmbeddingImpl::TrainablePositionalEmbeddingImpl(int64_t length, int64_t dim) {
  emb_var = register_parameter("emb_var", empty_param({length, dim}));
}

torch::Tensor image_to_patch(const torch::Tensor& video, int64_t patch_size) {
  check_arg(video.dim() == 5 && video.size(4) == 3, "inputs: expected a video [B,T,H,W,3], got ",
        shape_str(video.sizes()));
  const int64_t b = video.size(0), t = video.size(1), h = video.size(2), w = video.size(3), c = video.size(4);
  check_arg(h % patch_size == 0 && w % patch_size == 0, "inputs: frame size ", h, "x", w,
        " is not a multiple of the patch size ", patch_size);
  const int64_t rows = h / patch_size, cols = w / patch_size;
  return video.reshape({b * t, rows, patch_size, cols, patch_size, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({b * t, rows * cols, patch_size * patch_size * c});
}

FactorizedEncoderImpl::FactorizedEncoderImpl(const EncoderConfig& config) : config_(config) {
  const int64_t d = config.model_dim, p = config.patch_size;
  const auto& pos = config.pos_emb_shape;
  patch_projection = register_module("patch_projection", FeedForward(p * p * 3, d, Activation::kIdentity));
  spatial_pos_emb = register_module("spatial_pos_emb", TrainablePositionalEmbedding(int64_t(pos[1]) * pos[2], d));
  spatial_encoder = register_module(
      "spatial_encoder", VisionTransformer(config.num_spatial_layers, d, config.num_heads, config.mlp_dim,
                                           config.atten_logit_cap, config.norm_policy, config.scan));
  spatial_ln = register_module("spatial_ln", LayerNorm(d));
  temporal_pos_emb = register_module("temporal_pos_emb", TrainablePositionalEmbedding(pos[0], d));
  temporal_encoder = register_module(
      "temporal_encoder", VisionTransformer(config.num_temporal_layers, d, config.num_heads, config.mlp_dim,
                                            config.atten_logit_cap, config.norm_policy, config.scan));
  temporal_ln = register_module("temporal_ln", LayerNorm(d));
}

EncoderOutputs FactorizedEncoderImpl::forward(const torch::Tensor& video, const torch::Tensor& frame_paddings) {
  torch::Tensor patches = image_to_patch(video, config_.patch_size);  // [B*T, N, P*P*3]
  const int64_t b = video.size(0), t = video.size(1);
  torch::Tensor patch_paddings;
  if (frame_paddings.defined()) {
    check_arg(frame_paddings.dim() == 2 && frame_paddings.size(0) == b && frame_paddings.size(1) == t,
          "frame_paddings: expected [", b, ",", t, "], got ", shape_str(frame_paddings.sizes()));
    patch_paddings = frame_paddings.to(video.scalar_type()).reshape({b * t, 1}).expand({b * t, patches.size(1)});
  }
  return encode_with_patches(patches, t, video.size(2), video.size(3), patch_paddings);
}

EncoderOutputs FactorizedEncoderImpl::encode_with_patches(const torch::Tensor& patches, int64_t t, int64_t h,
                                                          int64_t w, const torch::Tensor& patch_paddings) {
  const int64_t p = config_.patch_size;
  check(t > 0, "encode_with_patches: frames per clip T expected > 0, got ", t);
  check(patches.size(0) % t == 0, "encode_with_patches: ", patches.size(0), " frames is not a multiple of T=", t);
  const auto& pos = config_.pos_emb_shape;
  std::optional<profile::Region> region(std::in_place, "patch_embed");
  torch::Tensor x = patch_projection->forward(patches);  // [B*T, N, D]
  torch::Tensor spatial = resize_emb_2d(spatial_pos_emb->emb_var, pos[1], pos[2], h / p, w / p);
  x = x + cast_like(spatial, x);
  region.reset();
  return encode_tokens(x, t, patch_paddings);
}

EncoderOutputs FactorizedEncoderImpl::encode_kept_patches(const torch::Tensor& patches,
                                                          const torch::Tensor& keep_indices, int64_t t, int64_t h,
                                                          int64_t w, const torch::Tensor& patch_paddings) {
  const int64_t d = config_.model_dim, p = config_.patch_size;
  const int64_t bt = patches.size(0), k = patches.size(1);
  check(t > 0, "encode_kept_patches: frames per clip T expected > 0, got ", t);
  check(bt % t == 0, "encode_kept_patches: ", bt, " frames is not a multiple of T=", t);
  const int64_t b = bt / t;
  check(keep_indices.dim() == 2 && keep_indices.size(0) == b && keep_indices.size(1) == k,
        "encode_kept_patches: keep_indices expected [", b, ",", k, "], got ", shape_str(keep_indices.sizes()));
  const auto& pos = config_.pos_emb_shape;
  std::optional<profile::Region> region(std::in_place, "patch_embed");
  torch::Tensor x = patch_projection->forward(patches);  // [B*T, K, D]
  torch::Tensor spatial = resize_emb_2d(spatial_pos_emb->emb_var, pos[1], pos[2], h / p, w / p);  // [N, D]
  torch::Tensor kept = spatial.index_select(0, keep_indices.reshape({-1}).to(torch::kLong)).view({b, 1, k, d});
  kept = kept.expand({b, t, k, d}).reshape({bt, k, d});  // [B*T, K, D]
  x = x + cast_like(kept, x);
  region.reset();
  return encode_tokens(x, t, patch_paddings);
}

EncoderOutputs FactorizedEncoderImpl::encode_tube(const torch::Tensor& video, const torch::Tensor& keep_indices,
                                                  const torch::Tensor& frame_paddings) {
  check(keep_indices.dim() == 2, "encode_tube: keep_indices expected [B, K], got ", shape_str(keep_indices.sizes()));
  const int64_t b = video.size(0), t = video.size(1), h = video.size(2), w = video.size(3);
  const int64_t k = keep_indices.size(1);
  torch::Tensor patches = image_to_patch(video, config_.patch_size);  // [B*T, N, P*P*3]
  torch::Tensor keep = keep_indices.to(torch::kLong);                 // [B, K]
  torch::Tensor index = keep.view({b, 1, k, 1}).expand({b, t, k, patches.size(2)}).reshape({b * t, k, -1});
  torch::Tensor kept = patches.gather(1, index);  // [B*T, K, P*P*3]
  torch::Tensor patch_paddings;                   // [B*T, K]
  if (frame_paddings.defined())
    patch_paddings = frame_paddings.to(video.scalar_type()).reshape({b * t, 1}).expand({b * t, k});
  return encode_kept_patches(kept, keep, t, h, w, patch_paddings);
}

EncoderOutputs FactorizedEncoderImpl::encode_tokens(torch::Tensor x, int64_t t, const torch::Tensor& patch_paddings) {
  const int64_t d = config_.model_dim;
  const int64_t bt = x.size(0), n = x.size(1);
  check(t > 0 && bt % t == 0, "encode_tokens: ", bt, " frames is not a positive multiple of T=", t);
  const int64_t b = bt / t;
  {
    profile::Region region("spatial");
    x = spatial_encoder->forward(x, patch_paddings);  // [B*T, N, D]
  }
  {
    profile::Region region("spatial_ln", 0, pass_bytes(x, 1, 1));
    x = spatial_ln->forward(x);
  }
  torch::Tensor spatial_features = x;

  torch::Tensor temporal_paddings;
  {
    // (B*T, N, D) -> (B*N, T, D), plus the temporal position embedding
    profile::Region region("to_temporal", 0, pass_bytes(x, 1, 1));
    x = x.view({b, t, n, d}).permute({0, 2, 1, 3}).reshape({b * n, t, d});
    if (patch_paddings.defined()) {
      temporal_paddings = patch_paddings.reshape({b, t, n}).permute({0, 2, 1}).reshape({b * n, t});
    }
    torch::Tensor temporal = resize_emb_1d(temporal_pos_emb->emb_var, t);
    x = x + cast_like(temporal, x);
  }
  {
    profile::Region region("temporal");
    x = temporal_encoder->forward(x, temporal_paddings);  // [B*N, T, D]
  }
  {
    profile::Region region("temporal_ln", 0, pass_bytes(x, 1, 1));
    x = temporal_ln->forward(x);
  }

  EncoderOutputs out;
  profile::Region region("to_outputs", 0, pass_bytes(x, 1, 1));
  out.embeddings = x.view({b, n, t, d}).permute({0, 2, 1, 3}).reshape({b, t * n, d});
  out.spatial_features = spatial_features.view({b, t * n, d});
  return out;
}

}  // namespace videoprism
