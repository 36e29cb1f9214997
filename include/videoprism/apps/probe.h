// Frozen-backbone probes (training-recipe.md, "Frozen-backbone evaluation"):
//   map:    VideoGLUE's multi-head attention pooling probe: LayerNorm over the
//           tokens, one learned query cross-attending to them
//           (AttenTokenPoolingLayer, which ends in its own LayerNorm), dropout
//           0.5, a linear classifier;
//   linear: a linear classifier on the mean-pooled tokens, standardized with
//           the training set's statistics.
// AdamW (betas 0.9/0.999, weight decay 1e-5), label smoothing 0.1, cosine
// schedule with linear warm-up. The backbone's features are computed once
// (eval/features.h) and the probe is trained on them for each seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace videoprism::eval {

enum class ProbeKind { kMap, kLinear };
ProbeKind parse_probe_kind(const std::string& name);  // map|linear

struct ProbeOptions {
  ProbeKind kind = ProbeKind::kMap;
  int num_classes = 0;        // 0: 1 + the largest training label
  int num_heads = 4;          // MAP heads (must divide D)
  double lr = 1e-3;           // VideoGLUE uses 1e-4 at batch 256 on large sets; tiny
                              // models and small sets need a larger step (the CLI's
                              // default: 1e-3 map, 1e-2 linear)
  double weight_decay = 1e-5;
  double label_smoothing = 0.1;
  double warmup_fraction = 0.05;
  double dropout = 0.5;       // MAP only
  int epochs = 30;
  int batch = 32;
  std::vector<uint64_t> seeds = {0, 1, 2};
};

struct ProbeResult {
  std::vector<double> test_accuracy;   // one per seed
  std::vector<double> train_accuracy;  // one per seed (after training, eval mode)
  double mean = 0, std = 0;            // over seeds; std is the sample deviation (0 for one seed)
  double chance = 0;                   // accuracy of always predicting the test set's most frequent class
  int num_classes = 0;
  int64_t steps = 0;                   // optimizer steps per seed
};

// Trains one probe per seed on train features [N, L, D] with labels [N]
// (int64) and reports accuracy on the test features [M, L, D].
ProbeResult run_probe(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                      const torch::Tensor& test_features, const torch::Tensor& test_labels, const ProbeOptions& options);

// Mean and sample standard deviation.
void mean_std(const std::vector<double>& values, double* mean, double* std);

}  // namespace videoprism::eval
