#include "train_step/contrastive_loss.h"

#include "videoprism/core/error.h"

namespace videoprism::train {

torch::Tensor contrastive_loss(const torch::Tensor& video, const torch::Tensor& text,
                               const torch::Tensor& log_logit_scale) {
  check(video.dim() == 2 && video.sizes() == text.sizes(), "contrastive_loss: expected video and text [N,D], got ",
        shape_str(video.sizes()), " and ", shape_str(text.sizes()));
  const int64_t n = video.size(0);
  torch::Tensor scale = log_logit_scale.to(torch::kFloat32).exp();
  torch::Tensor logits = scale * torch::matmul(video.to(torch::kFloat32), text.to(torch::kFloat32).t());  // [N, N]
  torch::Tensor labels = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(video.device()));
  torch::Tensor video_to_text = torch::nn::functional::cross_entropy(logits, labels);
  torch::Tensor text_to_video = torch::nn::functional::cross_entropy(logits.t(), labels);
  return 0.5 * (video_to_text + text_to_video);
}

double text_to_video_recall_at_1(const torch::Tensor& video, const torch::Tensor& text) {
  torch::NoGradGuard no_grad;
  torch::Tensor similarity = torch::matmul(text.to(torch::kFloat32), video.to(torch::kFloat32).t());  // [N, N]
  torch::Tensor best = similarity.argmax(1);
  torch::Tensor hits = best.eq(torch::arange(text.size(0), best.options()));
  return hits.to(torch::kFloat64).mean().item<double>();
}

}  // namespace videoprism::train
