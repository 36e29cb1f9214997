// The typed library errors front-ends map (FileNotFound, InvalidArgument; the
// Python binding raises FileNotFoundError / ValueError) and the index build's
// stop request (IndexBuildOptions::on_progress), which the binding uses for Ctrl-C.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"
#include "videoprism/media/tokenizer.h"
#include "videoprism/media/video_reader.h"

namespace videoprism {
namespace {

using testing::golden_dir;
using testing::shared_dir;

TEST(ErrorKinds, MissingFilesAreFileNotFound) {
  testing::TempDir tmp;
  const std::string missing = tmp.file("missing.npz");
  EXPECT_THROW(load_npz(missing), FileNotFound);
  EXPECT_THROW(Model::load(missing), FileNotFound);
  EXPECT_THROW(load_config_file(tmp.file("case.json")), FileNotFound);
  EXPECT_THROW(Tokenizer(tmp.file("x.model")), FileNotFound);
  EXPECT_THROW(read_clips(tmp.file("x.mp4")), FileNotFound);
  try {
    load_npz(missing);
  } catch (const FileNotFound& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST(ErrorKinds, CorruptFilesAreNeitherKind) {
  testing::TempDir tmp;
  const std::string path = tmp.file("bad.npz");
  { std::ofstream(path) << "not a zip"; }
  try {
    load_npz(path);
    FAIL() << "no error";
  } catch (const FileNotFound&) {
    FAIL() << "a corrupt file is not a missing file";
  } catch (const InvalidArgument&) {
    FAIL() << "a corrupt file is not a bad argument";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a readable zip"), std::string::npos) << e.what();
  }
}

TEST(ErrorKinds, BadShapesAreInvalidArgument) {
  const std::string dir = golden_dir("clip_tiny");
  ModelConfig config = load_config_file(dir + "/case.json");
  Model model = Model::load(dir + "/params.npz", &config);
  EXPECT_THROW(model.forward({{"inputs", torch::zeros({1, 4, 24, 24})}}), InvalidArgument);
  EXPECT_THROW(model.forward({{"inputs", torch::zeros({1, 4, 25, 25, 3})}}), InvalidArgument);
  EXPECT_THROW(model.forward({{"inputs", torch::zeros({1, 4, 24, 24, 3})}, {"frame_paddings", torch::zeros({1, 3})}}),
               InvalidArgument);
  EXPECT_THROW(parse_dtype("f16"), InvalidArgument);
  EXPECT_THROW(parse_crop_mode("diagonal"), InvalidArgument);
}

TEST(IndexBuild, OnProgressStopKeepsFinishedFiles) {
  testing::TempDir tmp;
  std::vector<std::string> videos;
  for (const char* name : {"a.mp4", "b.mp4", "c.mp4"}) {
    videos.push_back(tmp.file(name));
    std::filesystem::copy_file(shared_dir() + "/assets/water_bottle_drumming.mp4", videos.back());
  }
  IndexBuildOptions options;
  options.checkpoint = golden_dir("clip_tiny") + "/params.npz";
  options.frames = 4;
  options.size = 24;
  options.progress = false;
  std::vector<int64_t> seen;
  options.on_progress = [&](const IndexProgress& p) {
    seen.push_back(p.done);
    EXPECT_EQ(p.total, 3);
    return p.done < 2;  // stop after the second file
  };
  auto no_errors = [](const std::string& path, const std::string& message) { ADD_FAILURE() << path << ": " << message; };
  IndexBuildReport report = build_index(tmp.file("db"), videos, options, no_errors);
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(report.embedded, 2);
  EXPECT_EQ(report.files, 2);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  options.on_progress = nullptr;
  report = build_index(tmp.file("db"), videos, options, no_errors);  // resumes
  EXPECT_FALSE(report.interrupted);
  EXPECT_EQ(report.skipped, 2);
  EXPECT_EQ(report.embedded, 1);
  EXPECT_EQ(report.files, 3);
}

}  // namespace
}  // namespace videoprism
