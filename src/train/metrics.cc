#include "videoprism/train/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <vector>

#include "videoprism/error.h"
#include "videoprism/train/checkpoint.h"

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
    write_file_atomic(path, kept);
  }
  out_.open(path, std::ios::app);
  check(out_.good(), "metrics: cannot open ", path);
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
}

ProgressBar::ProgressBar(int64_t total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

void ProgressBar::update(int64_t step, double loss, double clips_per_s) {
  if (!enabled_) return;
  const int width = 30;
  const int filled = total_ > 0 ? int(width * step / total_) : 0;
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "\r[%s] %lld/%lld loss %.4f %.1f clips/s ", bar.c_str(), static_cast<long long>(step),
               static_cast<long long>(total_), loss, clips_per_s);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_) std::fprintf(stderr, "\n");
}

bool plot_loss_curve(const std::string& metrics_path, const std::string& png_path) {
  // gnuplot reads a plain two-column table written from the JSONL.
  const std::string data_path = png_path + ".dat";
  {
    std::ifstream in(metrics_path);
    std::ostringstream out;
    std::string line;
    while (std::getline(in, line)) {
      try {
        auto j = nlohmann::json::parse(line);
        if (j.contains("step") && j.contains("loss")) out << j["step"].get<int64_t>() << " " << j["loss"].get<double>() << "\n";
      } catch (const nlohmann::json::exception&) {
      }
    }
    write_file_atomic(data_path, out.str());
  }
  const std::string script_path = png_path + ".gp";
  {
    std::ostringstream script;
    script << "set terminal pngcairo size 800,500 noenhanced\n"
           << "set output '" << png_path << "'\n"
           << "set title 'stage-1 contrastive loss'\n"
           << "set xlabel 'step'\nset ylabel 'loss'\nset grid\n"
           << "plot '" << data_path << "' using 1:2 with lines title 'loss'\n";
    write_file_atomic(script_path, script.str());
  }
  const std::string command = "gnuplot '" + script_path + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    std::cerr << "plot: cannot run gnuplot\n";
    return false;
  }
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status != 0) {
    // pngcairo is absent from some builds; fall back to the libgd png terminal.
    std::ifstream in(script_path);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    s.replace(s.find("pngcairo"), 8, "png");
    write_file_atomic(script_path, s);
    if (std::system(("gnuplot '" + script_path + "' > /dev/null 2>&1").c_str()) != 0) {
      std::cerr << "plot: gnuplot failed: " << output.substr(0, output.find('\n')) << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace videoprism::train
