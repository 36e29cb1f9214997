// End-to-end tests of embed, classify, index and search on a tiny random
// video-text model, generated videos and the test SentencePiece model.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/core/npz.h"
#include "videoprism/apps/video_index.h"
#include "videoprism/media/video_writer.h"

namespace videoprism::testing {
namespace {

namespace fs = std::filesystem;

// A square of `color` moving diagonally over a dark background: uint8 [T, H, W, 3].
torch::Tensor moving_square(int frames, int size, std::array<uint8_t, 3> color, int phase) {
  auto video = torch::full({frames, size, size, 3}, 20, torch::kUInt8);
  const int side = size / 4;
  for (int t = 0; t < frames; ++t) {
    const int x = (t * 2 + phase) % (size - side), y = (t + 2 * phase) % (size - side);
    for (int c = 0; c < 3; ++c) video[t].slice(0, y, y + side).slice(1, x, x + side).select(2, c).fill_(color[c]);
  }
  return video;
}

// Shared fixtures: a tiny checkpoint and a directory of videos, made once.
struct World {
  TempDir dir;
  std::string checkpoint, other_checkpoint, videos, tokenizer, long_video;
  std::vector<std::string> files;
  World() {
    checkpoint = dir.file("tiny.npz");
    other_checkpoint = dir.file("tiny_other.npz");
    const std::string config = golden_dir("clip_tiny") + "/case.json";
    auto r = run_command(cli_path() + " init --config " + config + " --seed 1 --out " + checkpoint);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = run_command(cli_path() + " init --config " + config + " --seed 2 --out " + other_checkpoint);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    videos = dir.file("videos");
    fs::create_directories(videos);
    const std::vector<std::array<uint8_t, 3>> colors = {{230, 30, 30}, {30, 230, 30}, {30, 30, 230}};
    VideoWriterOptions options;
    options.fps = 12;
    for (size_t i = 0; i < colors.size(); ++i) {
      files.push_back(videos + "/clip" + std::to_string(i) + ".mkv");
      write_video(files.back(), moving_square(24, 32, colors[i], static_cast<int>(i) * 5), options);
    }
    long_video = dir.file("long.mkv");
    write_video(long_video, moving_square(480, 64, {200, 200, 40}, 3), options);
    tokenizer = shared_dir() + "/assets/test_spm.model";
  }
};

World& world() {
  static World w;
  return w;
}

std::string common() { return " --checkpoint " + world().checkpoint + " --frames 4 --size 24 --dtype f32 "; }

std::vector<std::string> split_lines(const std::string& bytes) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= bytes.size()) {
    size_t end = bytes.find('\n', begin);
    if (end == std::string::npos) end = bytes.size();
    out.push_back(bytes.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

nlohmann::json last_json_line(const std::string& output) {
  auto lines = split_lines(output);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (!it->empty() && ((*it)[0] == '{' || (*it)[0] == '[')) return nlohmann::json::parse(*it);
  ADD_FAILURE() << "no JSON in: " << output;
  return {};
}

TEST(App, HelpHasExamples) {
  for (const char* command : {"embed", "classify", "index", "search"}) {
    auto r = run_command(cli_path() + " " + command + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.output.find("Example"), std::string::npos) << command << ": " << r.output;
  }
}

TEST(App, EmbedShapesAndUnitNorms) {
  World& w = world();
  TempDir out;
  const std::string npz = out.file("emb.npz");
  auto r = run_command(cli_path() + " embed" + common() + "--windows 2 --batch 3 --tokens --frame-embeddings --tokenizer " +
                       w.tokenizer + " --text 'a red square' --text 'a blue square' " + w.files[0] + " " +
                       w.files[1] + " --out " + npz + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto arrays = load_npz(npz);
  const auto& v = arrays.at("video_embeddings");
  EXPECT_EQ(v.sizes().vec(), (std::vector<int64_t>{2, 2, 48}));
  EXPECT_LT((v.norm(2, -1) - 1).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(arrays.at("window_times").sizes().vec(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(arrays.at("tokens").sizes().vec(), (std::vector<int64_t>{2, 2, 4 * 16, 48}));
  EXPECT_EQ(arrays.at("frame_embeddings").sizes().vec(), (std::vector<int64_t>{2, 2, 4, 48}));
  const auto& t = arrays.at("text_embeddings");
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{2, 48}));
  EXPECT_LT((t.norm(2, -1) - 1).abs().max().item<double>(), 1e-4);
  // The two windows cover consecutive halves of the 2 s video.
  auto times = arrays.at("window_times");
  EXPECT_NEAR(times[0][0][0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(times[0][0][1].item<double>(), times[0][1][0].item<double>(), 1e-6);
  EXPECT_NEAR(times[0][1][1].item<double>(), 2.0, 0.1);
  // Batching does not change the result: one clip per forward gives the same embeddings.
  const std::string npz1 = out.file("emb1.npz");
  r = run_command(cli_path() + " embed" + common() + "--windows 2 --batch 1 " + w.files[0] + " " + w.files[1] +
                  " --out " + npz1);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(max_abs_diff(load_npz(npz1).at("video_embeddings"), v), 1e-4);
  // JSON lines output.
  const std::string jsonl = out.file("emb.jsonl");
  r = run_command(cli_path() + " embed" + common() + w.files[2] + " --out " + jsonl);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(jsonl);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["windows"][0]["embedding"].size(), 48u);
}

TEST(App, ClassifyProbabilitiesSumToOne) {
  World& w = world();
  auto r = run_command(cli_path() + " classify" + common() + "--tokenizer " + w.tokenizer +
                       " --labels 'red square,green square,blue square,cat' --templates kinetics -k 2 --json " +
                       w.files[0] + " " + w.files[2]);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int videos = 0;
  for (const auto& line : split_lines(r.output)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line);
    double sum = 0;
    for (auto& [label, p] : j["probabilities"].items()) sum += p.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_EQ(j["top"].size(), 2u);
    EXPECT_GE(j["top"][0]["probability"].get<double>(), j["top"][1]["probability"].get<double>());
    ++videos;
  }
  EXPECT_EQ(videos, 2);
  r = run_command(cli_path() + " classify" + common() + "--tokenizer " + w.tokenizer + " --labels a,b " + w.files[0]);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("%"), std::string::npos) << r.output;
}

TEST(App, IndexThenSearchFindsTheQueryVideoFirst) {
  World& w = world();
  TempDir db;
  auto r = run_command(cli_path() + " index" + common() + "--tokenizer " + w.tokenizer + " --db " + db.path() + " " +
                       w.videos + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto summary = last_json_line(r.output);
  EXPECT_EQ(summary["embedded"], 3);
  EXPECT_EQ(summary["vectors"], 3);
  for (const auto& query : w.files) {
    r = run_command(cli_path() + " search --dtype f32 --db " + db.path() + " --like " + query + " -k 3 --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto hits = last_json_line(r.output);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(hits[0]["path"], fs::weakly_canonical(query).string());
    EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0, 1e-3);
  }
  r = run_command(cli_path() + " search --dtype f32 --db " + db.path() + " 'a red square' -k 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(last_json_line(r.output).size(), 2u);
  // Another model is refused with a clear message.
  r = run_command(cli_path() + " search --dtype f32 --db " + db.path() + " --checkpoint " + w.other_checkpoint + " --like " +
                  w.files[0]);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("different model"), std::string::npos) << r.output;
  r = run_command(cli_path() + " index --checkpoint " + w.other_checkpoint + " --frames 4 --size 24 --db " +
                  db.path() + " " + w.videos);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("was built with"), std::string::npos) << r.output;
}

TEST(App, ReindexUnchangedDoesNoModelWorkAndTracksChanges) {
  World& w = world();
  TempDir work, db;
  for (const auto& f : w.files) fs::copy_file(f, work.file(fs::path(f).filename().string()));
  auto r = run_command(cli_path() + " index" + common() + "--db " + db.path() + " " + work.path() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cli_path() + " index" + common() + "--db " + db.path() + " " + work.path() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto s = last_json_line(r.output);
  EXPECT_EQ(s["embedded"], 0);
  EXPECT_EQ(s["skipped"], 3);
  // One file changes, one disappears.
  fs::remove(work.file("clip2.mkv"));
  write_video(work.file("clip1.mkv"), moving_square(30, 32, {250, 250, 250}, 1));
  r = run_command(cli_path() + " index" + common() + "--db " + db.path() + " " + work.path() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  s = last_json_line(r.output);
  EXPECT_EQ(s["embedded"], 1);
  EXPECT_EQ(s["skipped"], 1);
  EXPECT_EQ(s["removed"], 1);
  EXPECT_EQ(s["files"], 2);
}

TEST(App, CorruptFileIsReportedAndSkipped) {
  World& w = world();
  TempDir work, db;
  for (const auto& f : w.files) fs::copy_file(f, work.file(fs::path(f).filename().string()));
  { std::ofstream(work.file("broken.mp4")) << "this is not a video"; }
  auto r = run_command(cli_path() + " index" + common() + "--db " + db.path() + " " + work.path() + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("broken.mp4"), std::string::npos) << r.output;
  auto s = last_json_line(r.output);
  EXPECT_EQ(s["embedded"], 3);
  EXPECT_EQ(s["failed"], 1);
  const std::string npz = work.file("out.npz");
  r = run_command(cli_path() + " embed" + common() + w.files[0] + " " + work.file("broken.mp4") + " " + w.files[1] +
                  " --out " + npz);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("broken.mp4"), std::string::npos) << r.output;
  EXPECT_EQ(load_npz(npz).at("video_embeddings").size(0), 2);
}

// Killed index builds: test_kill_resume.cc (kill -9 at random moments, then resume).

// Peak RSS (MB) of a child running the CLI with these arguments.
double child_peak_rss_mb(const std::vector<std::string>& args, int* exit_code) {
  std::vector<std::string> argv_s = {cli_path()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return usage.ru_maxrss / 1024.0;
}

TEST(App, MemoryStaysFlatOverWindows) {
  World& w = world();
  TempDir out;
  std::map<int, double> rss;
  for (int windows : {2, 8, 32}) {
    int code = -1;
    rss[windows] = child_peak_rss_mb({"embed", "--checkpoint", w.checkpoint, "--frames", "4", "--size", "24",
                                      "--windows", std::to_string(windows), "--batch", "2", w.long_video, "--out",
                                      out.file("long" + std::to_string(windows) + ".npz")},
                                     &code);
    ASSERT_EQ(code, 0);
  }
  std::printf("peak RSS: windows 2 %.1f MB, 8 %.1f MB, 32 %.1f MB\n", rss[2], rss[8], rss[32]);
  EXPECT_LT(rss[32] - rss[2], 32.0);
}

}  // namespace
}  // namespace videoprism::testing
