// VideoServer: assembles the served index, the query model, the media cache
// and cpp-httplib's server (thread pool, limits, timeouts).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "serve/server_context.h"
#include "videoprism/core/error.h"
#include "videoprism/core/log.h"
#include "videoprism/serve/serve.h"

namespace fs = std::filesystem;

namespace videoprism {
namespace {

std::string default_cache_dir(const std::string& db) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : fs::weakly_canonical(fs::absolute(db)).string()) h = (h ^ c) * 1099511628211ULL;
  char key[17];
  std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(h));
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = (xdg && *xdg) ? fs::path(xdg) : (home && *home) ? fs::path(home) / ".cache"
                                                                    : fs::temp_directory_path();
  return (base / "videoprism" / "serve" / key).string();
}

}  // namespace

bool is_public_host(const std::string& host) {
  return !(host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0);
}

struct VideoServer::Impl {
  serve::ServerContext ctx;
  httplib::Server http;
  int port = -1;
};

VideoServer::VideoServer(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  check(!options.db.empty(), "serve: --db expected an index directory");
  check(options.port >= 0 && options.port <= 65535, "serve: --port expected 0..65535, got ", options.port);
  check(options.threads >= 0, "serve: --threads expected >= 0, got ", options.threads);
  check(options.max_upload_bytes > 0, "serve: the upload limit expected > 0 bytes, got ", options.max_upload_bytes);
  check(options.max_k >= 1, "serve: max k expected >= 1, got ", options.max_k);
  check(options.timeout_s >= 1, "serve: --timeout expected >= 1 s, got ", options.timeout_s);
  check(options.poll_interval_s > 0, "serve: the poll interval expected > 0 s, got ", options.poll_interval_s);
  if (!options.log) options.log = [](const std::string& line) { log_info(line); };
  if (options.cache_dir.empty()) options.cache_dir = default_cache_dir(options.db);
  serve::ServerContext& ctx = impl_->ctx;
  ctx.options = options;
  ctx.watcher = std::make_unique<serve::LibraryWatcher>(options.db, options.poll_interval_s, options.log);
  ctx.search = std::make_unique<serve::SearchService>(*ctx.watcher->current(), options);
  serve::MediaCacheOptions media;
  media.dir = options.cache_dir;
  media.thumb_width = options.thumb_width;
  media.preview_height = options.preview_height;
  media.max_preview_s = options.max_preview_s;
  ctx.media = std::make_unique<serve::MediaCache>(media);

  httplib::Server& http = impl_->http;
  const int threads = options.threads > 0 ? options.threads
                                          : std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_read_timeout(options.timeout_s, 0);
  http.set_write_timeout(options.timeout_s, 0);
  http.set_keep_alive_timeout(5);
  http.set_payload_max_length(static_cast<size_t>(options.max_upload_bytes));
  serve::add_routes(http, ctx);
}

VideoServer::~VideoServer() {
  stop();
  impl_->ctx.watcher->stop();
}

int VideoServer::bind() {
  if (impl_->port >= 0) return impl_->port;
  const ServeOptions& o = impl_->ctx.options;
  if (o.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(o.host);
    check(impl_->port > 0, "serve: cannot bind to ", o.host, " (any port)");
  } else {
    check(impl_->http.bind_to_port(o.host, o.port), "serve: cannot bind to ", o.host, ":", o.port,
          " (in use, or not an address of this machine)");
    impl_->port = o.port;
  }
  return impl_->port;
}

void VideoServer::run() {
  bind();
  impl_->ctx.watcher->start();
  impl_->http.listen_after_bind();
  impl_->ctx.watcher->stop();
}

void VideoServer::stop() { impl_->http.stop(); }

int VideoServer::port() const { return impl_->port; }

}  // namespace videoprism
