// Bad checkpoints and bad inputs end in videoprism::Error in the library and,
// through the CLI, in exactly one line on stderr and exit code 1: never a
// crash, an abort or a libtorch backtrace.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kKey = "params/spatial_encoder/transformers_stack/x_layers/ff_layer/ffn_layer1/linear/kernel";

std::string encoder_dir() { return testing::golden_dir("encoder_tiny"); }
std::string clip_dir() { return testing::golden_dir("clip_tiny"); }

// The golden encoder's arrays with `edit` applied, written to `path`.
template <typename Edit>
std::string write_checkpoint(const TempDir& dir, const std::string& name, Edit edit) {
  auto arrays = load_npz(encoder_dir() + "/params.npz");
  edit(arrays);
  std::vector<std::pair<std::string, torch::Tensor>> list(arrays.begin(), arrays.end());
  const std::string path = dir.file(name);
  save_npz(path, list);
  return path;
}

std::string truncated(const TempDir& dir) {
  const std::string path = dir.file("truncated.npz");
  fs::copy_file(encoder_dir() + "/params.npz", path);
  fs::resize_file(path, fs::file_size(path) / 2);
  return path;
}

std::string corrupt(const TempDir& dir) {
  const std::string path = dir.file("corrupt.npz");
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 2654435761u) >> 13));
  return path;
}

std::string missing_key(const TempDir& d) {
  return write_checkpoint(d, "missing.npz", [](auto& a) { a.erase(kKey); });
}
std::string extra_key(const TempDir& d) {
  return write_checkpoint(d, "extra.npz", [](auto& a) { a["params/spatial_encoder/bogus"] = torch::zeros({3}); });
}
std::string wrong_shape(const TempDir& d) {
  return write_checkpoint(d, "shape.npz", [](auto& a) { a[kKey] = torch::zeros({2, 48, 95}); });
}
std::string wrong_dtype(const TempDir& d) {
  return write_checkpoint(d, "dtype.npz", [](auto& a) { a[kKey] = a[kKey].to(torch::kFloat64); });
}

struct CliResult {
  int exit_code;
  std::string stdout_text;
  std::vector<std::string> stderr_lines;
  std::string all;
};

CliResult run_cli(const std::string& args, const TempDir& dir) {
  const std::string err = dir.file("stderr.txt");
  auto r = testing::run_command("{ " + testing::cli_path() + " " + args + " 2>" + err + "; }");
  CliResult result{r.exit_code, r.output, {}, r.output};
  std::ifstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    result.all += line + "\n";
    if (!line.empty()) result.stderr_lines.push_back(line);
  }
  return result;
}

void expect_clean_failure(const CliResult& r, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.exit_code, 1) << r.all;
  for (const char* bad : {"terminate", "Segmentation", "Aborted", "core dumped", "Exception raised from"}) {
    EXPECT_EQ(r.all.find(bad), std::string::npos) << r.all;
  }
  ASSERT_EQ(r.stderr_lines.size(), 1u) << r.all;
  for (const auto& m : mentions) EXPECT_NE(r.stderr_lines[0].find(m), std::string::npos) << m << " in: " << r.all;
}

std::string forward_args(const std::string& case_dir, const std::string& checkpoint, const std::string& inputs,
                         const TempDir& dir) {
  return "forward --config " + case_dir + "/case.json --checkpoint " + checkpoint + " --inputs " + inputs +
         " --out " + dir.file("out.npz");
}

std::string file_name(const std::string& path) { return fs::path(path).filename().string(); }

// One-line videoprism::Error whose message names every `mentions`.
template <typename Fn>
void expect_error(Fn fn, const std::vector<std::string>& mentions) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const auto& m : mentions) EXPECT_NE(what.find(m), std::string::npos) << m << " in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a videoprism::Error: " << e.what();
  }
}

TEST(ModelErrors, CliSucceedsOnTheGoldenCase) {
  TempDir dir;
  auto r = run_cli(forward_args(encoder_dir(), encoder_dir() + "/params.npz", encoder_dir() + "/io.npz", dir), dir);
  EXPECT_EQ(r.exit_code, 0) << r.all;
  EXPECT_TRUE(fs::exists(dir.file("out.npz")));
}

TEST(ModelErrors, CliBadCheckpoints) {
  TempDir dir;
  const std::string io = encoder_dir() + "/io.npz";
  struct Case {
    std::string path;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {truncated(dir), {"truncated.npz"}},
      {corrupt(dir), {"corrupt.npz"}},
      {missing_key(dir), {"missing.npz", kKey}},
      {extra_key(dir), {"extra.npz", "params/spatial_encoder/bogus"}},
      {wrong_shape(dir), {"shape.npz", kKey, "[2,48,95]", "[2,48,96]"}},
      {wrong_dtype(dir), {"dtype.npz", kKey, "f8"}},
      {dir.file("absent.npz"), {"absent.npz"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    expect_clean_failure(run_cli(forward_args(encoder_dir(), c.path, io, dir), dir), c.mentions);
    // Without --config the model is detected from the file; still a clean failure.
    expect_clean_failure(
        run_cli("forward --checkpoint " + c.path + " --inputs " + io + " --out " + dir.file("o.npz"), dir),
        {file_name(c.path)});
  }
  for (const auto& path : {cases[0].path, cases[1].path, cases[6].path}) {
    SCOPED_TRACE("info " + path);
    expect_clean_failure(run_cli("info " + path, dir), {file_name(path)});
  }
  const std::string no_projection =
      write_checkpoint(dir, "noproj.npz", [](auto& a) { a.erase("params/patch_projection/linear/kernel"); });
  expect_clean_failure(run_cli("info " + no_projection, dir), {"noproj.npz", "patch_projection"});
}

TEST(ModelErrors, CliBadInputs) {
  TempDir dir;
  const std::string video = dir.file("video.npz");
  save_npz(video, {{"inputs", torch::rand({2, 4, 25, 25, 3})}});
  expect_clean_failure(run_cli(forward_args(encoder_dir(), encoder_dir() + "/params.npz", video, dir), dir),
                       {"inputs", "25"});
  const std::string text = dir.file("text.npz");
  save_npz(text, {{"text_token_ids", torch::full({2, 16}, 5000, torch::kInt32)}, {"text_paddings", torch::zeros({2, 16})}});
  expect_clean_failure(run_cli(forward_args(clip_dir(), clip_dir() + "/params.npz", text, dir), dir),
                       {"text_token_ids", "5000"});
  const std::string absent = dir.file("no_inputs.npz");
  expect_clean_failure(run_cli(forward_args(encoder_dir(), encoder_dir() + "/params.npz", absent, dir), dir),
                       {"no_inputs.npz"});
}

TEST(ModelErrors, LibraryBadCheckpoints) {
  TempDir dir;
  const ModelConfig config = load_config_file(encoder_dir() + "/case.json");
  expect_error([&] { Model::load(truncated(dir), &config); }, {"truncated.npz"});
  expect_error([&] { Model::load(dir.file("truncated.npz")); }, {"truncated.npz"});
  expect_error([&] { Model::load(corrupt(dir), &config); }, {"corrupt.npz"});
  expect_error([&] { Model::load(dir.file("corrupt.npz")); }, {"corrupt.npz"});
  expect_error([&] { Model::load(missing_key(dir), &config); }, {"missing.npz", kKey});
  expect_error([&] { Model::load(extra_key(dir), &config); }, {"extra.npz", "params/spatial_encoder/bogus"});
  expect_error([&] { Model::load(wrong_shape(dir), &config); }, {"shape.npz", kKey, "[2,48,95]"});
  expect_error([&] { Model::load(wrong_dtype(dir), &config); }, {"dtype.npz", kKey});
  expect_error([&] { Model::load(dir.file("absent.npz"), &config); }, {"absent.npz"});
  expect_error([&] { detect_config(dir.file("absent.npz")); }, {"absent.npz"});
  // A failed load_weights into an existing model also throws cleanly.
  Model model(config);
  expect_error([&] { model.load_weights(dir.file("shape.npz")); }, {kKey});
  EXPECT_THROW(load_npz(dir.file("truncated.npz")), Error);
  EXPECT_THROW(load_npz(dir.file("absent.npz")), Error);
}

TEST(ModelErrors, LibraryBadInputs) {
  Model encoder = Model::load(encoder_dir() + "/params.npz", nullptr);
  expect_error([&] { encoder.forward({{"inputs", torch::rand({2, 4, 25, 25, 3})}}); }, {"inputs"});
  expect_error([&] { encoder.forward({{"inputs", torch::rand({2, 4, 24, 24})}}); }, {"inputs"});
  expect_error([&] { encoder.forward({{"inputs", torch::rand({2, 4, 24, 24, 3})}, {"frame_paddings", torch::zeros({2, 3})}}); },
               {"frame_paddings"});
  expect_error([&] { encoder.forward({{"video", torch::rand({2, 4, 24, 24, 3})}}); }, {"video"});
  const ModelConfig clip_config = load_config_file(clip_dir() + "/case.json");
  Model clip = Model::load(clip_dir() + "/params.npz", &clip_config);
  expect_error([&] {
    clip.forward({{"text_token_ids", torch::full({2, 16}, 5000, torch::kInt32)}, {"text_paddings", torch::zeros({2, 16})}});
  }, {"text_token_ids", "5000"});
  expect_error([&] {
    clip.forward({{"text_token_ids", torch::full({2, 16}, -1, torch::kInt32)}, {"text_paddings", torch::zeros({2, 16})}});
  }, {"text_token_ids"});
  expect_error([&] { clip.forward({{"text_token_ids", torch::zeros({2, 16}, torch::kInt32)}}); }, {"text_paddings"});
}

}  // namespace
}  // namespace videoprism
