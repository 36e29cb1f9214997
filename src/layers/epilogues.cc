#include "layers/epilogues.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include "cuda/linear_residual.h"
#endif

namespace videoprism {

namespace {
thread_local EpilogueOptions t_options;
}  // namespace

EpilogueScope::EpilogueScope(const EpilogueOptions& options) : previous_(t_options) { t_options = options; }
EpilogueScope::~EpilogueScope() { t_options = previous_; }
const EpilogueOptions& EpilogueScope::current() { return t_options; }

torch::Tensor fused_linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                                    const torch::Tensor& bias, const torch::Tensor& residual) {
#ifdef VIDEOPRISM_HAVE_CUDA
  if (t_options.fused_residual && x.is_cuda()) return cuda::linear_residual(x, weight, weight_nk, bias, residual);
#endif
  return {};
}

}  // namespace videoprism
