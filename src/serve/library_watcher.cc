#include "serve/library_watcher.h"

#include <chrono>

#include "videoprism/core/error.h"

namespace videoprism::serve {

LibraryWatcher::LibraryWatcher(std::string dir, double poll_interval_s, Log log, double wait_s)
    : dir_(std::move(dir)), poll_interval_s_(poll_interval_s), log_(std::move(log)) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
  for (;;) {
    try {
      current_ = IndexSnapshot::load(dir_);
      break;
    } catch (const IndexBusy& e) {
      if (std::chrono::steady_clock::now() > deadline)
        fail("serve: the index '", dir_, "' has no complete generation yet (", e.what(),
             "); wait for `videoprism index` to finish");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  fingerprint_ = current_->meta("checkpoint_fingerprint");
  status_.generation = status_.latest = current_->generation();
}

LibraryWatcher::~LibraryWatcher() { stop(); }

std::shared_ptr<const IndexSnapshot> LibraryWatcher::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::shared_ptr<const IndexSnapshot> LibraryWatcher::previous() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return previous_;
}

std::shared_ptr<const IndexSnapshot> LibraryWatcher::with_window(int64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_->window(id)) return current_;
  if (previous_ && previous_->window(id)) return previous_;
  return nullptr;
}

std::shared_ptr<const IndexSnapshot> LibraryWatcher::with_file(int64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_->file(id)) return current_;
  if (previous_ && previous_->file(id)) return previous_;
  return nullptr;
}

void LibraryWatcher::poll() {
  std::lock_guard<std::mutex> polling(poll_mutex_);
  auto generations = IndexSnapshot::generations(dir_);
  const std::string served = current()->generation();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.latest = generations ? generations->first : "";
  }
  if (!generations || generations->first == served) return;
  std::string problem;
  try {
    auto next = IndexSnapshot::load(dir_);
    if (next->meta("checkpoint_fingerprint") != fingerprint_) {
      problem = "generation " + next->generation() + " was built with another model (fingerprint " +
                next->meta("checkpoint_fingerprint") + ", serving " + fingerprint_ + "); restart the server";
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      previous_ = current_;
      current_ = next;
      status_.generation = next->generation();
      status_.switches += 1;
      status_.problem.clear();
      if (log_)
        log_("serve: now serving generation " + next->generation() + " (" + std::to_string(next->files().size()) +
             " files, " + std::to_string(next->num_windows()) + " windows)");
      return;
    }
  } catch (const IndexBusy& e) {
    problem = e.what();  // mid-update: the next poll tries again
  } catch (const std::exception& e) {
    problem = e.what();
    if (log_) log_(std::string("serve: cannot load the new generation: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  status_.problem = problem;
}

void LibraryWatcher::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::duration<double>(poll_interval_s_), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      try {
        poll();
      } catch (const std::exception& e) {
        if (log_) log_(std::string("serve: watching the index: ") + e.what());
      }
      lock.lock();
    }
  });
}

void LibraryWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

WatcherStatus LibraryWatcher::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

}  // namespace videoprism::serve
