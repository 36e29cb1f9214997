#include "videoprism/core/log.h"

#include <cstdio>
#include <mutex>
#include <utility>

namespace videoprism {
namespace {

struct Sinks {
  std::mutex mutex;  // one sink call at a time; held while calling
  LogSink log;
  ProgressSink progress;
};

Sinks& sinks() {
  static Sinks s;
  return s;
}

}  // namespace

const char* to_string(LogLevel level) { return level == LogLevel::kWarning ? "warning" : "info"; }

LogSink set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(sinks().mutex);
  return std::exchange(sinks().log, std::move(sink));
}

void log_message(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(sinks().mutex);
  if (sinks().log) {
    sinks().log(level, message);
  } else {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
  }
}

ProgressSink set_progress_sink(ProgressSink sink) {
  std::lock_guard<std::mutex> lock(sinks().mutex);
  return std::exchange(sinks().progress, std::move(sink));
}

void report_progress(const ProgressEvent& event) {
  std::lock_guard<std::mutex> lock(sinks().mutex);
  if (sinks().progress) sinks().progress(event);
}

}  // namespace videoprism
