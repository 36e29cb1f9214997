// The parts of an optimizer step that the trainers (stage1.cc, stage2.cc) and
// `bench --train` (train_bench.cc) share, so the benchmark times exactly the
// trainers' step: the random draws of a micro-batch, its loss, and the update
// (gradients reduced over ranks, clipped, AdamW).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "train_step/collectives.h"
#include "train_step/optimizer.h"
#include "train_step/stage2_decoders.h"
#include "train_step/stage2_forward.h"
#include "videoprism/core/model.h"
#include "videoprism/train_step/recipe.h"

namespace videoprism::train {

// Which rows of a global micro-batch this rank holds: [first, first + local)
// of `global` clips.
struct MicroBatchRows {
  int64_t global = 0, first = 0, local = 0;
};

// Stage 1: the tube keep indices of micro-batch `micro` of step `step`, this
// rank's rows, on `device`; undefined when recipe.token_drop is 0. Drawn on
// the CPU: the same masks on every device. [local, K]
torch::Tensor stage1_keep_indices(const Stage1Recipe& recipe, const MicroBatchRows& rows, int64_t positions,
                                  int64_t step, int micro, const torch::Device& device);

// Stage 1: the contrastive loss of one micro-batch (features gathered over
// ranks with the gradient through this rank's own). Every tensor on the
// model's device.
torch::Tensor stage1_micro_loss(Model& model, const torch::Tensor& log_scale, Collectives& dist,
                                const torch::Tensor& video, const torch::Tensor& frame_paddings,
                                const torch::Tensor& keep, const torch::Tensor& text_ids,
                                const torch::Tensor& text_paddings, torch::ScalarType dtype);

// Stage 2: one micro-batch's masks and permutations (this rank's rows, drawn
// on the CPU, moved to `device`), the frozen teacher's targets and the
// losses. Profile regions "teacher" and "forward".
Stage2Losses stage2_micro_losses(const Stage2Recipe& recipe, Model& teacher, Model& student, Stage2Decoders& decoders,
                                 const torch::Tensor& video, const torch::Tensor& frame_paddings,
                                 const MicroBatchRows& rows, int64_t step, int micro, torch::ScalarType dtype);

// After every micro-batch's backward: each trained array's gradient (zeros
// where no micro-batch reached it) summed over ranks, divided by the world
// size when `mean`.
void reduce_gradients(AdamW& optimizer, Collectives& dist, bool mean);

// Clipping (clip_norm <= 0: none) and the AdamW step at `lr`, profile regions
// "clip_grad_norm" and "optimizer". Returns the norm before clipping.
double clip_and_step(AdamW& optimizer, double clip_norm, double lr);

}  // namespace videoprism::train
