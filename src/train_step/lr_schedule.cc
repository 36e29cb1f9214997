#include "train_step/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "videoprism/core/error.h"

namespace videoprism::train {

Decay parse_decay(const std::string& name) {
  if (name == "constant") return Decay::kConstant;
  if (name == "linear") return Decay::kLinear;
  if (name == "cosine") return Decay::kCosine;
  fail("decay: expected constant, linear or cosine, got '", name, "'");
}

std::string to_string(Decay decay) {
  switch (decay) {
    case Decay::kConstant: return "constant";
    case Decay::kLinear: return "linear";
    case Decay::kCosine: return "cosine";
  }
  return "?";
}

double LrSchedule::at(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) return peak_lr * double(step + 1) / double(warmup_steps);
  if (decay == Decay::kConstant) return peak_lr;
  const double span = std::max<int64_t>(1, total_steps - warmup_steps);
  const double progress = std::clamp(double(step - warmup_steps) / span, 0.0, 1.0);
  const double floor = peak_lr * min_lr_ratio;
  const double shape = decay == Decay::kLinear ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return floor + (peak_lr - floor) * shape;
}

}  // namespace videoprism::train
