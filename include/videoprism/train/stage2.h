// Stage-2 pre-training: masked video modeling with global-local distillation
// from the frozen stage-1 model (VideoPrism section 3.2). The model math is
// stage2_forward.h; this file is the run's config and trainer.
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
#include "videoprism/train/stage2_forward.h"

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
  // Where the student, teacher, decoders and AdamW state live and batches go:
  // "cpu", "cuda" or "cuda:N" (see device.h). Masks are drawn on the CPU.
  std::string device = "cpu";
  int threads = 0;
  uint64_t seed = 0;
  int64_t checkpoint_every = 1000;
  int keep_checkpoints = 2;
  int64_t stop_at = 0;
  bool plot = true;

  void validate() const;
  Stage2LossOptions loss_options() const { return {token_loss, global_loss, token_weight, global_weight}; }
};

nlohmann::json to_json(const Stage2Config& config);
// Missing keys keep their defaults; unknown keys are an error naming the key.
Stage2Config stage2_config_from_json(const nlohmann::json& j, Stage2Config base = {});

// The losses a config asks for (stage2_forward.h takes Stage2LossOptions so
// that it needs none of this file's data-loader types).
inline Stage2Losses stage2_losses(Model& student, Stage2Decoders& decoders, const torch::Tensor& video,
                                  const torch::Tensor& frame_paddings, const Stage2Mask& mask,
                                  const torch::Tensor& perm, const TeacherTargets& targets,
                                  const Stage2Config& config, torch::ScalarType dtype) {
  return stage2_losses(student, decoders, video, frame_paddings, mask, perm, targets, config.loss_options(), dtype);
}

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
