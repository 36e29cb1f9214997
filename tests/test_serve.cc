// `videoprism serve` over loopback: the JSON API against `videoprism search`,
// Range requests, ids and traversal, upload limits, tokens, malformed
// requests, thumbnails and previews, and re-indexing while serving. A tiny
// random video-text model, generated FFV1 clips and the test SentencePiece model.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/serve/serve.h"
#include "videoprism/media/video_reader.h"
#include "videoprism/media/video_writer.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A square of `color` moving over a dark background: uint8 [T, H, W, 3].
torch::Tensor square_clip(int frames, int size, std::array<uint8_t, 3> color, int phase) {
  auto video = torch::full({frames, size, size, 3}, 20, torch::kUInt8);
  const int side = size / 4;
  for (int t = 0; t < frames; ++t) {
    const int x = (t * 2 + phase) % (size - side), y = (t + 2 * phase) % (size - side);
    for (int c = 0; c < 3; ++c) video[t].slice(0, y, y + side).slice(1, x, x + side).select(2, c).fill_(color[c]);
  }
  return video;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<std::array<uint8_t, 3>> kColors = {
    {230, 30, 30}, {30, 230, 30}, {30, 30, 230}, {230, 230, 30}, {30, 230, 230}};

// A tiny checkpoint, clips and an index with 2 windows per clip, made once.
struct ServeWorld {
  TempDir dir;
  std::string checkpoint, videos, db, tokenizer;
  std::vector<std::string> files;
  ServeWorld() {
    checkpoint = dir.file("tiny.npz");
    auto r = run_command(cli_path() + " init --config " + golden_dir("clip_tiny") + "/case.json --seed 1 --out " +
                         checkpoint);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    videos = dir.file("videos");
    fs::create_directories(videos);
    for (int i = 0; i < 3; ++i) files.push_back(make_clip(videos, i));
    tokenizer = shared_dir() + "/assets/test_spm.model";
    db = dir.file("db");
    r = run_command(index_command(db, videos));
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  std::string index_command(const std::string& db_dir, const std::string& video_dir) const {
    return cli_path() + " index --dtype f32 --checkpoint " + checkpoint + " --frames 4 --size 24 --windows 2 --tokenizer " +
           tokenizer + " --db " + db_dir + " " + video_dir;
  }
  static std::string make_clip(const std::string& dir, int i) {
    VideoWriterOptions options;
    options.fps = 12;
    const std::string path = dir + "/clip" + std::to_string(i) + ".mkv";
    write_video(path, square_clip(36, 32, kColors[static_cast<size_t>(i) % kColors.size()], i * 5), options);
    return fs::weakly_canonical(path).string();
  }
};

ServeWorld& world() {
  static ServeWorld w;
  return w;
}

// A VideoServer on an ephemeral loopback port, run on its own thread.
class RunningServer {
 public:
  explicit RunningServer(ServeOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.cache_dir.empty()) options.cache_dir = cache_.path();
    options.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_ += line + "\n";
    };
    server_ = std::make_unique<VideoServer>(options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  std::string cache_dir() const { return cache_.path(); }
  std::string log() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
  }

 private:
  TempDir cache_;
  std::unique_ptr<VideoServer> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex log_mutex_;
  std::string log_;
};

ServeOptions options_for(const std::string& db) {
  ServeOptions o;
  o.db = db;
  o.poll_interval_s = 0.1;
  o.max_upload_bytes = 256 * 1024;
  o.threads = 4;
  return o;
}

RunningServer& shared_server() {
  static RunningServer server(options_for(world().db));
  return server;
}

json get_json(httplib::Client& c, const std::string& path, int expected_status = 200) {
  auto res = c.Get(path.c_str());
  EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
  if (!res) return {};
  EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
  EXPECT_NE(res->get_header_value("Content-Type").find("application/json"), std::string::npos) << path;
  return json::parse(res->body, nullptr, false);
}

json last_json(const std::string& output) {
  size_t end = output.size();
  while (end > 0) {
    size_t begin = output.rfind('\n', end - 1);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::string line = output.substr(begin, end - begin);
    if (!line.empty() && (line[0] == '[' || line[0] == '{')) return json::parse(line);
    if (begin == 0) break;
    end = begin - 1;
  }
  ADD_FAILURE() << "no JSON in: " << output;
  return {};
}

std::string url_encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c)) out += static_cast<char>(c);
    else std::snprintf(buf, sizeof(buf), "%%%02X", c), out += buf;
  }
  return out;
}

TEST(Serve, TextSearchRanksLikeTheCli) {
  auto& w = world();
  auto c = shared_server().client();
  for (const std::string query : {"a red square", "green", "something moving to the right"}) {
    auto r = run_command(cli_path() + " search --db " + w.db + " '" + query + "' -k 6 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    json expected = last_json(r.output);
    ASSERT_EQ(expected.size(), 6u);
    for (bool cached : {false, true}) {
      json got = get_json(c, "/api/search?q=" + url_encode(query) + "&k=6");
      ASSERT_EQ(got["hits"].size(), expected.size()) << got.dump();
      EXPECT_EQ(got["cached"].get<bool>(), cached) << query;
      for (size_t i = 0; i < expected.size(); ++i) {
        const json& e = expected[i];
        const json& h = got["hits"][i];
        EXPECT_EQ(h["name"], fs::path(e["path"].get<std::string>()).filename().string()) << query << " #" << i;
        EXPECT_EQ(h["window"], e["window"]) << query << " #" << i;
        EXPECT_NEAR(h["start_s"].get<double>(), e["start_s"].get<double>(), 1e-9);
        EXPECT_NEAR(h["score"].get<double>(), e["score"].get<double>(), 1e-6) << query << " #" << i;
        EXPECT_EQ(h["rank"], i + 1);
      }
    }
  }
}

TEST(Serve, MoreLikeThisReturnsTheWindowItselfFirst) {
  auto c = shared_server().client();
  json videos = get_json(c, "/api/videos?offset=0&limit=100");
  ASSERT_EQ(videos["total"], 3);
  int windows = 0;
  for (const auto& v : videos["videos"]) {
    ASSERT_EQ(v["windows"].size(), 2u);
    for (const auto& win : v["windows"]) {
      const int64_t id = win["window_id"];
      json got = get_json(c, "/api/similar?window=" + std::to_string(id) + "&k=4");
      ASSERT_EQ(got["hits"].size(), 4u);
      EXPECT_EQ(got["hits"][0]["window_id"], id);
      EXPECT_EQ(got["hits"][0]["name"], v["name"]);
      EXPECT_NEAR(got["hits"][0]["score"].get<double>(), 1.0, 1e-4);
      EXPECT_GE(got["hits"][0]["score"].get<double>(), got["hits"][1]["score"].get<double>());
      ++windows;
    }
  }
  EXPECT_EQ(windows, 6);
  // Paging: offset and limit.
  json page = get_json(c, "/api/videos?offset=1&limit=1");
  ASSERT_EQ(page["videos"].size(), 1u);
  EXPECT_EQ(page["videos"][0]["name"], videos["videos"][1]["name"]);
  EXPECT_EQ(get_json(c, "/api/videos?offset=5&limit=10")["videos"].size(), 0u);
}

TEST(Serve, RangeRequestsReturnTheRightBytes) {
  auto& w = world();
  auto c = shared_server().client();
  json videos = get_json(c, "/api/videos");
  const int64_t file_id = videos["videos"][0]["file_id"];
  const std::string bytes = read_bytes(w.files[0]);
  ASSERT_GT(bytes.size(), 200u);
  const std::string url = "/api/media/" + std::to_string(file_id);
  auto whole = c.Get(url.c_str());
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, bytes);
  EXPECT_EQ(whole->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_EQ(whole->get_header_value("Content-Type"), "video/x-matroska");
  auto part = c.Get(url.c_str(), {{"Range", "bytes=10-99"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, bytes.substr(10, 90));
  EXPECT_EQ(part->get_header_value("Content-Range"), "bytes 10-99/" + std::to_string(bytes.size()));
  auto tail = c.Get(url.c_str(), {{"Range", "bytes=-16"}});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, bytes.substr(bytes.size() - 16));
  auto open = c.Get(url.c_str(), {{"Range", "bytes=" + std::to_string(bytes.size() - 5) + "-"}});
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 206);
  EXPECT_EQ(open->body, bytes.substr(bytes.size() - 5));
  auto beyond = c.Get(url.c_str(), {{"Range", "bytes=" + std::to_string(bytes.size() + 10) + "-"}});
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 416);
  EXPECT_TRUE(json::parse(beyond->body, nullptr, false).contains("error")) << beyond->body;
  auto backwards = c.Get(url.c_str(), {{"Range", "bytes=50-20"}});
  ASSERT_TRUE(backwards);
  EXPECT_GE(backwards->status, 400);
  // Ranges on JSON endpoints and on errors are ignored, never a crash.
  for (const std::string path : {"/api/health", "/api/media/987654321", "/api/search?q=red&k=0"}) {
    auto res = c.Get(path.c_str(), {{"Range", "bytes=100000-"}});
    ASSERT_TRUE(res) << path;
    EXPECT_FALSE(json::parse(res->body, nullptr, false).is_discarded()) << path << ": " << res->body;
  }
  EXPECT_EQ(get_json(c, "/api/health")["status"], "ok");
}

TEST(Serve, UnknownIdsGive404) {
  auto c = shared_server().client();
  for (const std::string path : {"/api/thumb/987654321", "/api/media/987654321", "/api/preview/987654321",
                                 "/api/similar?window=987654321", "/api/nothing", "/nothing.html"}) {
    json body = get_json(c, path, 404);
    EXPECT_TRUE(body.contains("error")) << path << ": " << body.dump();
    EXPECT_FALSE(body["error"].get<std::string>().empty());
  }
  json bad = get_json(c, "/api/thumb/abc", 400);
  EXPECT_NE(bad["error"].get<std::string>().find("window id"), std::string::npos) << bad.dump();
}

TEST(Serve, TraversalAttemptsAreRefused) {
  auto& w = world();
  auto c = shared_server().client();
  const std::string video_bytes = read_bytes(w.files[0]).substr(0, 64);
  for (const std::string path :
       {"/api/media/../../../../etc/passwd", "/api/media/..%2f..%2f..%2fetc%2fpasswd",
        "/api/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/media/%252e%252e%252fetc%252fpasswd",
        "/api/media//etc/passwd", "/api/media/%2Fetc%2Fpasswd", "/api/thumb/1/../../../../etc/passwd",
        "/api/preview/..%5c..%5cetc%5cpasswd", "/../../../../etc/passwd", "/api/media/1%00.mkv",
        "/api/media/1/..%2f..%2fclip0.mkv"}) {
    auto res = c.Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_GE(res->status, 400) << path;
    EXPECT_LT(res->status, 500) << path;
    EXPECT_EQ(res->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(res->body.find(video_bytes), std::string::npos) << path;
  }
  // An absolute path of an indexed file is not an id either.
  auto res = c.Get(("/api/media/" + url_encode(w.files[0])).c_str());
  ASSERT_TRUE(res);
  EXPECT_GE(res->status, 400);
  EXPECT_EQ(res->body.find(video_bytes), std::string::npos);
  res = c.Get(("/api/media" + w.files[0]).c_str());
  ASSERT_TRUE(res);
  EXPECT_GE(res->status, 400);
  EXPECT_EQ(res->body.find(video_bytes), std::string::npos);
}

TEST(Serve, UploadsSearchByExampleAndOversizedOnesGet413) {
  auto& w = world();
  RunningServer& server = shared_server();
  auto c = server.client();
  // Raw body and multipart: the uploaded clip finds itself first, as `search --like`.
  auto r = run_command(cli_path() + " search --db " + w.db + " --like " + w.files[1] + " -k 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json expected = last_json(r.output);
  const std::string clip = read_bytes(w.files[1]);
  auto raw = c.Post("/api/search/video?k=3", clip, "application/octet-stream");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  httplib::MultipartFormDataItems form = {{"video", clip, "clip1.mkv", "video/x-matroska"}};
  auto multi = c.Post("/api/search/video?k=3", form);
  ASSERT_TRUE(multi);
  ASSERT_EQ(multi->status, 200) << multi->body;
  for (const std::string* body : {&raw->body, &multi->body}) {
    json got = json::parse(*body);
    ASSERT_EQ(got["hits"].size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(got["hits"][i]["name"], fs::path(expected[i]["path"].get<std::string>()).filename().string());
      EXPECT_EQ(got["hits"][i]["window"], expected[i]["window"]);
      EXPECT_NEAR(got["hits"][i]["score"].get<double>(), expected[i]["score"].get<double>(), 1e-5);
    }
  }
  // Over the 256 KiB limit: 413 with a JSON error.
  auto big = c.Post("/api/search/video", std::string(600 * 1024, 'x'), "application/octet-stream");
  ASSERT_TRUE(big) << httplib::to_string(big.error());
  EXPECT_EQ(big->status, 413) << big->body;
  EXPECT_NE(json::parse(big->body)["error"].get<std::string>().find("limit"), std::string::npos) << big->body;
  httplib::MultipartFormDataItems big_form = {{"video", std::string(600 * 1024, 'x'), "big.mkv", "video/x-matroska"}};
  auto big_multi = c.Post("/api/search/video", big_form);
  ASSERT_TRUE(big_multi);
  EXPECT_EQ(big_multi->status, 413) << big_multi->body;
  // Not a video: 422; nothing: 400.
  auto junk = c.Post("/api/search/video", std::string(1000, 'j'), "application/octet-stream");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->status, 422) << junk->body;
  EXPECT_NE(json::parse(junk->body)["error"].get<std::string>().find("upload"), std::string::npos);
  auto empty = c.Post("/api/search/video", std::string(), "application/octet-stream");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400) << empty->body;
  // Every temporary upload file is gone.
  int left = 0;
  for (const auto& entry : fs::directory_iterator(server.cache_dir() + "/uploads")) left += entry.is_regular_file();
  EXPECT_EQ(left, 0);
  // The server is still there.
  EXPECT_EQ(get_json(c, "/api/health")["status"], "ok");
}

TEST(Serve, TokenIsRequiredWhenSet) {
  ServeOptions o = options_for(world().db);
  o.token = "s3cret-token";
  RunningServer server(o);
  auto c = server.client();
  json missing = get_json(c, "/api/health", 401);
  EXPECT_NE(missing["error"].get<std::string>().find("token"), std::string::npos);
  json missing_search = get_json(c, "/api/search?q=red", 401);
  EXPECT_TRUE(missing_search.contains("error"));
  auto wrong = c.Get("/api/health", {{"Authorization", "Bearer s3cret-tokeN"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(c.Get("/api/videos?access_token=nope")->status, 401);
  EXPECT_EQ(c.Get("/api/media/1", {{"Authorization", "Basic czNjcmV0LXRva2Vu"}})->status, 401);
  auto right = c.Get("/api/health", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(c.Get("/api/videos?access_token=s3cret-token")->status, 200);
  // The page itself holds no data and loads without the token.
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<video"), std::string::npos);
}

TEST(Serve, MalformedRequestsGet4xxNotACrash) {
  auto c = shared_server().client();
  for (const std::string path : {"/api/search?q=red&k=abc", "/api/search?q=red&k=0", "/api/search?q=red&k=100000",
                                 "/api/search?q=red&k=-3", "/api/search?q=red&k=1e3", "/api/search", "/api/search?q=",
                                 "/api/search?q=%20%20", "/api/similar", "/api/similar?window=x",
                                 "/api/videos?offset=-1", "/api/videos?limit=0", "/api/videos?limit=9999999999999999999999"}) {
    json body = get_json(c, path, 400);
    EXPECT_TRUE(body.contains("error")) << path;
  }
  // Garbage on the socket: a 4xx or a closed connection, and the server lives on.
  for (const std::string garbage : {std::string("GARBAGE\r\n\r\n"), std::string("GET /api/health HTTP/9\r\n\r\n"),
                                    std::string("GET ") + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
                                    std::string("\x00\x01\x02\xff\r\n\r\n", 8)}) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(shared_server().port()));
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_GT(send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL), 0);
    char buf[512] = {0};
    const ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    if (n > 0) {
      const std::string reply(buf, static_cast<size_t>(n));
      EXPECT_EQ(reply.rfind("HTTP/1.1 4", 0), 0u) << reply;
    }
  }
  EXPECT_EQ(get_json(c, "/api/health")["status"], "ok");
}

TEST(Serve, ThumbnailsAndPreviewsShowTheWindow) {
  auto c = shared_server().client();
  json hit = get_json(c, "/api/search?q=red&k=1")["hits"][0];
  EXPECT_FALSE(hit["playable"].get<bool>());  // FFV1 in .mkv: a preview is needed
  auto thumb = c.Get(hit["thumb_url"].get<std::string>().c_str());
  ASSERT_TRUE(thumb);
  ASSERT_EQ(thumb->status, 200) << thumb->body;
  EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/jpeg");
  ASSERT_GT(thumb->body.size(), 100u);
  EXPECT_EQ(static_cast<unsigned char>(thumb->body[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(thumb->body[1]), 0xD8);
  auto preview = c.Get(hit["preview_url"].get<std::string>().c_str());
  ASSERT_TRUE(preview);
  ASSERT_EQ(preview->status, 200) << preview->body;
  EXPECT_EQ(preview->get_header_value("Content-Type"), "video/mp4");
  EXPECT_EQ(preview->body.substr(4, 4), "ftyp");
  auto part = c.Get(hit["preview_url"].get<std::string>().c_str(), {{"Range", "bytes=0-7"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, preview->body.substr(0, 8));
  // The preview holds the window's frames (36 frames at 12 fps: 18 per window), in H.264.
  TempDir out;
  const std::string file = out.file("preview.mp4");
  std::ofstream(file, std::ios::binary) << preview->body;
  VideoInfo info = probe_video(file);
  EXPECT_EQ(info.codec, "h264");
  EXPECT_EQ(info.num_frames, 18);
  EXPECT_NEAR(info.duration_s, hit["end_s"].get<double>() - hit["start_s"].get<double>(), 0.1);
  // Cached: the second request makes nothing new.
  json before = get_json(c, "/api/health")["made"];
  ASSERT_EQ(c.Get(hit["preview_url"].get<std::string>().c_str())->status, 200);
  ASSERT_EQ(c.Get(hit["thumb_url"].get<std::string>().c_str())->status, 200);
  EXPECT_EQ(get_json(c, "/api/health")["made"], before);
}

TEST(Serve, ReindexWhileServingSwitchesGenerationsWithoutAFailedRequest) {
  auto& w = world();
  TempDir work;
  const std::string videos = work.file("videos"), db = work.file("db");
  fs::create_directories(videos);
  for (const auto& f : w.files) fs::copy_file(f, videos + "/" + fs::path(f).filename().string());
  auto r = run_command(w.index_command(db, videos));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  RunningServer server(options_for(db));
  auto c = server.client();
  const std::string first = get_json(c, "/api/health")["generation"];

  std::atomic<bool> done{false};
  std::atomic<int> requests{0}, failures{0};
  std::mutex mutex;
  std::set<int64_t> totals_seen;
  std::string failure;
  auto client_loop = [&](int which) {
    auto cc = server.client();
    int i = 0;
    while (!done) {
      std::string path = which == 0 ? "/api/search?q=" + url_encode("square " + std::to_string(i % 7)) + "&k=5"
                                    : "/api/videos?limit=100";
      auto res = cc.Get(path.c_str());
      ++requests;
      if (!res || res->status != 200) {
        ++failures;
        std::lock_guard<std::mutex> lock(mutex);
        failure = path + ": " + (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error()));
        continue;
      }
      json body = json::parse(res->body);
      if (which == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        totals_seen.insert(body["total"].get<int64_t>());
        // Each listed window resolves to a thumbnail.
      } else if (!body["hits"].empty()) {
        auto sim = cc.Get(("/api/similar?window=" + std::to_string(body["hits"][0]["window_id"].get<int64_t>()) +
                           "&k=3").c_str());
        ++requests;
        if (!sim || sim->status != 200) {
          ++failures;
          std::lock_guard<std::mutex> lock(mutex);
          failure = "similar: " + (sim ? std::to_string(sim->status) + " " + sim->body : std::string("no reply"));
        }
      }
      ++i;
    }
  };
  std::thread a(client_loop, 0), b(client_loop, 1);
  // Two new clips, indexed while the clients run.
  ServeWorld::make_clip(videos, 3);
  ServeWorld::make_clip(videos, 4);
  r = run_command(w.index_command(db, videos));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The server notices the new generation within a few polls.
  json health;
  for (int i = 0; i < 100; ++i) {
    health = get_json(c, "/api/health");
    if (health["generation"] != first && health["files"] == 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const int before_stop = requests;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  done = true;
  a.join();
  b.join();
  EXPECT_NE(health["generation"], first) << health.dump();
  EXPECT_EQ(health["files"], 5);
  EXPECT_EQ(health["windows"], 10);
  EXPECT_GE(health["switches"].get<int>(), 1);
  EXPECT_EQ(failures.load(), 0) << failure;
  EXPECT_GT(before_stop, 10);
  // Only complete generations were served: 3 files, then 5, never the 4 in between.
  for (int64_t total : totals_seen) EXPECT_TRUE(total == 3 || total == 5) << total;
  EXPECT_TRUE(totals_seen.count(5)) << "the new generation was never listed";
  // The new clips are searchable.
  json videos_now = get_json(c, "/api/videos?limit=100");
  std::set<std::string> names;
  for (const auto& v : videos_now["videos"]) names.insert(v["name"]);
  EXPECT_TRUE(names.count("clip3.mkv") && names.count("clip4.mkv"));
  EXPECT_NE(server.log().find("now serving generation"), std::string::npos) << server.log();
}

TEST(Serve, CliRefusesBadSetupsWithOneLine) {
  auto r = run_command(cli_path() + " serve --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("Example"), std::string::npos);
  TempDir empty;
  r = run_command(cli_path() + " serve --db " + empty.file("none") + " --port 0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no index"), std::string::npos) << r.output;
  // A public address warns before anything else happens.
  r = run_command(cli_path() + " serve --db " + empty.file("none") + " --host 0.0.0.0 --port 0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("warning"), std::string::npos) << r.output;
  EXPECT_FALSE(is_public_host("127.0.0.1"));
  EXPECT_FALSE(is_public_host("::1"));
  EXPECT_TRUE(is_public_host("0.0.0.0"));
}

}  // namespace
}  // namespace videoprism::testing
