// Parity with the official Flax implementation on the golden fixtures
// (../shared/golden): every output array within 1e-4 (max abs), through the
// library and through `videoprism forward`; bf16 within cosine 0.999.
#include <gtest/gtest.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism {
namespace {

using testing::model_inputs;

using testing::golden_dir;

constexpr double kTolerance = 1e-4;  // ../shared/golden/README.md

class GoldenParity : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenParity, Float32LibraryMatchesReference) {
  const std::string dir = golden_dir(GetParam());
  ModelConfig config = load_config_file(dir + "/case.json");
  Model model = Model::load(dir + "/params.npz", &config);
  auto io = load_npz(dir + "/io.npz");
  TensorMap outputs = model.forward(model_inputs(io));
  int compared = 0;
  for (const auto& [name, expected] : io) {
    if (name == "inputs" || name == "frame_paddings" || name == "text_token_ids" || name == "text_paddings") continue;
    ASSERT_TRUE(outputs.count(name)) << "missing output " << name;
    ASSERT_EQ(outputs[name].sizes(), expected.sizes()) << name;
    double err = testing::max_abs_diff(outputs[name], expected);
    std::cout << "[parity f32] " << GetParam() << " " << name << " max|ours-ref| = " << err << "\n";
    EXPECT_LE(err, kTolerance) << name;
    ++compared;
  }
  EXPECT_GE(compared, 2);
}

TEST_P(GoldenParity, DetectedConfigMatchesCase) {
  const std::string dir = golden_dir(GetParam());
  ModelConfig from_case = load_config_file(dir + "/case.json");
  ModelConfig detected = detect_config(dir + "/params.npz");
  EXPECT_EQ(config_to_json(detected).dump(), config_to_json(from_case).dump());
}

TEST_P(GoldenParity, Bfloat16WithinCosineOfFloat32) {
  const std::string dir = golden_dir(GetParam());
  ModelConfig config = load_config_file(dir + "/case.json");
  Model model = Model::load(dir + "/params.npz", &config);
  auto io = load_npz(dir + "/io.npz");
  TensorMap f32 = model.forward(model_inputs(io));
  RunOptions bf16;
  bf16.dtype = torch::kBFloat16;
  TensorMap low = model.forward(model_inputs(io), bf16);
  for (const auto& [name, reference] : f32) {
    double cosine = testing::flat_cosine(low.at(name), reference);
    std::cout << "[parity bf16] " << GetParam() << " " << name << " cosine(bf16, f32) = " << cosine << "\n";
    EXPECT_GE(cosine, 0.999) << name;
  }
}

TEST_P(GoldenParity, CliForwardMatchesReference) {
  const std::string dir = golden_dir(GetParam());
  testing::TempDir tmp;
  const std::string out = tmp.file("out.npz");
  auto result = testing::run_command(testing::cli_path() + " forward --config " + dir + "/case.json --checkpoint " +
                                     dir + "/params.npz --inputs " + dir + "/io.npz --out " + out);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto ours = load_npz(out);
  auto io = load_npz(dir + "/io.npz");
  for (const auto& [name, expected] : io) {
    if (name == "inputs" || name == "text_token_ids" || name == "text_paddings" || name == "frame_paddings") continue;
    ASSERT_TRUE(ours.count(name)) << name;
    double err = testing::max_abs_diff(ours[name], expected);
    std::cout << "[parity cli] " << GetParam() << " " << name << " max|ours-ref| = " << err << "\n";
    EXPECT_LE(err, kTolerance) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenParity, ::testing::Values("encoder_tiny", "clip_tiny", "classifier_tiny"));

}  // namespace
}  // namespace videoprism
