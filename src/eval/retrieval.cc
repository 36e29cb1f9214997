// Retrieval metrics and zero-shot accuracy. See include/videoprism/eval/retrieval.h.
#include "videoprism/apps/retrieval.h"

#include <algorithm>

#include <torch/torch.h>

#include "videoprism/core/error.h"

namespace videoprism::eval {

RetrievalMetrics retrieval_metrics(const torch::Tensor& similarity) {
  check(similarity.dim() == 2 && similarity.size(0) <= similarity.size(1) && similarity.size(0) > 0,
        "retrieval: similarity must be [Q, G] with 0 < Q <= G, got ", similarity.sizes());
  const torch::Tensor s = similarity.to(torch::kFloat64);
  const int64_t Q = s.size(0), G = s.size(1);
  const torch::Tensor truth = s.diagonal().unsqueeze(1);               // [Q, 1]
  const torch::Tensor rank = s.gt(truth).sum(1).to(torch::kFloat64) + 1;  // [Q], 1-based
  RetrievalMetrics m;
  m.queries = Q;
  m.gallery = G;
  m.recall_at_1 = rank.le(1).to(torch::kFloat64).mean().item<double>();
  m.recall_at_5 = rank.le(5).to(torch::kFloat64).mean().item<double>();
  m.recall_at_10 = rank.le(10).to(torch::kFloat64).mean().item<double>();
  // Median as the mean of the two middle ranks for an even count.
  std::vector<double> ranks(rank.data_ptr<double>(), rank.data_ptr<double>() + Q);
  std::sort(ranks.begin(), ranks.end());
  m.median_rank = Q % 2 ? ranks[Q / 2] : 0.5 * (ranks[Q / 2 - 1] + ranks[Q / 2]);
  m.mean_rank = rank.mean().item<double>();
  m.chance_at_1 = std::min(1.0, 1.0 / G);
  m.chance_at_5 = std::min(1.0, 5.0 / G);
  m.chance_at_10 = std::min(1.0, 10.0 / G);
  m.chance_median_rank = (G + 1) / 2.0;
  return m;
}

RetrievalResult evaluate_retrieval(const torch::Tensor& text_embeddings, const torch::Tensor& video_embeddings) {
  check(text_embeddings.dim() == 2 && text_embeddings.sizes() == video_embeddings.sizes(),
        "retrieval: expected text and video embeddings of the same [N, D], got ", text_embeddings.sizes(), " and ",
        video_embeddings.sizes());
  const torch::Tensor t = torch::nn::functional::normalize(text_embeddings.to(torch::kFloat32),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const torch::Tensor v = torch::nn::functional::normalize(video_embeddings.to(torch::kFloat32),
                                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
  const torch::Tensor similarity = t.matmul(v.t());  // [N texts, N videos]
  return {retrieval_metrics(similarity), retrieval_metrics(similarity.t())};
}

double zero_shot_accuracy(const torch::Tensor& video_embeddings, const torch::Tensor& class_embeddings,
                          const torch::Tensor& labels) {
  check(video_embeddings.dim() == 2 && class_embeddings.dim() == 2 &&
            video_embeddings.size(1) == class_embeddings.size(1) && labels.size(0) == video_embeddings.size(0),
        "zero-shot: expected video [N, D], classes [C, D], labels [N]");
  const torch::Tensor predicted = video_embeddings.to(torch::kFloat32).matmul(class_embeddings.to(torch::kFloat32).t()).argmax(1);
  return predicted.eq(labels.to(torch::kInt64)).to(torch::kFloat64).mean().item<double>();
}

}  // namespace videoprism::eval
