// Internal: what the HTTP handlers of `serve` share: the options, the served
// index generation, the query model and the media cache.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "serve/library_watcher.h"
#include "serve/media_cache.h"
#include "serve/search_service.h"
#include "videoprism/serve/serve.h"

namespace videoprism::serve {

struct ServerContext {
  ServeOptions options;
  std::unique_ptr<LibraryWatcher> watcher;
  std::unique_ptr<SearchService> search;
  std::unique_ptr<MediaCache> media;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<int64_t> requests{0}, server_errors{0};
};

// Registers GET /, the /api/ endpoints, authentication and JSON error replies.
void add_routes(httplib::Server& http, ServerContext& ctx);

// The page served at / (HTML with its CSS and JavaScript inline).
const char* web_page();

}  // namespace videoprism::serve
