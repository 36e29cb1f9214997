// The HTTP surface of `serve`: GET / (the page) and the JSON API. Every reply
// that is not a file or an image is JSON; every error names its problem.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "serve/http_util.h"
#include "serve/server_context.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/index_snapshot.h"
#include "videoprism/apps/video_index.h"

namespace fs = std::filesystem;

namespace videoprism::serve {
namespace {

using Handler = httplib::Server::Handler;

void log_line(const ServerContext& ctx, const std::string& line) {
  if (ctx.options.log) ctx.options.log(line);
}

// Runs a handler, turning what it throws into a JSON error reply.
template <typename Fn>
void guarded(ServerContext& ctx, const httplib::Request& req, httplib::Response& res, Fn fn) {
  ctx.requests++;
  try {
    fn();
    return;
  } catch (const HttpError& e) {
    reply_error(res, e.status(), e.what());
  } catch (const IndexBusy& e) {
    reply_error(res, 503, e.what());
  } catch (const Error& e) {
    reply_error(res, 422, e.what());
  } catch (const std::exception& e) {
    ctx.server_errors++;
    log_line(ctx, std::string("serve: internal error: ") + e.what());
    reply_error(res, 500, std::string("internal error: ") + e.what());
  }
  drop_ranges(req);  // an error body is never sliced
}

Handler route(ServerContext& ctx, std::function<void(const httplib::Request&, httplib::Response&)> fn) {
  return [&ctx, fn](const httplib::Request& req, httplib::Response& res) { guarded(ctx, req, res, [&] { fn(req, res); }); };
}

std::string base_name(const std::string& path) { return fs::path(path).filename().string(); }

nlohmann::json window_json(ServerContext& ctx, const SnapshotWindow& w) {
  return {{"window_id", w.id},
          {"window", w.window},
          {"start_s", w.start_s},
          {"end_s", w.end_s},
          {"thumb_url", "/api/thumb/" + std::to_string(w.id)},
          {"preview_url", "/api/preview/" + std::to_string(w.id)}};
}

nlohmann::json hit_json(ServerContext& ctx, const IndexSnapshot& s, const SnapshotHit& h, int rank) {
  const SnapshotWindow* w = s.window(h.window_id);
  const SnapshotFile* f = w ? s.file(w->file_id) : nullptr;
  if (!w || !f) return nullptr;
  nlohmann::json j = window_json(ctx, *w);
  j["rank"] = rank;
  j["score"] = h.score;
  j["file_id"] = f->id;
  j["name"] = base_name(f->path);
  j["duration_s"] = f->duration_s;
  j["media_url"] = "/api/media/" + std::to_string(f->id);
  j["playable"] = ctx.media->playable(*f);
  return j;
}

void reply_hits(ServerContext& ctx, httplib::Response& res, const std::vector<float>& query, int k,
                nlohmann::json reply, std::chrono::steady_clock::time_point start) {
  auto snapshot = ctx.watcher->current();
  auto hits = snapshot->search(query, k);
  nlohmann::json list = nlohmann::json::array();
  int rank = 1;
  for (const auto& h : hits) {
    auto j = hit_json(ctx, *snapshot, h, rank);
    if (!j.is_null()) list.push_back(std::move(j)), ++rank;
  }
  reply["generation"] = snapshot->generation();
  reply["k"] = k;
  reply["hits"] = std::move(list);
  reply["took_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  reply_json(res, reply);
}

int k_param(const ServerContext& ctx, const httplib::Request& req) {
  return static_cast<int>(int_param(req, "k", 10, 1, ctx.options.max_k));
}

// A temporary upload file, removed when the request is done.
struct UploadFile {
  std::string path;
  int fd = -1;
  explicit UploadFile(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::string pattern = dir + "/upload-XXXXXX";
    fd = ::mkstemp(pattern.data());
    if (fd < 0) throw HttpError(500, "upload: cannot create a temporary file in the cache directory");
    path = pattern;
  }
  ~UploadFile() {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
  }
  bool write(const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, data, n);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
};

void search_by_upload(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) {
  const auto start = std::chrono::steady_clock::now();
  const int k = k_param(ctx, req);
  const int64_t limit = ctx.options.max_upload_bytes;
  UploadFile upload(ctx.media->dir() + "/uploads");
  int64_t bytes = 0;
  bool too_large = false, write_failed = false;
  std::string name;
  auto receive = [&](const char* data, size_t n) {
    bytes += static_cast<int64_t>(n);
    if (bytes > limit) return !(too_large = true);
    if (!upload.write(data, n)) return !(write_failed = true);
    return true;
  };
  bool ok;
  if (req.is_multipart_form_data()) {
    bool in_file = false, have_file = false;
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          in_file = !have_file && (part.name == "video" || !part.filename.empty());
          if (in_file) have_file = true, name = part.filename;
          return true;
        },
        [&](const char* data, size_t n) { return in_file ? receive(data, n) : true; });
    if (ok && !have_file) throw HttpError(400, "upload: the form has no file field 'video'");
  } else {
    ok = reader(receive);
  }
  if (too_large || res.status == 413)
    throw HttpError(413, "upload: larger than the limit of " + std::to_string(limit) +
                             " bytes (the server's --max-upload-mb)");
  if (write_failed) throw HttpError(507, "upload: cannot write the temporary file (disk full?)");
  if (!ok) throw HttpError(400, "upload: the request body could not be read");
  if (bytes == 0) throw HttpError(400, "upload: empty body; send the video as the body or as the multipart field 'video'");
  ::close(upload.fd);
  upload.fd = -1;
  QueryVector q;
  try {
    q = ctx.search->video(upload.path);
  } catch (const Error& e) {
    throw HttpError(422, std::string("upload: not a readable video: ") + e.what());
  }
  reply_hits(ctx, res, q.vector, k, {{"upload_bytes", bytes}, {"name", name}}, start);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in.good() && !in.eof()) throw HttpError(500, "cannot read a cached file");
  return out.str();
}

}  // namespace

void add_routes(httplib::Server& http, ServerContext& ctx) {
  const std::string token = ctx.options.token;
  http.set_pre_routing_handler([&ctx, token](const httplib::Request& req, httplib::Response& res) {
    // Only file replies honor Range (see drop_ranges).
    if (req.path.rfind("/api/media/", 0) != 0 && req.path.rfind("/api/preview/", 0) != 0) drop_ranges(req);
    if (token.empty() || req.path.rfind("/api/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (has_token(req, token)) return httplib::Server::HandlerResponse::Unhandled;
    ctx.requests++;
    drop_ranges(req);
    res.set_header("WWW-Authenticate", "Bearer realm=\"videoprism\"");
    reply_error(res, 401,
                req.has_header("Authorization") || req.has_param("access_token")
                    ? "unauthorized: wrong token"
                    : "unauthorized: this server needs a token (Authorization: Bearer TOKEN)");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    drop_ranges(req);
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    switch (res.status) {
      case 404: message = "no such endpoint: " + req.method + " " + req.path; break;
      case 413: message = "request body larger than the server's limit"; break;
      case 414: message = "request URI too long"; break;
      case 416: message = "range not satisfiable"; break;
      case 400: message = "malformed request"; break;
      default: message = "HTTP error " + std::to_string(res.status);
    }
    reply_error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([&ctx](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    drop_ranges(req);
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    ctx.server_errors++;
    reply_error(res, 500, "internal error: " + what);
  });

  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; "
                   "script-src 'unsafe-inline'; connect-src 'self'");
    res.set_content(web_page(), "text/html; charset=utf-8");
  });
  http.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });

  http.Get("/api/health", route(ctx, [&ctx](const httplib::Request&, httplib::Response& res) {
    auto snapshot = ctx.watcher->current();
    const WatcherStatus status = ctx.watcher->status();
    const auto [hits, misses] = ctx.search->text_cache_stats();
    const auto [thumbs, previews] = ctx.media->made();
    reply_json(res, {{"status", "ok"},
                     {"generation", status.generation},
                     {"latest_generation", status.latest},
                     {"switches", status.switches},
                     {"pending", status.problem},
                     {"files", snapshot->files().size()},
                     {"windows", snapshot->num_windows()},
                     {"dim", snapshot->dim()},
                     {"model", snapshot->meta("model")},
                     {"faiss", snapshot->uses_faiss()},
                     {"text_search", ctx.search->has_tokenizer()},
                     {"text_cache", {{"size", ctx.search->text_cache_size()}, {"hits", hits}, {"misses", misses}}},
                     {"made", {{"thumbnails", thumbs}, {"previews", previews}}},
                     {"requests", ctx.requests.load()},
                     {"server_errors", ctx.server_errors.load()},
                     {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count()}});
  }));

  http.Get("/api/search", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    if (!req.has_param("q")) throw HttpError(400, "q: missing; expected /api/search?q=TEXT&k=N");
    const std::string q = req.get_param_value("q");
    if (q.find_first_not_of(" \t\r\n") == std::string::npos) throw HttpError(400, "q: expected a non-empty text");
    if (q.size() > 2000) throw HttpError(400, "q: expected at most 2000 bytes, got " + std::to_string(q.size()));
    const int k = k_param(ctx, req);
    QueryVector v = ctx.search->text(q);
    reply_hits(ctx, res, v.vector, k, {{"query", q}, {"cached", v.cached}}, start);
  }));

  http.Get("/api/similar", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    if (!req.has_param("window")) throw HttpError(400, "window: missing; expected /api/similar?window=ID&k=N");
    const int64_t id = int_param(req, "window", 0, 0, INT64_C(999999999999999999));
    const int k = k_param(ctx, req);
    auto holder = ctx.watcher->with_window(id);
    if (!holder) throw HttpError(404, "unknown window id " + std::to_string(id));
    const float* e = holder->embedding(id);
    std::vector<float> query(e, e + holder->dim());
    reply_hits(ctx, res, query, k, {{"window", id}}, start);
  }));

  http.Post("/api/search/video",
            [&ctx](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              guarded(ctx, req, res, [&] { search_by_upload(ctx, req, res, reader); });
            });

  http.Get("/api/videos", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto snapshot = ctx.watcher->current();
    const int64_t offset = int_param(req, "offset", 0, 0, INT64_C(1000000000));
    const int64_t limit = int_param(req, "limit", 24, 1, 500);
    const auto& files = snapshot->files();
    nlohmann::json videos = nlohmann::json::array();
    for (int64_t i = offset; i < std::min<int64_t>(offset + limit, static_cast<int64_t>(files.size())); ++i) {
      const SnapshotFile& f = files[static_cast<size_t>(i)];
      nlohmann::json windows = nlohmann::json::array();
      for (int64_t wid : f.window_ids) windows.push_back(window_json(ctx, *snapshot->window(wid)));
      videos.push_back({{"file_id", f.id},
                        {"name", base_name(f.path)},
                        {"duration_s", f.duration_s},
                        {"media_url", "/api/media/" + std::to_string(f.id)},
                        {"playable", ctx.media->playable(f)},
                        {"windows", std::move(windows)}});
    }
    reply_json(res, {{"generation", snapshot->generation()},
                     {"total", files.size()},
                     {"offset", offset},
                     {"limit", limit},
                     {"videos", std::move(videos)}});
  }));

  http.Get(R"(/api/thumb/([^/]*))", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const int64_t id = id_from_path(req, "window");
    auto holder = ctx.watcher->with_window(id);
    if (!holder) throw HttpError(404, "unknown window id " + std::to_string(id));
    const SnapshotWindow& w = *holder->window(id);
    const std::string path = ctx.media->thumbnail(*holder->file(w.file_id), w);
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(read_all(path), "image/jpeg");
  }));

  http.Get(R"(/api/media/([^/]*))", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const int64_t id = id_from_path(req, "file");
    auto holder = ctx.watcher->with_file(id);
    if (!holder) throw HttpError(404, "unknown file id " + std::to_string(id));
    const SnapshotFile& f = *holder->file(id);
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    if (ec) throw HttpError(404, "file " + std::to_string(id) + " ('" + base_name(f.path) + "') is missing on disk");
    if (static_cast<int64_t>(size) != f.size)
      throw HttpError(409, "file " + std::to_string(id) + " ('" + base_name(f.path) +
                               "') changed since it was indexed; re-run `videoprism index`");
    reply_file(req, res, f.path, video_content_type(f.path));
  }));

  http.Get(R"(/api/preview/([^/]*))", route(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    const int64_t id = id_from_path(req, "window");
    auto holder = ctx.watcher->with_window(id);
    if (!holder) throw HttpError(404, "unknown window id " + std::to_string(id));
    const SnapshotWindow& w = *holder->window(id);
    const std::string path = ctx.media->preview(*holder->file(w.file_id), w);
    res.set_header("Cache-Control", "private, max-age=3600");
    reply_file(req, res, path, "video/mp4");
  }));
}

}  // namespace videoprism::serve
