// Training metrics: one JSON line per step and a PNG loss curve.
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

// Draws "loss" against "step" from a metrics JSONL into png_path, titled
// `title` (the one gnuplot driver, io/plot.h). When gnuplot is missing or
// fails, says why through the log sink and returns false; training goes on.
bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path, const std::string& title);

}  // namespace videoprism::train
