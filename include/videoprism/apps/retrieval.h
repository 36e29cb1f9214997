// Zero-shot evaluation of a video-text model (training-recipe.md): text-video
// retrieval (cosine similarity of L2-normalized embeddings, no re-ranking) and
// zero-shot classification accuracy.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace videoprism::eval {

struct RetrievalMetrics {
  double recall_at_1 = 0, recall_at_5 = 0, recall_at_10 = 0;
  double median_rank = 0;  // 1-based rank of the true item
  double mean_rank = 0;
  int64_t queries = 0, gallery = 0;
  // Chance levels of a random ranking: R@k = k / gallery, median rank (gallery + 1) / 2.
  double chance_at_1 = 0, chance_at_5 = 0, chance_at_10 = 0, chance_median_rank = 0;
};

// similarity [Q, G]: query i's true item is gallery item i (Q <= G). The rank
// counts gallery items scoring strictly higher, plus one (ties favor the truth).
RetrievalMetrics retrieval_metrics(const torch::Tensor& similarity);

// Both directions from L2-normalized embeddings text [N, D], video [N, D]
// (row i of each is the same pair).
struct RetrievalResult {
  RetrievalMetrics text_to_video, video_to_text;
};
RetrievalResult evaluate_retrieval(const torch::Tensor& text_embeddings, const torch::Tensor& video_embeddings);

// Top-1 accuracy of argmax(video [N, D] . classes [C, D]^T) against labels [N].
double zero_shot_accuracy(const torch::Tensor& video_embeddings, const torch::Tensor& class_embeddings,
                          const torch::Tensor& labels);

}  // namespace videoprism::eval
