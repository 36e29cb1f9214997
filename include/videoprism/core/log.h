// How the library reports: messages (a skipped video, a fallback, a failed
// plot) and progress (training steps, indexed files) go to sinks that the
// application installs. The library never writes to stdout or stderr itself.
//
//   videoprism::set_log_sink([](videoprism::LogLevel level, const std::string& line) { ... });
//   videoprism::set_progress_sink([](const videoprism::ProgressEvent& e) { ... });
//
// Without a log sink, messages go to stderr one line each; without a
// progress sink, progress is not shown. Sinks may be called from worker
// threads (the data loader's), one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace videoprism {

enum class LogLevel { kInfo, kWarning };
const char* to_string(LogLevel level);

using LogSink = std::function<void(LogLevel level, const std::string& message)>;
// Installs `sink` (empty: back to stderr) and returns the previous one.
LogSink set_log_sink(LogSink sink);
void log_message(LogLevel level, const std::string& message);
inline void log_info(const std::string& message) { log_message(LogLevel::kInfo, message); }
inline void log_warning(const std::string& message) { log_message(LogLevel::kWarning, message); }

struct ProgressEvent {
  std::string task;   // "stage1", "index", ... (one bar per task)
  int64_t done = 0;   // units done so far
  int64_t total = 0;  // 0: unknown
  std::string unit;   // "steps", "files"
  std::string note;   // e.g. "loss 0.412, 31.2 clips/s" or the current file
  bool finished = false;
};
using ProgressSink = std::function<void(const ProgressEvent& event)>;
// Installs `sink` (empty: progress not shown) and returns the previous one.
ProgressSink set_progress_sink(ProgressSink sink);
void report_progress(const ProgressEvent& event);

}  // namespace videoprism
