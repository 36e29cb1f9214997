// CPU float32 inference through oneDNN (ops/f32_gemm.h, RunOptions::cpu_gemm):
// the GEMM and its fused epilogues against libtorch, the row-blocked FFN and
// the fused output projection against the unfused layers, both backends on the
// golden fixtures, and packed copies that follow the parameters they came from.
#include <gtest/gtest.h>

#include <iostream>

#include "layers/epilogues.h"
#include "layers/feed_forward.h"
#include "ops/batched_matmul.h"
#include "ops/f32_gemm.h"
#include "test_util.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism {
namespace {

using testing::max_abs_diff;
using testing::model_inputs;

constexpr double kTolerance = 1e-4;  // ../shared/golden/README.md

// Float32 GEMMs that sum in another order differ by rounding: a few ulps of
// sum |x||w|, bounded here by 1e-5 relative to it.
void expect_close_to_float64(const torch::Tensor& got, const torch::Tensor& x, const torch::Tensor& w,
                             const torch::Tensor& bias, bool gelu, const torch::Tensor& residual) {
  torch::Tensor want = torch::addmm(bias.to(torch::kFloat64), x.to(torch::kFloat64), w.to(torch::kFloat64));
  if (gelu) want = torch::gelu(want);
  if (residual.defined()) want = want + residual.to(torch::kFloat64);
  torch::Tensor bound = 1e-5 * (torch::mm(x.abs().to(torch::kFloat64), w.abs().to(torch::kFloat64)) + 1.0);
  torch::Tensor excess = (got.to(torch::kFloat64) - want).abs() - bound;
  EXPECT_LE(excess.max().item<double>(), 0.0) << "gelu " << gelu << " residual " << residual.defined();
}

TEST(F32Gemm, MatchesFloat64WithEveryEpilogue) {
  torch::manual_seed(3);
  for (int64_t m : {1, 7, 256, 300}) {
    const int64_t k = 96, n = 160;
    torch::Tensor x = torch::randn({m, k}), w = torch::randn({k, n}) * 0.1, bias = torch::randn({n});
    torch::Tensor residual = torch::randn({m, n});
    ops::F32Linear linear(w, bias);
    EXPECT_EQ(linear.in_dim(), k);
    EXPECT_EQ(linear.out_dim(), n);
    for (bool gelu : {false, true}) {
      expect_close_to_float64(linear.forward(x, gelu), x, w, bias, gelu, {});
      expect_close_to_float64(linear.forward(x, gelu, residual), x, w, bias, gelu, residual);
    }
  }
}

TEST(F32Gemm, RowsOfLargerTensorsAndLeadingAxes) {
  torch::manual_seed(4);
  const int64_t k = 64, n = 48;
  torch::Tensor w = torch::randn({k, n}), bias = torch::randn({n});
  ops::F32Linear linear(w, bias);
  // forward_into on narrowed rows of wider buffers: only their rows are read and written.
  torch::Tensor wide_in = torch::randn({20, k + 8}), wide_out = torch::zeros({20, n + 5});
  torch::Tensor wide_res = torch::randn({20, n + 3});
  torch::Tensor rows = wide_in.narrow(1, 0, k).narrow(0, 2, 10), out = wide_out.narrow(1, 0, n).narrow(0, 3, 10);
  torch::Tensor res = wide_res.narrow(1, 0, n).narrow(0, 5, 10);
  linear.forward_into(rows, out, false, res);
  expect_close_to_float64(out, rows, w, bias, false, res);
  EXPECT_EQ(wide_out.narrow(1, n, 5).abs().max().item<float>(), 0.0f) << "wrote past the rows";
  EXPECT_EQ(wide_out.narrow(0, 0, 3).abs().max().item<float>(), 0.0f) << "wrote outside the block";
  // [..., K] with leading axes, non-contiguous input.
  torch::Tensor x = torch::randn({3, 5, k}).transpose(0, 1);  // [5, 3, K]
  torch::Tensor y = linear.forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{5, 3, n}));
  expect_close_to_float64(y.reshape({-1, n}), x.reshape({-1, k}), w, bias, false, {});
  // No bias; no rows.
  ops::F32Linear no_bias(w, torch::Tensor());
  expect_close_to_float64(no_bias.forward(x.reshape({-1, k})), x.reshape({-1, k}), w, torch::zeros({n}), false, {});
  EXPECT_EQ(linear.forward(torch::zeros({0, k})).sizes(), (std::vector<int64_t>{0, n}));
}

TEST(F32Gemm, WrongShapesAreClearErrors) {
  ops::F32Linear linear(torch::randn({8, 4}), torch::randn({4}));
  EXPECT_THROW(linear.forward(torch::randn({2, 5})), Error);
  EXPECT_THROW(linear.forward(torch::randn({2, 8}).to(torch::kFloat64)), Error);
  EXPECT_THROW(linear.forward(torch::randn({2, 8}), false, torch::randn({3, 4})), Error);
  torch::Tensor out = torch::empty({2, 5});
  EXPECT_THROW(linear.forward_into(torch::randn({2, 8}), out, false, {}), Error);
  EXPECT_THROW(ops::F32Linear(torch::randn({8, 4}), torch::randn({5})), Error);
  try {
    linear.forward(torch::randn({2, 5}));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected float32 CPU activations [..., 8]"), std::string::npos) << e.what();
  }
}

TEST(F32Gemm, CeilingIsMeasured) {
  const double tflops = gemm_tflops(256, torch::kFloat32, torch::kCPU, 2, CpuGemm::kOneDnn);
  std::cout << "[f32 gemm] oneDNN 256^3: " << tflops << " TFLOP/s, libtorch: "
            << gemm_tflops(256, torch::kFloat32, torch::kCPU, 2) << "\n";
  EXPECT_GT(tflops, 0.0);
}

// The transformer's FFN: the row-blocked fused path (several blocks and a
// partial one) against the unfused layers on the same weights.
TEST(F32Gemm, FusedFeedForwardMatchesUnfused) {
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  const int64_t d = 32, f = 128;
  TransformerFeedForward ffn(d, f, Activation::kGeluExact, NormPolicy::kPre, /*stack=*/2);
  for (auto& p : ffn->parameters()) p.normal_(0.0, 0.2);
  const int64_t rows = 2 * kFusedFfnRows + 37;
  torch::Tensor x = torch::randn({1, rows, d});
  for (int64_t layer : {0, 1}) {
    torch::Tensor plain = ffn->forward(x, {}, layer);
    EpilogueOptions options;
    options.packed_f32_gemms = true;
    torch::Tensor fused;
    {
      EpilogueScope scope(options);
      fused = ffn->forward(x, {}, layer);
    }
    ASSERT_EQ(fused.sizes(), plain.sizes());
    const double err = max_abs_diff(fused, plain);
    std::cout << "[f32 gemm] fused FFN layer " << layer << " max|fused - unfused| = " << err << "\n";
    EXPECT_LE(err, 1e-5);
    EXPECT_GT(err, 0.0) << "identical: the oneDNN path did not run";
  }
}

// Attention's batched matmuls through oneDNN on the views attention passes:
// q, k and v as [B, N, T, H] permutations of a fused [B, T, 3, N, H] output
// (strided batch axes), k transposed, and a narrowed block of query rows.
TEST(F32Gemm, BatchedMatmulOnStridedViews) {
  torch::manual_seed(6);
  torch::NoGradGuard no_grad;
  const int64_t b = 2, t = 37, n = 3, h = 16;
  torch::Tensor qkv = torch::randn({b, t, 3, n, h});
  torch::Tensor q = qkv.select(2, 0).permute({0, 2, 1, 3});  // [B, N, T, H]
  torch::Tensor k = qkv.select(2, 1).permute({0, 2, 1, 3});
  torch::Tensor v = qkv.select(2, 2).permute({0, 2, 1, 3});
  auto check_product = [](const torch::Tensor& x, const torch::Tensor& y, const char* what) {
    torch::Tensor got = ops::batched_matmul(x, y, /*onednn=*/true);
    torch::Tensor want = torch::matmul(x.to(torch::kFloat64), y.to(torch::kFloat64));
    ASSERT_EQ(got.sizes(), want.sizes()) << what;
    torch::Tensor bound = 1e-5 * (torch::matmul(x.abs().to(torch::kFloat64), y.abs().to(torch::kFloat64)) + 1.0);
    EXPECT_LE(((got.to(torch::kFloat64) - want).abs() - bound).max().item<double>(), 0.0) << what;
  };
  check_product(q, k.transpose(-1, -2), "scores");
  check_product(torch::softmax(torch::matmul(q, k.transpose(-1, -2)), -1), v, "values");
  check_product(q.narrow(2, 5, 11), k.transpose(-1, -2), "a block of query rows");
  check_product(torch::randn({4, 7, 9}).transpose(1, 2), torch::randn({4, 7, 5}), "columns contiguous");
  using torch::indexing::Slice;
  check_product(torch::randn({6, 8, 4}).index({Slice(), Slice(), Slice(0, 4, 2)}), torch::randn({6, 2, 3}),
                "neither rows nor columns contiguous (copied first)");
}

class GoldenF32Gemm : public ::testing::TestWithParam<std::string> {};

// Both backends within the fixtures' tolerance of the reference; the packed
// copies follow the parameters (an in-place update between two calls, as an
// optimizer step makes, is seen by the next call).
TEST_P(GoldenF32Gemm, BothBackendsMatchReferenceAndFollowTheWeights) {
  const std::string dir = testing::golden_dir(GetParam());
  ModelConfig config = load_config_file(dir + "/case.json");
  Model model = Model::load(dir + "/params.npz", &config);
  auto io = load_npz(dir + "/io.npz");
  RunOptions onednn, openblas;
  onednn.cpu_gemm = CpuGemm::kOneDnn;
  openblas.cpu_gemm = CpuGemm::kOpenBlas;
  model.prepare_for_inference(onednn);
  TensorMap a = model.forward(model_inputs(io), onednn);
  TensorMap b = model.forward(model_inputs(io), openblas);
  double largest_gap = 0.0;
  for (const auto& [name, got] : a) {
    if (!io.count(name)) continue;
    const torch::Tensor& want = io.at(name);
    EXPECT_LE(max_abs_diff(got, want), kTolerance) << "onednn " << name;
    EXPECT_LE(max_abs_diff(b.at(name), want), kTolerance) << "openblas " << name;
    largest_gap = std::max(largest_gap, max_abs_diff(got, b.at(name)));
  }
  std::cout << "[f32 gemm] " << GetParam() << " max|onednn - openblas| = " << largest_gap << "\n";
  EXPECT_GT(largest_gap, 0.0) << "identical outputs: the oneDNN path did not run";
  // An in-place update of every parameter after the copies were packed.
  {
    torch::NoGradGuard no_grad;
    for (auto& [key, p] : model.named_arrays()) p.mul_(0.9);
  }
  TensorMap a2 = model.forward(model_inputs(io), onednn);
  TensorMap b2 = model.forward(model_inputs(io), openblas);
  for (const auto& [name, got] : a2) {
    EXPECT_LE(max_abs_diff(got, b2.at(name)), 1e-4) << name << ": oneDNN used weights packed before the update";
    if (a.count(name) && !name.empty()) EXPECT_GT(max_abs_diff(got, a.at(name)), 0.0) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenF32Gemm, ::testing::Values("encoder_tiny", "clip_tiny", "classifier_tiny"));

TEST(F32GemmErrors, FlagIsParsed) {
  EXPECT_EQ(parse_cpu_gemm("onednn"), CpuGemm::kOneDnn);
  EXPECT_EQ(parse_cpu_gemm("openblas"), CpuGemm::kOpenBlas);
  try {
    parse_cpu_gemm("mkl");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--f32-gemm: expected onednn or openblas, got 'mkl'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace videoprism
