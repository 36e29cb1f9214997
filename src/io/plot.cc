#include "io/plot.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/atomic_file.h"

namespace videoprism {
namespace {

// gnuplot on a script file, its output to log; true on exit status 0.
bool gnuplot(const std::string& script_path, const std::string& log_path) {
  const std::string command = "gnuplot '" + script_path + "' > '" + log_path + "' 2>&1";
  return std::system(command.c_str()) == 0;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::string png_terminal(int width, int height) {
  return "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) + " noenhanced\n";
}

std::string run_gnuplot(const std::string& png, const std::string& script) {
  const std::string script_path = png + ".gp", log_path = png + ".gp.log";
  write_file_atomically(script_path, script);
  if (gnuplot(script_path, log_path)) return "";
  // pngcairo is absent from some gnuplot builds: once more with libgd's png.
  const std::string cairo = "set terminal pngcairo";
  const size_t at = script.find(cairo);
  if (at != std::string::npos) {
    std::string fallback = script;
    fallback.replace(at, cairo.size(), "set terminal png");
    write_file_atomically(script_path, fallback);
    if (gnuplot(script_path, log_path)) return "";
  }
  const std::string reason = first_line(log_path);
  return "gnuplot failed on " + script_path + (reason.empty() ? " (is gnuplot installed?)" : ": " + reason);
}

std::string plot_loss_curves(const std::string& png, const std::string& title,
                             const std::vector<std::pair<std::string, std::string>>& runs) {
  std::vector<std::string> plots;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& [legend, metrics] = runs[i];
    std::ifstream in(metrics);
    if (!in) continue;
    std::ostringstream data;
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("step") && j.contains("loss") && j["step"].is_number() && j["loss"].is_number())
        data << j["step"].get<double>() << " " << j["loss"].get<double>() << "\n";
    }
    const std::string data_path = png + "." + std::to_string(i) + ".dat";
    write_file_atomically(data_path, data.str());
    plots.push_back("'" + data_path + "' using 1:2 with lines lw 2 title '" + legend + "'");
  }
  if (plots.empty()) return "no metrics to plot for " + png;
  std::ostringstream script;
  script << png_terminal() << "set output '" << png << "'\n"
         << "set title '" << title << "'\nset xlabel 'step'\nset ylabel 'loss'\nset grid\nset key top right\n"
         << "plot ";
  for (size_t i = 0; i < plots.size(); ++i) script << (i ? ", " : "") << plots[i];
  script << "\n";
  return run_gnuplot(png, script.str());
}

}  // namespace videoprism
