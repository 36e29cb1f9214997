// The step loop both pre-training stages share: run until `stop_at` (or the
// last step), checkpoint every `checkpoint_every` steps and at the end, stop on
// a non-finite loss, progress bar on the main rank.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "videoprism/error.h"
#include "videoprism/train/metrics.h"

namespace videoprism::train {

// Impl needs: config.{steps, stop_at, checkpoint_every, progress}, step,
// last_saved, dist.is_main(), train_step() -> Step{step, loss, clips_per_s},
// save_checkpoint().
template <typename Step, typename Impl>
std::vector<Step> run_training_loop(Impl& s, const std::string& stage) {
  const int64_t end = s.config.stop_at > 0 ? std::min(s.config.stop_at, s.config.steps) : s.config.steps;
  ProgressBar bar(s.config.steps);
  std::vector<Step> done;
  while (s.step < end) {
    Step r = s.train_step();
    check(std::isfinite(r.loss), stage, ": loss is not finite at step ", r.step);
    done.push_back(r);
    if (s.dist.is_main() && s.config.progress) bar.update(r.step, r.loss, r.clips_per_s);
    if (s.step % s.config.checkpoint_every == 0 && s.step < end) s.save_checkpoint();
  }
  if (s.last_saved != s.step) s.save_checkpoint();
  if (s.dist.is_main() && s.config.progress) bar.finish();
  return done;
}

}  // namespace videoprism::train
