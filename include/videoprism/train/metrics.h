// Training metrics: one JSON line per step, a progress bar on a terminal,
// and a PNG loss curve drawn by gnuplot.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace videoprism::train {

class MetricsLog {
 public:
  // Opens path for appending. When resuming at `resume_step` >= 0, first
  // drops lines with "step" > resume_step (written after that checkpoint).
  explicit MetricsLog(const std::string& path, int64_t resume_step = -1);
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

// "[#####.....] 120/1000 loss 2.31 12.0 clips/s" redrawn on stderr (only when
// stderr is a terminal).
class ProgressBar {
 public:
  explicit ProgressBar(int64_t total);
  void update(int64_t step, double loss, double clips_per_s);
  void finish();

 private:
  int64_t total_;
  bool enabled_;
};

// Draws "loss" against "step" from a metrics JSONL into png_path by running
// gnuplot on a script written beside it. Returns false (and says why on
// stderr) when gnuplot is missing or fails; training goes on.
bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path);

}  // namespace videoprism::train
