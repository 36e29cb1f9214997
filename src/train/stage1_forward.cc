// Stage-1 forward: tube token dropping and the video-text embeddings of one
// micro-batch. Model math only (no data loader, tokenizer or video decoding).
#include "videoprism/train/stage1_forward.h"
#include "train/splitmix.h"

#include "encoders/factorized_encoder.h"
#include "models/video_clip.h"
#include "videoprism/error.h"
#include "videoprism/train/masking.h"

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
  auto clip = std::dynamic_pointer_cast<FactorizedVideoCLIPImpl>(model.module_ptr());
  check(clip != nullptr, "stage1: the model must be a FactorizedVideoCLIP");
  torch::Tensor input = video.to(dtype);
  torch::Tensor video_embeddings;
  if (!keep_indices.defined()) {
    video_embeddings = clip->encode_video(input, frame_paddings).video_embeddings;
  } else {
    const int64_t b = video.size(0), t = video.size(1), h = video.size(2), w = video.size(3);
    const int64_t k = keep_indices.size(1);
    torch::Tensor patches = image_to_patch(input, model.config().encoder.patch_size);  // [B*T, N, P*P*3]
    torch::Tensor index = keep_indices.to(torch::kLong).view({b, 1, k, 1}).expand({b, t, k, patches.size(2)});
    torch::Tensor kept = patches.gather(1, index.reshape({b * t, k, patches.size(2)}));  // [B*T, K, P*P*3]
    torch::Tensor patch_paddings;
    if (frame_paddings.defined()) patch_paddings = frame_paddings.to(dtype).reshape({b * t, 1}).expand({b * t, k});
    EncoderOutputs encoded = clip->vision_encoder->encode_kept_patches(kept, keep_indices, t, h, w, patch_paddings);
    torch::Tensor features = encoded.embeddings;  // [B, T*K, D]
    if (clip->auxiliary_encoder) features = clip->auxiliary_encoder->forward(features);
    video_embeddings = l2_normalize(clip->contrastive_vision_pooler->forward(features).squeeze(1));  // [B, D]
  }
  torch::Tensor text_embeddings = clip->encode_text(text_ids, text_paddings.to(dtype)).text_embeddings;
  return {video_embeddings.to(torch::kFloat32), text_embeddings.to(torch::kFloat32)};
}

}  // namespace videoprism::train
