#include "serve/media_cache.h"

#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>

#include "serve/media_codec.h"
#include "videoprism/core/error.h"

namespace fs = std::filesystem;

namespace videoprism::serve {
namespace {

// 64-bit FNV-1a of a description: a stable cache name.
std::string content_key(const std::string& description) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : description) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string describe(const SnapshotFile& file, const SnapshotWindow& window, const std::string& what) {
  std::ostringstream out;
  out.precision(17);
  out << what << '|' << file.path << '|' << file.size << '|' << file.mtime_ns << '|' << window.start_s << '|'
      << window.end_s;
  return out.str();
}

// The file as it is now must be the one the index recorded.
void check_unchanged(const SnapshotFile& file) {
  std::error_code ec;
  const auto size = fs::file_size(file.path, ec);
  check(!ec, "serve: '", fs::path(file.path).filename().string(), "' (file ", file.id, ") is missing on disk");
  check(static_cast<int64_t>(size) == file.size, "serve: '", fs::path(file.path).filename().string(), "' (file ",
        file.id, ") changed since it was indexed; re-run `videoprism index`");
}

}  // namespace

MediaCache::MediaCache(MediaCacheOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(fs::path(options_.dir) / "thumbs", ec);
  fs::create_directories(fs::path(options_.dir) / "previews", ec);
  check(fs::is_directory(fs::path(options_.dir) / "thumbs") && fs::is_directory(fs::path(options_.dir) / "previews"),
        "serve: cannot create the cache directory '", options_.dir, "'");
}

template <typename Make>
void MediaCache::ensure(const std::string& path, Make make) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_.count(path) == 0; });
    if (fs::exists(path)) return;
    busy_[path] = true;
  }
  try {
    make();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_.erase(path);
    done_.notify_all();
    throw;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  busy_.erase(path);
  done_.notify_all();
}

std::string MediaCache::thumbnail(const SnapshotFile& file, const SnapshotWindow& window) {
  const std::string key = content_key(describe(file, window, "thumb" + std::to_string(options_.thumb_width)));
  const std::string path = options_.dir + "/thumbs/" + key + ".jpg";
  ensure(path, [&] {
    check_unchanged(file);
    write_thumbnail(file.path, 0.5 * (window.start_s + window.end_s), options_.thumb_width, path);
    std::lock_guard<std::mutex> lock(mutex_);
    ++thumbs_made_;
  });
  return path;
}

std::string MediaCache::preview(const SnapshotFile& file, const SnapshotWindow& window) {
  const std::string key = content_key(describe(file, window, "preview" + std::to_string(options_.preview_height)));
  const std::string path = options_.dir + "/previews/" + key + ".mp4";
  ensure(path, [&] {
    check_unchanged(file);
    {
      // Transcodes are CPU-heavy: a few at a time.
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return transcodes_ < options_.max_parallel_transcodes; });
      ++transcodes_;
    }
    try {
      write_preview(file.path, window.start_s, window.end_s, options_.preview_height, options_.max_preview_s, path);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      --transcodes_;
      done_.notify_all();
      throw;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    --transcodes_;
    ++previews_made_;
    done_.notify_all();
  });
  return path;
}

bool MediaCache::playable(const SnapshotFile& file) {
  const std::string key = file.path + '|' + std::to_string(file.size) + '|' + std::to_string(file.mtime_ns);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = playable_.find(key);
    if (it != playable_.end()) return it->second;
  }
  const bool ok = browser_playable(file.path);
  std::lock_guard<std::mutex> lock(mutex_);
  playable_[key] = ok;
  return ok;
}

std::pair<int64_t, int64_t> MediaCache::made() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {thumbs_made_, previews_made_};
}

}  // namespace videoprism::serve
