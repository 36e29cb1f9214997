// The CUDA path (issue 8): the fused attention against float64, and golden
// parity on the GPU (float32 max error <= 1e-4, bf16 cosine >= 0.999). Skipped
// on builds without VIDEOPRISM_CUDA or machines without a GPU (CI has none).
#include <gtest/gtest.h>

#include <iostream>

#include "test_util.h"
#include "videoprism/model.h"
#include "videoprism/npz.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include "cuda/attention_check.h"
#include "cuda/fused_attention.h"
#endif

namespace videoprism {
namespace {

bool have_gpu() {
#ifdef VIDEOPRISM_HAVE_CUDA
  return torch::cuda::is_available();
#else
  return false;
#endif
}

#define SKIP_WITHOUT_GPU()                                                             \
  if (!have_gpu()) GTEST_SKIP() << "no CUDA build or no GPU (the CPU suite never needs one)"

TEST(Cuda, FusedAttentionMatchesFloat64Reference) {
  SKIP_WITHOUT_GPU();
#ifdef VIDEOPRISM_HAVE_CUDA
  for (const auto& r : cuda::check_fused_attention(torch::Device(torch::kCUDA, 0), 7)) {
    std::cout << "[cuda attention] " << r.name << " forward " << r.forward_error << " backward "
              << r.backward_error << "\n";
    EXPECT_TRUE(r.passed) << r.name;
  }
#endif
}

class CudaGoldenParity : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaGoldenParity, Float32AndBfloat16OnGpu) {
  SKIP_WITHOUT_GPU();
  const std::string dir = testing::golden_dir(GetParam());
  ModelConfig config = load_config_file(dir + "/case.json");
  auto io = load_npz(dir + "/io.npz");
  TensorMap inputs;
  for (const char* name : {"inputs", "frame_paddings", "text_token_ids", "text_paddings"}) {
    if (io.count(name)) inputs[name] = io.at(name);
  }
  RunOptions f32;
  f32.device = torch::Device(torch::kCUDA, 0);
  Model model = Model::load(dir + "/params.npz", &config);
  model.prepare_for_inference(f32);
  TensorMap out = model.forward(inputs, f32);
  for (const auto& [name, expected] : io) {
    if (inputs.count(name)) continue;
    double err = testing::max_abs_diff(out.at(name), expected);
    std::cout << "[cuda parity f32] " << GetParam() << " " << name << " " << err << "\n";
    EXPECT_LE(err, 1e-4) << name;
  }
  RunOptions bf16 = f32;
  bf16.dtype = torch::kBFloat16;
  Model low = Model::load(dir + "/params.npz", &config);
  low.prepare_for_inference(bf16);
  TensorMap out16 = low.forward(inputs, bf16);
  for (const auto& [name, expected] : io) {
    if (inputs.count(name)) continue;
    double cosine = testing::flat_cosine(out16.at(name), expected);
    std::cout << "[cuda parity bf16] " << GetParam() << " " << name << " " << cosine << "\n";
    EXPECT_GE(cosine, 0.999) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, CudaGoldenParity, ::testing::Values("encoder_tiny", "clip_tiny", "classifier_tiny"));

}  // namespace
}  // namespace videoprism
