// `videoprism serve`: a local web page and JSON API to search a VideoIndex by
// text, by example window ("more like this") or by an uploaded video, with
// thumbnails, Range-served media and on-demand browser previews.
//
//   ServeOptions options;  options.db = "videos.vpdb";  options.port = 0;
//   VideoServer server(options);          // loads the model and the index
//   int port = server.bind();             // the bound port (0: any free one)
//   std::thread t([&] { server.run(); });  // serves until stop()
//   ...
//   server.stop();  t.join();
//
// The index is opened read-only and followed: a newer complete generation
// written by `videoprism index` replaces the served one without a restart; a
// generation still being written is never served. See docs/serve.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace videoprism {

struct ServeOptions {
  std::string db;                     // index directory (from `videoprism index`)
  std::string host = "127.0.0.1";     // loopback by default
  int port = 8080;                    // 0: any free port (see VideoServer::bind)
  int threads = 0;                    // HTTP worker threads; 0: max(4, cores)
  int model_threads = 0;              // intra-op threads of the model; 0: the process's setting
  std::string token;                  // non-empty: every /api/ request needs "Authorization: Bearer TOKEN"
  std::string cache_dir;              // thumbnails and previews; empty: $XDG_CACHE_HOME/videoprism/serve/<db hash>
  std::string checkpoint;             // optional; must be the index's model
  std::string tokenizer;              // used when the index recorded none
  std::string device = "cpu", dtype = "auto";  // dtype: auto, f32 or bf16 (as search)
  int64_t max_upload_bytes = 256LL << 20;  // POST /api/search/video body limit (413 beyond)
  int text_cache_size = 1024;         // query text embeddings kept (LRU)
  int max_k = 200;                    // largest k a request may ask for
  double poll_interval_s = 1.0;       // how often the index's generation is checked
  int timeout_s = 30;                 // socket read/write timeout
  int thumb_width = 320;              // thumbnail width in pixels
  int preview_height = 360;           // preview transcode height (at most the source's)
  int max_preview_s = 120;            // longest window transcoded for a preview
  // Where log lines go (one per event: generation switches, errors); default stderr.
  std::function<void(const std::string&)> log;
};

class VideoServer {
 public:
  // Loads the index's model and tokenizer and its current complete generation;
  // throws videoprism::Error naming what is wrong.
  explicit VideoServer(ServeOptions options);
  ~VideoServer();
  VideoServer(const VideoServer&) = delete;
  VideoServer& operator=(const VideoServer&) = delete;

  // Binds the listening socket; returns the port. Throws when it cannot bind.
  int bind();
  // Serves until stop() (binds first if bind() was not called). Also watches
  // the index for new generations while it runs.
  void run();
  // Stops run() from any thread. Idempotent.
  void stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for an address other than loopback (the CLI warns before serving on it).
bool is_public_host(const std::string& host);

}  // namespace videoprism
