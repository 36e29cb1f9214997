#include "ops/batched_matmul.h"

#include <ATen/Parallel.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ops/blas_threads.h"
#include "ops/onednn.h"

namespace videoprism::ops {
namespace {

using dnnl::memory;

// A [..., R, C] float32 view as oneDNN sees it: sizes and strides.
memory::desc desc_of(const torch::Tensor& t) {
  return memory::desc(memory::dims(t.sizes().begin(), t.sizes().end()), memory::data_type::f32,
                      memory::dims(t.strides().begin(), t.strides().end()));
}

// A [..., R, C] operand oneDNN's matmul reads well: rows or columns
// contiguous (the batch axes may have any strides: attention's q, k and v
// are read in place from the fused QKV projection's output).
torch::Tensor readable(const torch::Tensor& t) {
  const bool rows = t.stride(-1) == 1 && t.stride(-2) >= t.size(-1);
  const bool columns = t.stride(-2) == 1 && t.stride(-1) >= t.size(-2);
  bool batch_ok = true;
  for (int64_t d = 0; d + 2 < t.dim(); ++d) batch_ok = batch_ok && (t.stride(d) > 0 || t.size(d) == 1);
  return (rows || columns) && batch_ok ? t : t.contiguous();
}

struct Batched {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

// Primitives per (shapes, strides) of the three tensors; a bounded cache.
std::shared_ptr<const Batched> batched_primitive(const torch::Tensor& a, const torch::Tensor& b,
                                                 const torch::Tensor& c) {
  using Key = std::vector<int64_t>;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const Batched>> cache;
  Key key;
  for (const torch::Tensor* t : {&a, &b, &c}) {
    key.push_back(t->dim());
    for (auto v : t->sizes()) key.push_back(v);
    for (auto v : t->strides()) key.push_back(v);
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= 64) cache.clear();
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto made = std::make_shared<Batched>();
  made->pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(desc_of(a), desc_of(b), desc_of(c)), attr,
                                          onednn_cpu_engine());
  made->primitive = dnnl::matmul(made->pd);
  cache.emplace(key, made);
  return made;
}

torch::Tensor onednn_batched(const torch::Tensor& a_in, const torch::Tensor& b_in) {
  torch::Tensor a = readable(a_in), b = readable(b_in);  // [..., M, K], [..., K, N]
  auto out_sizes = a.sizes().vec();
  out_sizes.back() = b.size(-1);
  torch::Tensor out = torch::empty(out_sizes, a.options());  // [..., M, N]
  std::shared_ptr<const Batched> p = batched_primitive(a, b, out);
  const memory::desc ad = desc_of(a), bd = desc_of(b), cd = desc_of(out);
  dnnl::engine& engine = onednn_cpu_engine();
  onednn_execute(p->primitive, p->pd,
                 {{DNNL_ARG_SRC, memory(ad, engine, a.data_ptr())},
                  {DNNL_ARG_WEIGHTS, memory(bd, engine, b.data_ptr())},
                  {DNNL_ARG_DST, memory(cd, engine, out.data_ptr())}});
  return out;
}

}  // namespace

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, bool onednn) {
  const bool split = a.device().is_cpu() && a.scalar_type() == torch::kFloat32 &&
                     b.scalar_type() == torch::kFloat32 && a.dim() >= 3 && a.dim() == b.dim() &&
                     a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) &&
                     !(torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())) &&
                     at::get_num_threads() > 1;
  int64_t groups = 1;  // matrices in the batch
  if (split)
    for (int64_t d = 0; d + 2 < a.dim(); ++d) groups *= a.size(d);
  // Fewer matrices than threads: one multithreaded GEMM each is better.
  const bool use_onednn = onednn && a.device().is_cpu() && a.scalar_type() == torch::kFloat32 &&
                          b.scalar_type() == torch::kFloat32 && a.dim() >= 3 && a.dim() == b.dim() &&
                          a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2) &&
                          !(torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad())) &&
                          a.numel() > 0 && b.numel() > 0 && a.size(-1) == b.size(-2);
  if (use_onednn && a.dim() <= 12) return onednn_batched(a, b);
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
