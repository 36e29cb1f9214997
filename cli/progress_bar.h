// The CLI's terminal: one-line progress bars on stderr with throughput and
// ETA, drawn only when stderr is a terminal (quiet when piped) and at most ~10
// times a second, and the sinks that route the library's messages and
// progress (videoprism/log.h) to it. Commands report their own progress the
// same way (report_progress), so one place owns the line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace videoprism::cli {

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

// True when stderr is a terminal (the one check the CLI makes).
bool stderr_is_terminal();

// Installs the library's log sink (a message clears the bars' line first,
// then prints on stderr) and progress sink (one bar per task, drawn while
// stderr is a terminal). Called once by main().
void install_terminal_sinks();

}  // namespace videoprism::cli
