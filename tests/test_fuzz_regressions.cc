// Inputs found by the fuzzers (fuzz/, docs/fuzzing.md), each once a crash or
// a raw library exception: now a one-line videoprism::Error naming the file
// and what was wrong. The same inputs are under fuzz/regressions/ and join
// the fuzzers' seed corpora.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_util.h"
#include "videoprism/core/config.h"
#include "videoprism/core/error.h"

namespace videoprism {
namespace {

using testing::TempDir;

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the videoprism::Error `fn` throws ("" when it throws none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// fuzz_model_config: a non-string "kind" escaped as nlohmann::type_error.
TEST(FuzzRegressions, ModelConfigKindNotAString) {
  TempDir dir;
  const std::string path = write_file(dir, "config.json",
                                      R"({"atten_logit_cap": 50.0, "kind": 2, "num_temporal_layers": 2, "scan": true})");
  const std::string message = error_of([&] { load_config_file(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'kind' expected a string"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace videoprism
