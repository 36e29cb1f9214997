// Stage-1 pre-training: video-text contrastive learning of the LvT model
// (FactorizedVideoCLIP) with tube token dropping, AdamW, bf16 activations,
// several alternating datasets, atomic checkpoints with exact resume, and
// data parallelism over processes.
//
//   videoprism train stage1 --data a.jsonl,b.jsonl --out runs/s1 --config train.json
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "videoprism/core/config.h"
#include "videoprism/core/model.h"
#include "videoprism/train/data_options.h"
#include "videoprism/train_step/recipe.h"

namespace videoprism::train {

// Every option of a stage-1 run: the step's recipe (steps, schedule,
// optimizer, token drop, temperature, seed) and the run's model, data,
// device and checkpoints. The JSON form (keys as the field names) is what
// --config reads and what RUN_DIR/config.json records.
struct Stage1Config : Stage1Recipe {
  // Model: a preset name (e.g. "videoprism_lvt_public_v1_base") or, when
  // model_preset is empty, model_config. Must be a FactorizedVideoCLIP.
  std::string model_preset;
  ModelConfig model_config;
  std::string init;        // checkpoint to start from; empty: random init (seed)
  // LiT-style alignment (`train align`): a bare FactorizedEncoder checkpoint
  // (e.g. the stage-2 student) replacing the vision encoder after `init`, and
  // whether the vision encoder is frozen (only the text tower, auxiliary
  // layers and pooler train).
  std::string vision_encoder_init;
  bool freeze_vision_encoder = false;
  std::string tokenizer;   // SentencePiece .model (vocab <= model vocabulary_size)
  int max_text_length = 64;

  std::vector<std::string> data;  // manifests; batches alternate between them
  DataOptions data_options;       // frames, size, jitter, flip, workers, prefetch

  int64_t batch_size = 32;     // global clips per optimizer step (all ranks)
  int grad_accum = 1;          // micro-batches per step (negatives stay within a micro-batch)

  std::string dtype = "bf16";  // activations: bf16 or f32; parameters stay float32
  // Where the model, logit scale and AdamW state live and batches go: "cpu",
  // "cuda" or "cuda:N" (see device.h). Random draws stay on the CPU.
  std::string device = "cpu";
  int threads = 0;             // intra-op threads, 0: the process's setting

  int64_t checkpoint_every = 1000;
  int keep_checkpoints = 2;
  int64_t stop_at = 0;         // > 0: stop (with a checkpoint) after this step, as if interrupted
  bool plot = true;            // loss.png through gnuplot at each checkpoint and the end

  // The model config the run uses (preset resolved).
  ModelConfig resolved_model() const;
  void validate() const;
};

nlohmann::json to_json(const Stage1Config& config);
// Missing keys keep their defaults; unknown keys are an error naming the key.
Stage1Config stage1_config_from_json(const nlohmann::json& j, Stage1Config base = {});

struct Stage1Step {
  int64_t step = 0;  // 1-based optimizer step just done
  double loss = 0.0;
  double temperature = 0.0;
  double lr = 0.0;
  double grad_norm = 0.0;
  double clips_per_s = 0.0;
};

class Stage1Trainer {
 public:
  // Builds (or, with resume, restores from RUN_DIR's latest checkpoint) the
  // model, optimizer and data; records the config in RUN_DIR/config.json.
  // Distributed rendezvous from the environment (see distributed.h).
  Stage1Trainer(Stage1Config config, std::string run_dir, bool resume);
  ~Stage1Trainer();

  // Trains until config.steps (or stop_at); returns the steps done in this call.
  std::vector<Stage1Step> run();

  Model& model();
  int64_t step() const;
  double logit_scale() const;
  int64_t skipped_items() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace videoprism::train
