// Progress bar: "\r<label> [#####.....] 12/40 files 3.1 files/s ETA 9s <note>".
#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "videoprism/core/log.h"

namespace videoprism::cli {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, int64_t total, std::string unit)
    : Progress(std::move(label), total, std::move(unit), stderr_is_terminal()) {}

Progress::Progress(std::string label, int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t n) {
  done_ += n;
  draw(false);
}

void Progress::set(int64_t done) {
  done_ = done;
  draw(false);
}

void Progress::note(const std::string& text) {
  note_ = text.size() > 40 ? "..." + text.substr(text.size() - 37) : text;
  draw(false);
}

void Progress::clear_line() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  draw(true);
  if (enabled_ && drawn_) std::fprintf(stderr, "\n");
  finished_ = true;
}

void Progress::draw(bool force) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::max(1e-9, elapsed_s());
  const double rate = done_ / elapsed;
  char bar[32] = {0};
  const int width = 24;
  int filled = total_ > 0 ? static_cast<int>(width * std::min<int64_t>(done_, total_) / total_) : 0;
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  char eta[32] = "";
  if (total_ > 0 && rate > 0 && done_ < total_) {
    int s = static_cast<int>((total_ - done_) / rate);
    if (s >= 3600)
      std::snprintf(eta, sizeof(eta), " ETA %dh%02dm", s / 3600, s / 60 % 60);
    else if (s >= 60)
      std::snprintf(eta, sizeof(eta), " ETA %dm%02ds", s / 60, s % 60);
    else
      std::snprintf(eta, sizeof(eta), " ETA %ds", s);
  }
  if (total_ > 0)
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %s %.2f %s/s%s %s", label_.c_str(), bar,
                 static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), rate,
                 unit_.c_str(), eta, note_.c_str());
  else
    std::fprintf(stderr, "\r\033[K%s %lld %s %.2f %s/s %s", label_.c_str(), static_cast<long long>(done_),
                 unit_.c_str(), rate, unit_.c_str(), note_.c_str());
  std::fflush(stderr);
}

void install_terminal_sinks() {
  // Both sinks run under the library's sink lock, one call at a time.
  static std::map<std::string, std::unique_ptr<Progress>> bars;
  set_log_sink([](LogLevel, const std::string& message) {
    for (auto& [task, bar] : bars) bar->clear_line();
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
  });
  set_progress_sink([](const ProgressEvent& e) {
    auto& bar = bars[e.task];
    if (!bar) bar = std::make_unique<Progress>(e.task, e.total, e.unit);
    if (!e.note.empty()) bar->note(e.note);
    bar->set(e.done);
    if (e.finished) {
      bar->finish();
      bars.erase(e.task);
    }
  });
}

}  // namespace videoprism::cli
