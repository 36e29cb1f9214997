#include "cuda/linear_residual.h"

#include <ATen/cuda/CUDAContext.h>

#include <atomic>
#include <string>

#include "cuda/gemm_epilogue.h"
#include "videoprism/core/log.h"

namespace videoprism::cuda {
namespace {

std::atomic<int64_t> g_calls{0};
std::atomic<bool> g_warned{false};
constexpr int64_t kWorkspaceBytes = int64_t(32) << 20;  // cuBLASLt's recommendation for Hopper

bool usable(const torch::Tensor& t, const torch::Device& device) {
  return t.defined() && t.is_cuda() && t.device() == device && t.scalar_type() == torch::kBFloat16 &&
         !(torch::GradMode::is_enabled() && t.requires_grad());
}

}  // namespace

torch::Tensor linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                              const torch::Tensor& bias, const torch::Tensor& residual) {
  if (!x.defined() || !x.is_cuda()) return {};
  const torch::Device device = x.device();
  if (!usable(x, device) || !usable(weight, device) || !usable(bias, device) || !usable(residual, device)) return {};
  if (weight.dim() != 2 || x.dim() < 1 || residual.dim() < 1) return {};
  const int64_t k = x.size(-1), n = weight_nk ? weight.size(0) : weight.size(1);
  if ((weight_nk ? weight.size(1) : weight.size(0)) != k || bias.numel() != n || residual.size(-1) != n) return {};
  const int64_t m = k > 0 ? x.numel() / k : 0;
  if (m == 0 || n == 0 || residual.numel() / n != m) return {};

  const torch::Tensor x2 = x.reshape({m, k}).contiguous();
  const torch::Tensor w = weight.contiguous();
  const torch::Tensor b = bias.reshape({n}).contiguous();
  const torch::Tensor r = residual.reshape({m, n}).contiguous();
  torch::Tensor out = torch::empty({m, n}, r.options());
  // From the caching allocator: also valid inside a CUDA graph capture.
  torch::Tensor workspace = torch::empty({kWorkspaceBytes}, r.options().dtype(torch::kUInt8));

  GemmBiasResidualParams p;
  p.x = x2.data_ptr();
  p.weight = w.data_ptr();
  p.weight_nk = weight_nk;
  p.bias = b.data_ptr();
  p.residual = r.data_ptr();
  p.out = out.data_ptr();
  p.m = m;
  p.n = n;
  p.k = k;
  p.workspace = workspace.data_ptr();
  p.workspace_bytes = static_cast<size_t>(kWorkspaceBytes);
  const int status = gemm_bias_residual(p, at::cuda::getCurrentCUDAStream());
  if (status != 0) {
    if (!g_warned.exchange(true)) {
      log_warning("videoprism: fused bias+residual GEMM unavailable for [" + std::to_string(m) + "," +
                  std::to_string(k) + "]x[" + std::to_string(k) + "," + std::to_string(n) + "] (" +
                  gemm_status_name(status) + "); using the unfused path");
    }
    return {};
  }
  ++g_calls;
  return out.view(residual.sizes());
}

int64_t linear_residual_calls() { return g_calls.load(); }

}  // namespace videoprism::cuda
