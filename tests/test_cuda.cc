// The CUDA path (issue 8): the fused attention against float64, and golden
// parity on the GPU (float32 max error <= 1e-4, bf16 cosine >= 0.999). Skipped
// on builds without VIDEOPRISM_CUDA or machines without a GPU (CI has none).
#include <gtest/gtest.h>

#include <iostream>

#include "test_util.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include "cuda/attention_check.h"
#include "cuda/fused_attention.h"
#include "cuda/linear_residual.h"
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
  RunOptions fused = bf16;
  fused.fused_residual = true;
  for (const RunOptions& run : {bf16, fused}) {
    const char* label = run.fused_residual ? "bf16 fused residual" : "bf16";
    TensorMap out16 = low.forward(inputs, run);
    for (const auto& [name, expected] : io) {
      if (inputs.count(name)) continue;
      double cosine = testing::flat_cosine(out16.at(name), expected);
      std::cout << "[cuda parity " << label << "] " << GetParam() << " " << name << " " << cosine << "\n";
      EXPECT_GE(cosine, 0.999) << label << " " << name;
    }
  }
}

// x @ W + b + residual in one cuBLASLt call, both weight layouts, against the
// same sum in float64 from the same bf16 inputs: within bf16 rounding of the
// result (the fused call rounds once, from float32).
TEST(Cuda, LinearResidualMatchesFloat64) {
  SKIP_WITHOUT_GPU();
#ifdef VIDEOPRISM_HAVE_CUDA
  torch::manual_seed(5);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(torch::kCUDA, 0);
  for (const bool weight_nk : {false, true}) {
    const int64_t m = 300, k = 96, n = 48;
    torch::Tensor x = torch::randn({3, m / 3, k}, bf16);
    torch::Tensor w = weight_nk ? torch::randn({n, k}, bf16) * 0.1 : torch::randn({k, n}, bf16) * 0.1;
    torch::Tensor b = torch::randn({n}, bf16), r = torch::randn({3, m / 3, n}, bf16);
    const int64_t before = cuda::linear_residual_calls();
    torch::Tensor out = cuda::linear_residual(x, w, weight_nk, b, r);
    ASSERT_TRUE(out.defined()) << "cuBLASLt refused the shape";
    EXPECT_EQ(cuda::linear_residual_calls(), before + 1);
    EXPECT_EQ(out.sizes(), r.sizes());
    auto f64 = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat64); };
    torch::Tensor w64 = weight_nk ? f64(w).t() : f64(w);
    torch::Tensor expected = torch::matmul(f64(x), w64) + f64(b) + f64(r);
    const double err = ((f64(out) - expected).abs() / (expected.abs() + 1.0)).max().item<double>();
    std::cout << "[cuda linear_residual] weight_nk " << weight_nk << " max relative error " << err << "\n";
    EXPECT_LE(err, 1.0 / 128) << "weight_nk " << weight_nk;
  }
  // What it does not take, it leaves alone: float32, or a shape mismatch.
  const auto f32 = torch::TensorOptions().device(torch::kCUDA, 0);
  EXPECT_FALSE(cuda::linear_residual(torch::randn({4, 8}, f32), torch::randn({8, 16}, f32), false,
                                     torch::randn({16}, f32), torch::randn({4, 16}, f32))
                   .defined());
  EXPECT_FALSE(cuda::linear_residual(torch::randn({4, 8}, bf16), torch::randn({8, 16}, bf16), false,
                                     torch::randn({16}, bf16), torch::randn({4, 12}, bf16))
                   .defined());
#endif
}

INSTANTIATE_TEST_SUITE_P(Golden, CudaGoldenParity, ::testing::Values("encoder_tiny", "clip_tiny", "classifier_tiny"));

}  // namespace
}  // namespace videoprism
