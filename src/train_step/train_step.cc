#include "train_step/train_step.h"

#include "videoprism/core/profile.h"
#include "train_step/contrastive_loss.h"
#include "videoprism/train_step/device.h"
#include "train_step/masking.h"
#include "train_step/stage1_forward.h"
#include "train_step/stage2_forward.h"

namespace videoprism::train {
namespace {

constexpr uint64_t kMaskPurpose = 1, kShufflePurpose = 2;  // stateless_seed purposes of stage 2

}  // namespace

torch::Tensor stage1_keep_indices(const Stage1Recipe& recipe, const MicroBatchRows& rows, int64_t positions,
                                  int64_t step, int micro, const torch::Device& device) {
  if (recipe.token_drop <= 0) return {};
  return to_device(sample_tube_keep_indices(rows.global, positions, recipe.token_drop,
                                            token_drop_seed(recipe.seed, step, micro))
                       .narrow(0, rows.first, rows.local),
                   device);  // [local, K]
}

torch::Tensor stage1_micro_loss(Model& model, const torch::Tensor& log_scale, Collectives& dist,
                                const torch::Tensor& video, const torch::Tensor& frame_paddings,
                                const torch::Tensor& keep, const torch::Tensor& text_ids,
                                const torch::Tensor& text_paddings, torch::ScalarType dtype) {
  profile::Region region("forward");
  Stage1Embeddings emb = stage1_embed(model, video, frame_paddings, keep, text_ids, text_paddings, dtype);
  torch::Tensor video_all = dist.all_gather_with_local_grad(emb.video);  // [G/A, D]
  torch::Tensor text_all = dist.all_gather_with_local_grad(emb.text);    // [G/A, D]
  return contrastive_loss(video_all, text_all, log_scale);
}

Stage2Losses stage2_micro_losses(const Stage2Recipe& recipe, Model& teacher, Model& student, Stage2Decoders& decoders,
                                 const torch::Tensor& video, const torch::Tensor& frame_paddings,
                                 const MicroBatchRows& rows, int64_t step, int micro, torch::ScalarType dtype) {
  const int64_t t = video.size(1), p = student.config().encoder.patch_size;
  const int64_t gh = video.size(2) / p, gw = video.size(3) / p;
  const torch::Device device = video.device();
  Stage2Mask mask = sample_stage2_mask(recipe.mask_kind, rows.global, rows.first, rows.local, t, gh, gw,
                                       recipe.mask_ratio, stateless_seed(recipe.seed, step, micro, kMaskPurpose),
                                       recipe.block_min_area);
  mask = mask_to_device(mask, device);  // drawn on the CPU: the same masks on every device
  torch::Tensor perm;                   // [local, T*N]
  if (recipe.shuffle && recipe.token_loss) {
    perm = sample_permutations(rows.global, t * gh * gw, stateless_seed(recipe.seed, step, micro, kShufflePurpose))
               .narrow(0, rows.first, rows.local);
    perm = to_device(perm, device);
  }
  TeacherTargets targets;
  {
    profile::Region region("teacher");
    targets = teacher_targets(teacher, video, frame_paddings, dtype);
  }
  profile::Region region("forward");
  return stage2_losses(student, decoders, video, frame_paddings, mask, perm, targets, recipe.loss_options(), dtype);
}

void reduce_gradients(AdamW& optimizer, Collectives& dist, bool mean) {
  std::vector<torch::Tensor> grads;
  for (auto& param : optimizer.params()) {
    if (!param.tensor.grad().defined()) param.tensor.mutable_grad() = torch::zeros_like(param.tensor);
    grads.push_back(param.tensor.grad());
  }
  dist.all_reduce_sum(grads);
  if (mean && dist.world() > 1)
    for (auto& g : grads) g.div_(dist.world());
}

double clip_and_step(AdamW& optimizer, double clip_norm, double lr) {
  double norm = 0;
  {
    profile::Region region("clip_grad_norm");
    norm = clip_grad_norm(optimizer.params(), clip_norm);
  }
  profile::Region region("optimizer");
  optimizer.step(lr);
  return norm;
}

}  // namespace videoprism::train
