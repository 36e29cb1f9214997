// Stage-1 objective: symmetric InfoNCE over the batch similarity matrix with
// a learnable logit scale (CLIP convention: scale = exp(log_scale), initial
// 1/0.07, clamped at 100 after every optimizer step).
#pragma once

#include <torch/torch.h>

namespace videoprism::train {

// video, text: [N, D] L2-normalized embeddings of N matching pairs (row i of
// each is a pair); log_logit_scale: scalar. Returns the scalar loss
//   0.5 * (CE(s * V T^T, I) + CE(s * T V^T, I)),  s = exp(log_logit_scale),
// computed in float32 whatever the inputs' dtype.
torch::Tensor contrastive_loss(const torch::Tensor& video, const torch::Tensor& text,
                               const torch::Tensor& log_logit_scale);

// Recall@1 of text-to-video retrieval: fraction of rows i of `text` [N, D]
// whose most similar row of `video` [N, D] is row i.
double text_to_video_recall_at_1(const torch::Tensor& video, const torch::Tensor& text);

}  // namespace videoprism::train
