// Learning-rate schedule: linear warm-up from 0, then linear or cosine decay
// to min_lr_ratio * peak at total_steps (or constant).
#pragma once

#include <cstdint>
#include <string>

#include "videoprism/train_step/recipe.h"

namespace videoprism::train {


struct LrSchedule {
  double peak_lr = 1e-4;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  Decay decay = Decay::kCosine;
  double min_lr_ratio = 0.0;

  // Learning rate of optimizer step `step` (0-based).
  double at(int64_t step) const;
};

}  // namespace videoprism::train
