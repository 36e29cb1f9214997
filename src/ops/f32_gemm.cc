#include "ops/gemm_ceiling.h"
#include "ops/f32_gemm.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ops/onednn.h"
#include "videoprism/core/error.h"

namespace videoprism::ops {
namespace {

using dnnl::memory;

memory::desc rows_desc(int64_t m, int64_t n, int64_t row_stride) {
  return memory::desc({m, n}, memory::data_type::f32, memory::dims{row_stride, 1});
}

}  // namespace

struct F32Linear::Impl {
  int64_t k = 0, n = 0;
  torch::Tensor plain;  // [K, N] float32 contiguous while constructing: the source of the first packing
  torch::Tensor bias;   // [1, N] float32 or undefined

  struct Entry {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
    std::shared_ptr<memory> weights;
  };
  // Key: rows, GELU, residual, and the three row strides (src, dst, residual).
  using Key = std::tuple<int64_t, bool, bool, int64_t, int64_t, int64_t>;
  std::mutex mutex;
  std::map<Key, std::shared_ptr<const Entry>> entries;
  std::vector<std::shared_ptr<memory>> packed;  // per weights layout

  std::shared_ptr<memory> weights_for(const memory::desc& desc) {
    for (const auto& p : packed)
      if (p->get_desc() == desc) return p;
    dnnl::engine& engine = onednn_cpu_engine();
    auto out = std::make_shared<memory>(desc, engine);
    // From the plain copy while there is one, else from the first packing
    // (float32 reorders between layouts are exact).
    memory src = plain.defined()
                     ? memory({{k, n}, memory::data_type::f32, memory::format_tag::ab}, engine, plain.data_ptr())
                     : *packed.front();
    dnnl::stream stream(engine);
    dnnl::reorder(src, *out).execute(stream, src, *out);
    stream.wait();
    packed.push_back(out);
    return out;
  }

  std::shared_ptr<const Entry> entry(int64_t m, bool gelu, bool residual, int64_t src_stride, int64_t dst_stride,
                                     int64_t res_stride) {
    const Key key{m, gelu, residual, src_stride, dst_stride, res_stride};
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = entries.find(key); it != entries.end()) return it->second;
    if (entries.size() >= 64) entries.clear();  // many batch shapes: start over rather than grow
    dnnl::post_ops ops;
    if (gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    if (residual) ops.append_binary(dnnl::algorithm::binary_add, rows_desc(m, n, res_stride));
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    memory::desc weights({k, n}, memory::data_type::f32, memory::format_tag::any);
    memory::desc bias_desc = bias.defined() ? memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab)
                                            : memory::desc();
    auto e = std::make_shared<Entry>();
    e->pd = dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(rows_desc(m, k, src_stride), weights, bias_desc, rows_desc(m, n, dst_stride)), attr,
        onednn_cpu_engine());
    e->primitive = dnnl::matmul(e->pd);
    e->weights = weights_for(e->pd.weights_desc());
    entries.emplace(key, e);
    return e;
  }
};

F32Linear::F32Linear(const torch::Tensor& weight, const torch::Tensor& bias) : impl_(std::make_unique<Impl>()) {
  torch::NoGradGuard no_grad;
  check(weight.dim() == 2 && weight.scalar_type() == torch::kFloat32,
        "F32Linear: expected a float32 [K, N] weight, got ", weight.scalar_type(), " ", weight.sizes());
  impl_->k = weight.size(0);
  impl_->n = weight.size(1);
  check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == impl_->n),
        "F32Linear: expected a bias [", impl_->n, "], got ", bias.defined() ? bias.sizes() : torch::IntArrayRef{});
  impl_->plain = weight.to(torch::kCPU).contiguous();  // [K, N]
  if (bias.defined()) impl_->bias = bias.to(torch::kCPU, torch::kFloat32).contiguous().clone().view({1, impl_->n});
  // Pack for a typical shape now, so the first forward does not.
  impl_->entry(256, false, false, impl_->k, impl_->n, 0);
  impl_->plain = torch::Tensor();  // the packed copy is all a forward reads (one layout in practice)
}

F32Linear::~F32Linear() = default;

int64_t F32Linear::in_dim() const { return impl_->k; }
int64_t F32Linear::out_dim() const { return impl_->n; }

void F32Linear::forward_into(const torch::Tensor& rows, torch::Tensor& out, bool gelu,
                             const torch::Tensor& residual) const {
  const int64_t k = impl_->k, n = impl_->n;
  auto rows_ok = [](const torch::Tensor& t, int64_t m, int64_t cols) {
    return t.defined() && t.dim() == 2 && t.size(0) == m && t.size(1) == cols && t.stride(1) == 1 &&
           (m <= 1 || t.stride(0) >= cols) && t.scalar_type() == torch::kFloat32 && t.device().is_cpu();
  };
  const int64_t m = rows.dim() == 2 ? rows.size(0) : -1;
  check(rows_ok(rows, m, k), "F32Linear: expected float32 CPU rows [M, ", k, "] with contiguous rows, got ",
        rows.scalar_type(), " ", rows.sizes(), " strides ", rows.strides());
  check(rows_ok(out, m, n), "F32Linear: expected an output [", m, ", ", n, "] float32 CPU with contiguous rows, got ",
        out.scalar_type(), " ", out.sizes(), " strides ", out.strides());
  check(!residual.defined() || rows_ok(residual, m, n), "F32Linear: expected a residual [", m, ", ", n,
        "] float32 CPU with contiguous rows, got ", residual.defined() ? residual.sizes() : torch::IntArrayRef{});
  if (m == 0) return;
  auto stride = [](const torch::Tensor& t, int64_t cols) { return t.size(0) > 1 ? t.stride(0) : cols; };
  const int64_t res_stride = residual.defined() ? stride(residual, n) : 0;
  std::shared_ptr<const Impl::Entry> e =
      impl_->entry(m, gelu, residual.defined(), stride(rows, k), stride(out, n), res_stride);
  dnnl::engine& engine = onednn_cpu_engine();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(e->pd.src_desc(), engine, rows.data_ptr())},
                                       {DNNL_ARG_WEIGHTS, *e->weights},
                                       {DNNL_ARG_DST, memory(e->pd.dst_desc(), engine, out.data_ptr())}};
  if (impl_->bias.defined()) args.emplace(DNNL_ARG_BIAS, memory(e->pd.bias_desc(), engine, impl_->bias.data_ptr()));
  if (residual.defined()) {
    const int index = gelu ? 1 : 0;  // the binary post-op's position
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1,
                 memory(rows_desc(m, n, res_stride), engine, residual.data_ptr()));
  }
  onednn_execute(e->primitive, e->pd, std::move(args));
}

torch::Tensor F32Linear::forward(const torch::Tensor& x, bool gelu, const torch::Tensor& residual) const {
  const int64_t k = impl_->k, n = impl_->n;
  check(x.scalar_type() == torch::kFloat32 && x.device().is_cpu() && x.dim() >= 1 && x.size(-1) == k,
        "F32Linear: expected float32 CPU activations [..., ", k, "], got ", x.scalar_type(), " ", x.sizes(), " on ",
        x.device());
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  torch::Tensor rows = x.reshape({-1, k}).contiguous();  // [M, K]
  const int64_t m = rows.size(0);
  torch::Tensor res;  // [M, N]
  if (residual.defined()) {
    check(residual.numel() == m * n && residual.size(-1) == n, "F32Linear: expected a residual of ", m, " x ", n,
          " values, got ", residual.sizes());
    res = residual.reshape({m, n}).contiguous();
  }
  torch::Tensor out = torch::empty({m, n}, torch::kFloat32);  // [M, N]
  forward_into(rows, out, gelu, res);
  return out.view(sizes);
}

double f32_gemm_tflops(int n, int repeats) {
  torch::NoGradGuard no_grad;
  const int64_t size = std::max(1, n);
  F32Linear linear(torch::randn({size, size}), torch::Tensor());
  torch::Tensor x = torch::randn({size, size});
  torch::Tensor out = torch::empty({size, size});
  return best_tflops(size, repeats, torch::kCPU, [&] { linear.forward_into(x, out, false, {}); });
}

}  // namespace videoprism::ops
