#include "train/metrics.h"

#include <filesystem>

#include "io/atomic_file.h"
#include "io/plot.h"
#include "videoprism/core/error.h"
#include "videoprism/core/log.h"

namespace videoprism::train {

MetricsLog::MetricsLog(const std::string& path, int64_t resume_step) : path_(path) {
  if (resume_step >= 0 && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string line, kept;
    while (std::getline(in, line)) {
      try {
        auto j = nlohmann::json::parse(line);
        if (j.value("step", int64_t(0)) > resume_step) continue;
      } catch (const nlohmann::json::exception&) {
        continue;  // a line cut by a kill
      }
      kept += line + "\n";
    }
    write_file_atomically(path, kept);
  }
  out_.open(path, std::ios::app);
  check(out_.good(), "metrics: cannot open ", path);
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
}

bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path, const std::string& title) {
  const std::string error = plot_loss_curves(png_path, title, {{"loss", metrics_path}});
  if (!error.empty()) log_warning("plot: " + error);
  return error.empty();
}

}  // namespace videoprism::train
