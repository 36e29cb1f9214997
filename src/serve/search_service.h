// Internal: the query side of `serve`: the index's model and tokenizer, loaded
// once, turning a text (through an LRU cache of its embedding) or a video file
// into a query vector exactly as `videoprism search` does. The model runs one
// query at a time (its own intra-op threads parallelize each one).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "serve/lru_cache.h"
#include "videoprism/apps/index_snapshot.h"
#include "videoprism/core/model.h"
#include "videoprism/serve/serve.h"
#include "videoprism/media/tokenizer.h"

namespace videoprism::serve {

struct QueryVector {
  std::vector<float> vector;  // [D], unit norm
  bool cached = false;        // text only: came from the LRU cache
};

class SearchService {
 public:
  SearchService(const IndexSnapshot& snapshot, const ServeOptions& options);

  // Throws Error when the index records no tokenizer and none was given.
  QueryVector text(const std::string& query);
  // The video's global embedding (one clip of the index's shape).
  QueryVector video(const std::string& path);

  bool has_tokenizer() const { return tokenizer_.has_value(); }
  std::pair<size_t, size_t> text_cache_stats() const { return text_cache_.stats(); }
  size_t text_cache_size() const { return text_cache_.size(); }

 private:
  RunOptions run_;
  Model model_;
  std::optional<Tokenizer> tokenizer_;
  int frames_ = 16, size_ = 288;
  std::mutex model_mutex_;
  LruCache<std::string, std::vector<float>> text_cache_;
};

}  // namespace videoprism::serve
