// Internal: the served generation of the index. Holds the current complete
// IndexSnapshot (and the one before it, so ids handed out just before a
// switch still resolve), and a thread that polls the index's generation and
// swaps in a newer complete one. A generation whose model differs from the
// loaded one is not served (the server keeps the last good one and says why).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "videoprism/apps/index_snapshot.h"

namespace videoprism::serve {

struct WatcherStatus {
  std::string generation;      // served
  std::string latest;          // recorded in the index now ("" when unreadable)
  int64_t switches = 0;        // generations switched to since start
  std::string problem;         // why a newer generation is not served yet ("" if none)
};

class LibraryWatcher {
 public:
  using Log = std::function<void(const std::string&)>;
  // Loads the first snapshot, waiting up to `wait_s` for an index being written.
  LibraryWatcher(std::string dir, double poll_interval_s, Log log, double wait_s = 30);
  ~LibraryWatcher();

  std::shared_ptr<const IndexSnapshot> current() const;
  std::shared_ptr<const IndexSnapshot> previous() const;

  // Finds a window (or a file) by id in the current snapshot, else the previous.
  // Returns the snapshot holding it (nullptr when unknown).
  std::shared_ptr<const IndexSnapshot> with_window(int64_t id) const;
  std::shared_ptr<const IndexSnapshot> with_file(int64_t id) const;

  // Checks the index now (the watcher thread calls it every poll interval).
  void poll();
  void start();
  void stop();
  WatcherStatus status() const;

 private:
  std::string dir_;
  double poll_interval_s_;
  Log log_;
  std::string fingerprint_;
  mutable std::mutex mutex_;
  std::shared_ptr<const IndexSnapshot> current_, previous_;
  WatcherStatus status_;
  std::mutex poll_mutex_;
  std::thread thread_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace videoprism::serve
