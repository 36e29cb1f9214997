// The GEMM ceilings: one timing loop, and gemm_tflops choosing the kernel.
#include "ops/gemm_ceiling.h"

#include <algorithm>
#include <chrono>

#include "ops/f32_gemm.h"
#include "ops/int8_gemm.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/core/profile.h"

namespace videoprism {
namespace ops {

double best_tflops(int64_t n, int repeats, const torch::Device& device, const std::function<void()>& run) {
  run();  // warm-up: primitive creation, first-touch pages, thread pools
  double best = 1e30;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    profile::synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    run();
    profile::synchronize(device);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * double(n) * double(n) * double(n) / best / 1e12;
}

}  // namespace ops

CpuGemm parse_cpu_gemm(const std::string& name) {
  if (name == "onednn") return CpuGemm::kOneDnn;
  if (name == "openblas") return CpuGemm::kOpenBlas;
  fail_arg("--f32-gemm: expected onednn or openblas, got '", name, "'");
}

const char* to_string(CpuGemm gemm) { return gemm == CpuGemm::kOneDnn ? "onednn" : "openblas"; }

double gemm_tflops(int n, torch::ScalarType dtype, const torch::Device& device, int repeats, CpuGemm cpu_gemm) {
  torch::NoGradGuard no_grad;
  if (dtype == torch::kQInt8) {
    check_arg(device.is_cpu(), "gemm_tflops: int8 is CPU only, got ", device.str());
    return ops::int8_gemm_tops(n, repeats);
  }
  if (dtype == torch::kFloat32 && device.is_cpu() && cpu_gemm == CpuGemm::kOneDnn) return ops::f32_gemm_tflops(n, repeats);
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  torch::Tensor c;
  return ops::best_tflops(n, repeats, device, [&] { c = torch::matmul(a, b); });
}

}  // namespace videoprism
