// Stage-2 model math, free of data loading and video decoding: the frozen
// teacher's targets, the masks, the student on the visible tokens and the
// global-local distillation losses (VideoPrism section 3.2).
//
//   teacher (frozen FactorizedVideoCLIP, full clip): tokens [B, L, D] (vision
//       encoder output) and global [B, D] (auxiliary layers + MAP pooler)
//   student (FactorizedEncoder, init = teacher's vision encoder): visible tokens only
//   loss = w_token * mean_slots(1 - cos(token_pred, tokens))
//        + w_global * (1 - cos(global_pred, global))
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "videoprism/core/config.h"
#include "videoprism/core/model.h"
#include "train_step/masking.h"
#include "train_step/stage2_decoders.h"

namespace videoprism::train {


// A stage-2 student: a bare encoder (encoder_model_config of the teacher's
// config) on `device`, initialized as a copy of the teacher's vision encoder.
// `pairs` holds its (student, teacher) parameter pairs, for the distance from
// the teacher.
struct Stage2Student {
  std::unique_ptr<Model> model;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
};
Stage2Student make_stage2_student(Model& teacher, const torch::Device& device);

// The decoders of a stage-2 run, drawn from `seed` on the CPU (the same
// weights on every device), then moved to `device`. `options` resolved
// (resolve_decoder_options); `length` = T*N token slots.
Stage2Decoders make_stage2_decoders(const DecoderOptions& options, int64_t model_dim, int64_t length, bool token_loss,
                                    bool global_loss, uint64_t seed, const torch::Device& device);

struct TeacherTargets {
  torch::Tensor tokens;  // [B, L, D] vision encoder output, float32
  torch::Tensor global;  // [B, D] pooler output (unnormalized), float32
};
// The frozen teacher on the full clip (no gradient).
TeacherTargets teacher_targets(Model& teacher, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                               torch::ScalarType dtype);

struct Stage2Mask {
  MaskKind kind = MaskKind::kTube;
  torch::Tensor keep;        // tube: [B, K] kept spatial positions
  torch::Tensor token_mask;  // [B, L] float32, 1 = masked
};
// The mask of clips [first, first+b) of a global micro-batch of `global_b`
// clips (every rank draws the global mask and takes its rows). On the CPU.
Stage2Mask sample_stage2_mask(MaskKind kind, int64_t global_b, int64_t first, int64_t b, int64_t t, int64_t gh,
                              int64_t gw, double ratio, uint64_t seed, int64_t block_min_area = 2);
// The mask's tensors on `device`.
Stage2Mask mask_to_device(const Stage2Mask& mask, const torch::Device& device);

struct StudentOutputs {
  torch::Tensor by_slot;   // [B, L, D]: outputs at visible slots (masked slots 0 or don't-care)
  torch::Tensor compact;   // [B, S, D]: the tokens the global decoder sees
  torch::Tensor paddings;  // [B, S] 1 = masked (block masks), undefined for tube
};
// The student on the visible tokens only: tube masks physically drop the
// masked positions (spatial attention on [B*T, K], temporal on [B*K, T]);
// block masks run every token with the masked ones as attention paddings.
// video, paddings and mask on the student's device.
StudentOutputs encode_visible(Model& student, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const Stage2Mask& mask, torch::ScalarType dtype);


struct Stage2Losses {
  torch::Tensor total, token, global;  // scalars float32 (undefined branches: 0)
};
// perm: [B, L] or undefined (no shuffle).
Stage2Losses stage2_losses(Model& student, Stage2Decoders& decoders, const torch::Tensor& video,
                           const torch::Tensor& frame_paddings, const Stage2Mask& mask, const torch::Tensor& perm,
                           const TeacherTargets& targets, const Stage2LossOptions& options, torch::ScalarType dtype);

}  // namespace videoprism::train
