// Stage-1 model math, free of data loading, tokenization and video decoding:
// tube token dropping and the differentiable forward of one micro-batch of
// the video-text model (the contrastive loss is contrastive_loss.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "videoprism/core/model.h"

namespace videoprism::train {

// Tube token dropping: for each of b clips, the sorted indices of the
// round(n * (1 - drop)) spatial positions kept (at least 1), as int64 [b, K]
// on the CPU, from a generator seeded with `seed` (the draw of
// masking.h's sample_tube_keep).
torch::Tensor sample_tube_keep_indices(int64_t b, int64_t n, double drop, uint64_t seed);

// Token-drop seed of micro-batch `micro` of optimizer step `step`: stateless,
// so a resumed or distributed run draws the same masks.
uint64_t token_drop_seed(uint64_t seed, int64_t step, int micro);

struct Stage1Embeddings {
  torch::Tensor video;  // [B, D] L2-normalized, float32
  torch::Tensor text;   // [B, D] L2-normalized, float32
};

// The differentiable forward of one micro-batch: video [B,T,H,W,3] in [0,1],
// frame_paddings [B,T] or undefined, keep_indices [B,K] (undefined: all
// tokens), text ids [B,L] + paddings [B,L]; activations in `dtype`. Every
// tensor on the model's device.
Stage1Embeddings stage1_embed(Model& model, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const torch::Tensor& keep_indices, const torch::Tensor& text_ids,
                              const torch::Tensor& text_paddings, torch::ScalarType dtype);

}  // namespace videoprism::train
