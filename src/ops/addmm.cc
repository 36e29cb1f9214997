#include "ops/addmm.h"

#include <ATen/Parallel.h>

#include "ops/blas_threads.h"

namespace videoprism::ops {

torch::Tensor addmm(const torch::Tensor& bias, const torch::Tensor& x, const torch::Tensor& w) {
  const int threads = at::get_num_threads();
  const int64_t m = x.size(0);
  // Below ~256 rows per thread or a small weight, one call is as good.
  const bool split = threads > 1 && m >= 256 * threads && w.numel() >= (1 << 16) && x.device().is_cpu() &&
                     x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
                     bias.scalar_type() == torch::kFloat32 &&
                     !(torch::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || bias.requires_grad()));
  if (!split) return torch::addmm(bias, x, w);
  torch::Tensor out = torch::empty({m, w.size(1)}, x.options());  // [M, N]
  // Row blocks of whole threads' shares, a multiple of 8 rows (the kernels' tiles).
  const int64_t block = ((m + threads - 1) / threads + 7) / 8 * 8;
  SingleThreadedBlas single;
  at::parallel_for(0, m, block, [&](int64_t begin, int64_t end) {
    // Grad mode is per thread and libtorch's workers start with it on: the
    // caller's (off, checked above) does not reach them.
    torch::NoGradGuard no_grad;
    for (int64_t start = begin; start < end; start += block) {
      const int64_t rows = std::min(block, end - start);
      torch::Tensor o = out.narrow(0, start, rows);
      at::addmm_out(o, bias, x.narrow(0, start, rows), w);
    }
  });
  return out;
}

}  // namespace videoprism::ops
