// Stage-1 forward: tube token dropping and the video-text embeddings of one
// micro-batch. Model math only (no data loader, tokenizer or video decoding).
#include "train_step/stage1_forward.h"
#include "train_step/splitmix.h"

#include "models/model_modules.h"
#include "videoprism/core/error.h"
#include "train_step/masking.h"

namespace videoprism::train {
namespace {

uint64_t mix(uint64_t x) { return splitmix64(x); }

}  // namespace

uint64_t token_drop_seed(uint64_t seed, int64_t step, int micro) {
  return mix(mix(seed ^ 0x70de) ^ mix(uint64_t(step) * 1315423911ULL + uint64_t(micro)));
}

torch::Tensor sample_tube_keep_indices(int64_t b, int64_t n, double drop, uint64_t seed) {
  return sample_tube_keep(b, n, drop, seed);  // [B, K]
}

Stage1Embeddings stage1_embed(Model& model, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const torch::Tensor& keep_indices, const torch::Tensor& text_ids,
                              const torch::Tensor& text_paddings, torch::ScalarType dtype) {
  FactorizedVideoCLIPImpl& clip = video_clip_module(model, "stage1");
  torch::Tensor input = video.to(dtype);
  torch::Tensor video_embeddings;  // [B, D]
  if (!keep_indices.defined()) {
    video_embeddings = clip.encode_video(input, frame_paddings).video_embeddings;
  } else {
    torch::Tensor tokens = clip.vision_encoder->encode_tube(input, keep_indices, frame_paddings).embeddings;  // [B, T*K, D]
    video_embeddings = l2_normalize(clip.pool_tokens(tokens));
  }
  torch::Tensor text_embeddings = clip.encode_text(text_ids, text_paddings.to(dtype)).text_embeddings;
  return {video_embeddings.to(torch::kFloat32), text_embeddings.to(torch::kFloat32)};
}

}  // namespace videoprism::train
