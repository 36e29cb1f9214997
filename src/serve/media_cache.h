// Internal: the on-disk cache of thumbnails and previews. Entries are named by
// a hash of what they show (file path, size, mtime, time range, size), so they
// stay valid across index generations and go stale with the file. One request
// makes a missing entry; others asking for it meanwhile wait for that one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "videoprism/apps/index_snapshot.h"

namespace videoprism::serve {

struct MediaCacheOptions {
  std::string dir;
  int thumb_width = 320;
  int preview_height = 360;
  double max_preview_s = 120;
  int max_parallel_transcodes = 2;
};

class MediaCache {
 public:
  explicit MediaCache(MediaCacheOptions options);

  // Path of the window's thumbnail (JPEG), made on first use.
  std::string thumbnail(const SnapshotFile& file, const SnapshotWindow& window);
  // Path of the window's browser preview (H.264/MP4), made on first use.
  std::string preview(const SnapshotFile& file, const SnapshotWindow& window);
  // Whether browsers play the file as is (memoized per path, size and mtime).
  bool playable(const SnapshotFile& file);

  const std::string& dir() const { return options_.dir; }
  // Entries made by this process (thumbnails, previews).
  std::pair<int64_t, int64_t> made() const;

 private:
  // Makes `path` with `make` unless it exists; one maker per path at a time.
  template <typename Make>
  void ensure(const std::string& path, Make make);

  MediaCacheOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::unordered_map<std::string, bool> busy_;       // paths being made
  std::unordered_map<std::string, bool> playable_;   // key -> playable
  int transcodes_ = 0;
  int64_t thumbs_made_ = 0, previews_made_ = 0;
};

}  // namespace videoprism::serve
