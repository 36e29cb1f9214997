// FactorizedEncoder (ViViT model 2 without pooling between the encoders):
// patchify -> patch_projection -> + spatial_pos_emb -> spatial_encoder ->
// spatial_ln -> regroup per position -> + temporal_pos_emb ->
// temporal_encoder -> temporal_ln -> [B, T*N, D] with token index t*N + n.
#pragma once

#include <torch/torch.h>

#include "encoders/vision_transformer.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "videoprism/core/config.h"

namespace videoprism {

// Holds `emb_var` under the official name (TrainablePositionalEmbedding).
class TrainablePositionalEmbeddingImpl : public torch::nn::Module {
 public:
  TrainablePositionalEmbeddingImpl(int64_t length, int64_t dim);
  torch::Tensor emb_var;  // [length, D]
};
TORCH_MODULE(TrainablePositionalEmbedding);

// [B, T, H, W, C] -> [B*T, (H/P)*(W/P), P*P*C], feature index (py*P + px)*C + c.
torch::Tensor image_to_patch(const torch::Tensor& video, int64_t patch_size);

struct EncoderOutputs {
  torch::Tensor embeddings;        // [B, T*N, D]
  torch::Tensor spatial_features;  // [B, T*N, D]
};

class FactorizedEncoderImpl : public torch::nn::Module {
 public:
  explicit FactorizedEncoderImpl(const EncoderConfig& config);
  // video: [B, T, H, W, 3] in [0, 1] (H, W multiples of the patch size);
  // frame_paddings: [B, T] (1 = padded frame) or undefined.
  EncoderOutputs forward(const torch::Tensor& video, const torch::Tensor& frame_paddings = {});

  // Encodes patches of shape [B*T, N, P*P*3] from a (T, H, W) video. patch_paddings
  // [B*T, N] or undefined. Stage-2 training calls this with dropped tokens.
  EncoderOutputs encode_with_patches(const torch::Tensor& patches, int64_t t, int64_t h, int64_t w,
                                     const torch::Tensor& patch_paddings = {});

  // Tube token dropping (stage-1 training): only the kept spatial positions of
  // every frame. patches [B*T, K, P*P*3] hold, for frame t of clip b, the
  // patches at grid positions keep_indices[b] ([B, K] int64, row-major over the
  // (H/P) x (W/P) grid of a (T, H, W) video); the same positions in every frame
  // of a clip. The spatial position embedding (resized to the full grid) is
  // gathered at those positions. patch_paddings [B*T, K] or undefined.
  // Output token index t*K + k.
  EncoderOutputs encode_kept_patches(const torch::Tensor& patches, const torch::Tensor& keep_indices, int64_t t,
                                     int64_t h, int64_t w, const torch::Tensor& patch_paddings = {});

  // Tube token dropping from a whole clip (stage-1 and stage-2 training):
  // patchifies video [B, T, H, W, 3], keeps the positions keep_indices [B, K]
  // (int64) of every frame and encodes them (encode_kept_patches). A padded
  // frame (frame_paddings [B, T], or undefined) pads all its kept tokens.
  // Output [B, T*K, D], token index t*K + k.
  EncoderOutputs encode_tube(const torch::Tensor& video, const torch::Tensor& keep_indices,
                             const torch::Tensor& frame_paddings = {});

  const EncoderConfig& config() const { return config_; }

  FeedForward patch_projection{nullptr};
  TrainablePositionalEmbedding spatial_pos_emb{nullptr}, temporal_pos_emb{nullptr};
  VisionTransformer spatial_encoder{nullptr}, temporal_encoder{nullptr};
  LayerNorm spatial_ln{nullptr}, temporal_ln{nullptr};

 private:
  // Spatial and temporal stacks on projected tokens x [B*T, N, D] (position
  // embedding added).
  EncoderOutputs encode_tokens(torch::Tensor x, int64_t t, const torch::Tensor& patch_paddings);

  EncoderConfig config_;
};
TORCH_MODULE(FactorizedEncoder);

}  // namespace videoprism
