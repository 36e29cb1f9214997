// Stage-2 pre-training: masked video modeling with global-local distillation
// from the frozen stage-1 model (VideoPrism section 3.2).
//
//   teacher (frozen FactorizedVideoCLIP, full clip): tokens [B, L, D] (vision
//       encoder output) and global [B, D] (auxiliary layers + MAP pooler)
//   student (FactorizedEncoder, init = teacher's vision encoder): visible tokens only
//   loss = w_token * mean_slots(1 - cos(token_pred, tokens))
//        + w_global * (1 - cos(global_pred, global))
//
//   videoprism train stage2 --teacher runs/s1 --data clips.jsonl --out runs/s2
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "videoprism/model.h"
#include "videoprism/train/data_loader.h"
#include "videoprism/train/lr_schedule.h"
#include "videoprism/train/masking.h"
#include "videoprism/train/optimizer.h"
#include "videoprism/train/stage2_decoders.h"

namespace videoprism::train {

// Every option of a stage-2 run; JSON keys are the field names (--config
// reads it, RUN_DIR/config.json records it).
struct Stage2Config {
  std::string teacher;            // stage-1 run directory or .npz (a FactorizedVideoCLIP)
  std::vector<std::string> data;  // manifests (captions ignored); batches alternate
  DataOptions data_options;

  MaskKind mask_kind = MaskKind::kTube;
  double mask_ratio = 0.65;
  int64_t block_min_area = 2;  // smallest BEVT block, in patches

  bool shuffle = true;        // per-sample permutation in the token decoder
  bool token_loss = true;     // local (token-wise) distillation
  bool global_loss = true;    // global distillation
  double token_weight = 1.0;
  double global_weight = 1.0;
  DecoderOptions decoder{4, 0, 0, 0};  // 4 blocks; width/MLP/heads auto (512/2048/8 when D >= 512)

  int64_t batch_size = 32;  // global clips per optimizer step
  int grad_accum = 1;
  int64_t steps = 1000;
  double lr = 5e-4;
  int64_t warmup_steps = 100;
  Decay decay = Decay::kCosine;
  double min_lr = 1e-5;  // absolute floor of the decay
  AdamWOptions adamw{0.9, 0.999, 1e-8, 0.05};
  double clip_grad_norm = 1.0;

  std::string dtype = "bf16";
  int threads = 0;
  uint64_t seed = 0;
  int64_t checkpoint_every = 1000;
  int keep_checkpoints = 2;
  int64_t stop_at = 0;
  bool plot = true;
  bool progress = true;

  void validate() const;
};

nlohmann::json to_json(const Stage2Config& config);
// Missing keys keep their defaults; unknown keys are an error naming the key.
Stage2Config stage2_config_from_json(const nlohmann::json& j, Stage2Config base = {});

// The bare-encoder config of a video-text model (the student's and the
// exported checkpoint's).
ModelConfig encoder_model_config(const ModelConfig& clip);

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
// clips (every rank draws the global mask and takes its rows).
Stage2Mask sample_stage2_mask(MaskKind kind, int64_t global_b, int64_t first, int64_t b, int64_t t, int64_t gh,
                              int64_t gw, double ratio, uint64_t seed, int64_t block_min_area = 2);

struct StudentOutputs {
  torch::Tensor by_slot;   // [B, L, D]: outputs at visible slots (masked slots 0 or don't-care)
  torch::Tensor compact;   // [B, S, D]: the tokens the global decoder sees
  torch::Tensor paddings;  // [B, S] 1 = masked (block masks), undefined for tube
};
// The student on the visible tokens only: tube masks physically drop the
// masked positions (spatial attention on [B*T, K], temporal on [B*K, T]);
// block masks run every token with the masked ones as attention paddings.
StudentOutputs encode_visible(Model& student, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const Stage2Mask& mask, torch::ScalarType dtype);

struct Stage2Losses {
  torch::Tensor total, token, global;  // scalars float32 (undefined branches: 0)
};
// perm: [B, L] or undefined (no shuffle).
Stage2Losses stage2_losses(Model& student, Stage2Decoders& decoders, const torch::Tensor& video,
                           const torch::Tensor& frame_paddings, const Stage2Mask& mask, const torch::Tensor& perm,
                           const TeacherTargets& targets, const Stage2Config& config, torch::ScalarType dtype);

struct Stage2Step {
  int64_t step = 0;
  double loss = 0.0, token_loss = 0.0, global_loss = 0.0;
  double lr = 0.0, grad_norm = 0.0, clips_per_s = 0.0;
  double distance = 0.0;  // ||student - teacher encoder|| / ||teacher encoder||
};

class Stage2Trainer {
 public:
  Stage2Trainer(Stage2Config config, std::string run_dir, bool resume);
  ~Stage2Trainer();
  std::vector<Stage2Step> run();

  Model& student();  // a bare FactorizedEncoder (released layout)
  Model& teacher();
  int64_t step() const;
  double teacher_distance() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace videoprism::train
