// Training-step throughput at real shapes, with no files: the optimizer step
// the trainers run, on random weights and a fixed random batch (fresh masks
// every step, drawn on the CPU as in training). `videoprism bench --train`
// times it.
//
//   stage1: stage1_embed on the tube-dropped video + the text tower,
//           contrastive_loss (learnable logit scale), backward,
//           clip_grad_norm, AdamW, logit-scale clamp
//   stage2: teacher_targets (frozen, no grad) + stage2_losses (student on the
//           visible tokens, token and global decoders), backward,
//           clip_grad_norm, AdamW
//
// Recipe settings (token drop, masking, decoder sizes, AdamW, clipping, peak
// lr) are Stage1Config's / Stage2Config's defaults. Each step copies the
// float32 video from (pinned) host memory to the device as the trainers do;
// data loading, decoding and tokenization are left out.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "videoprism/core/config.h"

namespace videoprism::train {

struct TrainBenchOptions {
  std::string stage = "stage1";  // stage1 | stage2
  // stage1: the FactorizedVideoCLIP trained; stage2: the frozen teacher (a
  // FactorizedVideoCLIP) whose vision encoder is the student's config.
  ModelConfig model;
  int64_t batch = 16;        // clips per step
  int64_t frames = 16;       // T
  int64_t size = 288;        // H = W
  int64_t text_length = 64;  // stage 1: ids per caption; lengths U[1, text_length], the rest padding
  torch::ScalarType dtype = torch::kBFloat16;  // activations; parameters and AdamW state float32
  torch::Device device = torch::kCPU;
  uint64_t seed = 0;
};

struct TrainBenchStep {
  double loss = 0.0;       // the step's loss (read back: the step is finished on the device)
  double grad_norm = 0.0;  // global gradient norm before clipping
};

class TrainBench {
 public:
  // Builds the models (random init on the CPU, then moved), optimizer and batch.
  explicit TrainBench(const TrainBenchOptions& options);
  ~TrainBench();

  // One optimizer step.
  TrainBenchStep step();

  // Estimated training FLOPs per clip (train_flops.h) and how they are counted.
  double train_flops_per_clip() const;
  std::string flops_formula() const;
  // The recipe settings in use (token drop or mask, decoder sizes, AdamW, ...).
  nlohmann::json recipe() const;
  int64_t trained_params() const;
  int64_t frozen_params() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace videoprism::train
