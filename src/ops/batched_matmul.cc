#include "ops/batched_matmul.h"

#include <ATen/Parallel.h>

#include "ops/blas_threads.h"

namespace videoprism::ops {

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  const bool split = a.device().is_cpu() && a.scalar_type() == torch::kFloat32 &&
                     b.scalar_type() == torch::kFloat32 && a.dim() >= 3 && a.dim() == b.dim() &&
                     a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) &&
                     !(torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())) &&
                     at::get_num_threads() > 1;
  int64_t groups = 1;  // matrices in the batch
  if (split)
    for (int64_t d = 0; d + 2 < a.dim(); ++d) groups *= a.size(d);
  // Fewer matrices than threads: one multithreaded GEMM each is better.
  if (!split || groups < at::get_num_threads() || a.numel() == 0 || b.numel() == 0) return torch::matmul(a, b);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  TORCH_CHECK(b.size(-2) == k, "batched_matmul: inner sizes differ: a [..., ", m, ", ", k, "], b [..., ",
              b.size(-2), ", ", n, "]");
  auto out_sizes = a.sizes().vec();
  out_sizes.back() = n;
  const torch::Tensor a3 = a.reshape({-1, m, k});  // [G, M, K] (a view for head-major inputs)
  const torch::Tensor b3 = b.reshape({-1, k, n});  // [G, K, N]
  torch::Tensor out = torch::empty({a3.size(0), m, n}, a.options());  // [G, M, N]
  SingleThreadedBlas single;
  at::parallel_for(0, a3.size(0), 1, [&](int64_t begin, int64_t end) {
    // Grad mode is per thread and libtorch's workers start with it on: the
    // caller's (off, checked above) does not reach them.
    torch::NoGradGuard no_grad;
    for (int64_t g = begin; g < end; ++g) {
      torch::Tensor o = out.select(0, g);
      at::mm_out(o, a3.select(0, g), b3.select(0, g));
    }
  });
  return out.view(out_sizes);
}

}  // namespace videoprism::ops
