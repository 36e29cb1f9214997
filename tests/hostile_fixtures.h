// Fixtures for the hostile-input, index-repair, fault-injection and kill
// tests: a tiny random video-text checkpoint, a few generated videos, the
// test tokenizer, and helpers to run the CLI and judge its failure.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/media/video_writer.h"

namespace videoprism::testing {

// A square moving over a dark background: uint8 [T, S, S, 3].
inline torch::Tensor hostile_square_video(int frames, int size, int phase) {
  auto video = torch::full({frames, size, size, 3}, 20, torch::kUInt8);
  const int side = size / 4;
  for (int t = 0; t < frames; ++t) {
    const int x = (t * 2 + phase) % (size - side), y = (t + 2 * phase) % (size - side);
    video[t].slice(0, y, y + side).slice(1, x, x + side).fill_(200 - 40 * phase);
  }
  return video;
}

struct HostileWorld {
  TempDir dir;
  std::string checkpoint, videos, tokenizer;
  std::vector<std::string> files;
  HostileWorld() {
    checkpoint = dir.file("tiny.npz");
    auto r = run_command(cli_path() + " init --config " + golden_dir("clip_tiny") + "/case.json --seed 1 --out " +
                         checkpoint);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    videos = dir.file("videos");
    std::filesystem::create_directories(videos);
    VideoWriterOptions options;
    options.fps = 12;
    for (int i = 0; i < 3; ++i) {
      files.push_back(videos + "/clip" + std::to_string(i) + ".mkv");
      write_video(files.back(), hostile_square_video(16, 32, i), options);
    }
    tokenizer = shared_dir() + "/assets/test_spm.model";
  }
};

inline HostileWorld& hostile_world() {
  static HostileWorld w;
  return w;
}

// " --checkpoint tiny.npz --frames 4 --size 24 "
inline std::string tiny_args() { return " --checkpoint " + hostile_world().checkpoint + " --frames 4 --size 24 "; }

// Runs the CLI (arguments appended) and returns its exit code and output.
inline CommandResult cli(const std::string& args) { return run_command(cli_path() + " " + args); }

// A clean failure: exit code 1 (not a signal, not CLI11's usage codes), and
// the output's last non-empty line is the "videoprism: ..." error that
// contains `expected` (the file, key or argument and what was wrong).
inline ::testing::AssertionResult fails_cleanly(const CommandResult& r, const std::string& expected) {
  if (r.exit_code != 1) return ::testing::AssertionFailure() << "exit code " << r.exit_code << ", output:\n" << r.output;
  std::string last;
  size_t begin = 0;
  while (begin < r.output.size()) {
    size_t end = r.output.find('\n', begin);
    if (end == std::string::npos) end = r.output.size();
    if (end > begin) last = r.output.substr(begin, end - begin);
    begin = end + 1;
  }
  if (last.rfind("videoprism: ", 0) != 0)
    return ::testing::AssertionFailure() << "last line is not a videoprism error: " << r.output;
  if (last.find(expected) == std::string::npos)
    return ::testing::AssertionFailure() << "error does not mention '" << expected << "': " << last;
  return ::testing::AssertionSuccess();
}

// Regular files under dir whose name contains ".tmp." (leftovers of a write).
inline std::vector<std::string> temp_leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  return out;
}

inline std::vector<std::string> split_output_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// The last line of the output that is a JSON object or array, parsed.
inline nlohmann::json last_json(const std::string& text) {
  auto lines = split_output_lines(text);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (!it->empty() && ((*it)[0] == '{' || (*it)[0] == '[')) return nlohmann::json::parse(*it);
  ADD_FAILURE() << "no JSON in: " << text;
  return {};
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace videoprism::testing
