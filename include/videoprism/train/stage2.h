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

#include "videoprism/core/model.h"
#include "videoprism/train/data_options.h"
#include "videoprism/train_step/recipe.h"

namespace videoprism::train {

// Every option of a stage-2 run; JSON keys are the field names (--config
// reads it, RUN_DIR/config.json records it).
struct Stage2Config : Stage2Recipe {
  std::string teacher;            // stage-1 run directory or .npz (a FactorizedVideoCLIP)
  std::vector<std::string> data;  // manifests (captions ignored); batches alternate
  DataOptions data_options;

  int64_t batch_size = 32;  // global clips per optimizer step
  int grad_accum = 1;

  std::string dtype = "bf16";
  // Where the student, teacher, decoders and AdamW state live and batches go:
  // "cpu", "cuda" or "cuda:N" (see device.h). Masks are drawn on the CPU.
  std::string device = "cpu";
  int threads = 0;
  int64_t checkpoint_every = 1000;
  int keep_checkpoints = 2;
  int64_t stop_at = 0;
  bool plot = true;

  void validate() const;
};

nlohmann::json to_json(const Stage2Config& config);
// Missing keys keep their defaults; unknown keys are an error naming the key.
Stage2Config stage2_config_from_json(const nlohmann::json& j, Stage2Config base = {});

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
