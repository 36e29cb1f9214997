// A one-line progress bar on stderr with throughput and ETA, shared by the
// commands. It draws only when stderr is a terminal (quiet when piped) and at
// most ~10 times a second.
//
//   Progress bar("embed", files.size(), "files");
//   for (...) { ...; bar.advance(); }
//   bar.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace videoprism {

class Progress {
 public:
  // total 0 means unknown (no ETA). enabled: draw even when not a terminal
  // (false: never); by default draws only on a terminal.
  Progress(std::string label, int64_t total, std::string unit = "items");
  Progress(std::string label, int64_t total, std::string unit, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  void set(int64_t done);
  // A short note shown after the counts (e.g. the current file name).
  void note(const std::string& text);
  // Draws the final state and ends the line. Idempotent.
  void finish();
  // Clears the line so that a message printed to stderr is not mixed into the
  // bar; the next update redraws it.
  void clear_line();

  int64_t done() const { return done_; }
  double elapsed_s() const;

 private:
  void draw(bool force);

  std::string label_, unit_, note_;
  int64_t total_ = 0, done_ = 0;
  bool enabled_ = false, finished_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace videoprism
