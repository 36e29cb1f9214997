// AdamW (decoupled weight decay) over named float32 parameters, with
// parameter groups by name (decay for dense and attention kernels; none for
// norms, biases, embeddings, scales), global-norm gradient clipping, and a
// state that saves to / loads from named arrays (an .npz beside the model).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "videoprism/train_step/recipe.h"

namespace videoprism::train {


// True for checkpoint keys whose leaf is a dense ("kernel") or attention
// projection ("w") weight; false for norms, biases, embeddings and scales.
bool takes_weight_decay(const std::string& key);

struct NamedParameter {
  std::string name;      // checkpoint key, e.g. "params/text_encoder/.../kernel"
  torch::Tensor tensor;  // float32, requires grad
  bool decay = false;
};

class AdamW {
 public:
  AdamW(std::vector<NamedParameter> params, AdamWOptions options);

  // One update with learning rate `lr` from each parameter's .grad()
  // (parameters without a gradient are left alone).
  void step(double lr);
  void zero_grad();
  int64_t num_steps() const { return steps_; }
  const std::vector<NamedParameter>& params() const { return params_; }

  // "adam/m/<name>", "adam/v/<name>" and "adam/steps".
  std::vector<std::pair<std::string, torch::Tensor>> state_arrays() const;
  // Strict: every moment must be present with its parameter's shape.
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& arrays);

 private:
  std::vector<NamedParameter> params_;
  std::vector<torch::Tensor> m_, v_;
  AdamWOptions options_;
  int64_t steps_ = 0;
};

// Global L2 norm of the gradients (float64 accumulation); when max_norm > 0
// and the norm exceeds it, scales every gradient by max_norm / norm.
// Returns the norm before clipping.
double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm);

}  // namespace videoprism::train
