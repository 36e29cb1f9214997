#include "layers/fused_residual.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include "cuda/linear_residual.h"
#endif

namespace videoprism {

namespace {
thread_local bool t_fused_residual = false;
}  // namespace

FusedResidualScope::FusedResidualScope(bool enabled) : previous_(t_fused_residual) { t_fused_residual = enabled; }
FusedResidualScope::~FusedResidualScope() { t_fused_residual = previous_; }
bool FusedResidualScope::active() { return t_fused_residual; }

torch::Tensor fused_linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                                    const torch::Tensor& bias, const torch::Tensor& residual) {
#ifdef VIDEOPRISM_HAVE_CUDA
  if (t_fused_residual && x.is_cuda()) return cuda::linear_residual(x, weight, weight_nk, bias, residual);
#endif
  return {};
}

}  // namespace videoprism
