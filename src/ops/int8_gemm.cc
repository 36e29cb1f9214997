#include "ops/gemm_ceiling.h"
#include "ops/int8_gemm.h"

#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ops/onednn.h"
#include "videoprism/core/error.h"
#include "videoprism/core/profile.h"

namespace videoprism::ops {
namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() { return onednn_cpu_engine(); }

// s8 [M, K] x s8 [K, N] -> s32 [M, N], the weights in whatever layout the
// primitive prefers (packed once), the scratchpad ours so concurrent calls of
// one primitive never share it.
dnnl::matmul::primitive_desc make_pd(int64_t m, int64_t k, int64_t n) {
  memory::desc src({m, k}, memory::data_type::s8, memory::format_tag::ab);
  memory::desc weights({k, n}, memory::data_type::s8, memory::format_tag::any);
  memory::desc dst({m, n}, memory::data_type::s32, memory::format_tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), attr, cpu_engine());
}

// acc = src x weights, all CPU tensors / memories already laid out for `pd`.
// plain: [K, N] int8, contiguous, laid out as `desc` wants (oneDNN's packed
// weights). Always from the plain copy: oneDNN does not reorder between its
// packed layouts (their s8 compensation parts).
memory pack_weights(const torch::Tensor& plain, const memory::desc& desc) {
  dnnl::engine& engine = cpu_engine();
  memory packed(desc, engine);
  memory src({{plain.size(0), plain.size(1)}, memory::data_type::s8, memory::format_tag::ab}, engine, plain.data_ptr());
  dnnl::stream stream(engine);
  dnnl::reorder(src, packed).execute(stream, src, packed);
  stream.wait();
  return packed;
}

void run_matmul(const dnnl::matmul& primitive, const dnnl::matmul::primitive_desc& pd, const torch::Tensor& src,
                const memory& weights, torch::Tensor& acc) {
  dnnl::engine& engine = cpu_engine();
  onednn_execute(primitive, pd,
                 {{DNNL_ARG_SRC, memory(pd.src_desc(), engine, src.data_ptr())},
                  {DNNL_ARG_WEIGHTS, weights},
                  {DNNL_ARG_DST, memory(pd.dst_desc(), engine, acc.data_ptr())}});
}

// Rows per oneDNN call in Int8Linear::forward (256 x 3072 s32: 3 MB).
constexpr int64_t kRowBlock = 256;

// Round to nearest even for |v| < 2^22 with two adds the compiler can vectorize.
inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

}  // namespace

namespace {

// Quantizes rows [begin, end) of x [M, K] into q, scales into sp. Written so
// the compiler vectorizes both loops: the largest |x| as the maximum of the
// float bit patterns with the sign cleared (ordered like the values, and NaN
// / infinity above every finite value, which flags them at no extra cost).
void quantize_row_range(const float* xp, int64_t k, int64_t begin, int64_t end, int8_t* qp, float* sp) {
  constexpr uint32_t kInfBits = 0x7f800000u;
  for (int64_t r = begin; r < end; ++r) {
    const float* row = xp + r * k;
    int8_t* out = qp + r * k;
    uint32_t max_bits = 0;
    for (int64_t j = 0; j < k; ++j) {
      uint32_t bits;
      std::memcpy(&bits, &row[j], sizeof bits);
      bits &= 0x7fffffffu;
      max_bits = bits > max_bits ? bits : max_bits;
    }
    if (max_bits >= kInfBits) {  // the row's outputs come out NaN, as the float32 GEMM's would
      sp[r] = std::nanf("");
      std::fill(out, out + k, int8_t{0});
      continue;
    }
    float amax;
    std::memcpy(&amax, &max_bits, sizeof amax);
    const float s = amax > 0.0f ? amax / 127.0f : 1.0f;
    const float inv = 1.0f / s;
    sp[r] = s;
    // |row[j] * inv| <= 127 up to rounding, so the rounded value fits.
    for (int64_t j = 0; j < k; ++j) out[j] = static_cast<int8_t>(static_cast<int32_t>(round_even(row[j] * inv)));
  }
}

}  // namespace

torch::Tensor quantize_rows(const torch::Tensor& x, torch::Tensor& scale) {
  check(x.dim() == 2 && x.scalar_type() == torch::kFloat32 && x.is_contiguous() && x.device().is_cpu(),
        "quantize_rows: expected a contiguous float32 CPU [M, K] tensor, got ", x.scalar_type(), " ", x.sizes());
  const int64_t m = x.size(0), k = x.size(1);
  torch::Tensor q = torch::empty({m, k}, torch::kInt8);  // [M, K]
  scale = torch::empty({m}, torch::kFloat32);            // [M]
  const float* xp = x.data_ptr<float>();
  int8_t* qp = q.data_ptr<int8_t>();
  float* sp = scale.data_ptr<float>();
  at::parallel_for(0, m, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, k)),
                   [&](int64_t begin, int64_t end) { quantize_row_range(xp, k, begin, end, qp, sp); });
  return q;
}

bool int8_full_range_exact() {
  static const bool exact = [] {
    const int64_t n = 64;
    auto pd = make_pd(n, n, n);
    torch::Tensor src = torch::full({n, n}, 127, torch::kInt8);
    torch::Tensor plain = torch::full({n, n}, 127, torch::kInt8);
    memory packed = pack_weights(plain, pd.weights_desc());
    torch::Tensor acc = torch::empty({n, n}, torch::kInt32);
    run_matmul(dnnl::matmul(pd), pd, src, packed, acc);
    return (acc == static_cast<int32_t>(n * 127 * 127)).all().item<bool>();
  }();
  return exact;
}

int int8_weight_limit() { return int8_full_range_exact() ? 127 : 63; }

struct Int8Linear::Impl {
  int64_t k = 0, n = 0;
  torch::Tensor column_scale;  // [N] float32
  torch::Tensor bias;          // [N] float32 or undefined
  torch::Tensor plain;         // [K, N] int8, the source of every packed layout

  struct Entry {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
    std::shared_ptr<memory> weights;
  };
  std::mutex mutex;
  std::unordered_map<int64_t, std::shared_ptr<const Entry>> by_rows;  // per M
  std::vector<std::shared_ptr<memory>> packed;                      // per weights layout

  // The weights laid out as `desc` wants (packed once per layout).
  std::shared_ptr<memory> weights_for(const memory::desc& desc) {
    for (const auto& p : packed)
      if (p->get_desc() == desc) return p;
    std::shared_ptr<memory> out = std::make_shared<memory>(pack_weights(plain, desc));
    packed.push_back(out);
    return out;
  }

  std::shared_ptr<const Entry> entry(int64_t m) {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = by_rows.find(m); it != by_rows.end()) return it->second;
    if (by_rows.size() >= 64) by_rows.clear();  // many batch shapes: start over rather than grow
    auto e = std::make_shared<Entry>();
    e->pd = make_pd(m, k, n);
    e->primitive = dnnl::matmul(e->pd);
    e->weights = weights_for(e->pd.weights_desc());
    by_rows.emplace(m, e);
    return e;
  }
};

Int8Linear::Int8Linear(const torch::Tensor& weight, const torch::Tensor& bias) : impl_(std::make_unique<Impl>()) {
  torch::NoGradGuard no_grad;
  check(weight.dim() == 2 && weight.scalar_type() == torch::kFloat32,
        "Int8Linear: expected a float32 [K, N] weight, got ", weight.scalar_type(), " ", weight.sizes());
  impl_->k = weight.size(0);
  impl_->n = weight.size(1);
  check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == impl_->n),
        "Int8Linear: expected a bias [", impl_->n, "], got ", bias.defined() ? bias.sizes() : torch::IntArrayRef{});
  const float limit = static_cast<float>(int8_weight_limit());
  torch::Tensor w = weight.to(torch::kCPU).contiguous();  // [K, N]
  torch::Tensor amax = w.abs().amax(0);                    // [N]
  impl_->column_scale = torch::where(amax > 0, amax / limit, torch::ones_like(amax)).contiguous();
  impl_->plain = (w / impl_->column_scale).round().clamp(-limit, limit).to(torch::kInt8).contiguous();
  if (bias.defined()) impl_->bias = bias.to(torch::kCPU, torch::kFloat32).contiguous();
  // Pack for a typical shape now, so the first forward does not.
  impl_->entry(std::min<int64_t>(256, std::max<int64_t>(1, impl_->k)));
}

Int8Linear::~Int8Linear() = default;

int64_t Int8Linear::in_dim() const { return impl_->k; }
int64_t Int8Linear::out_dim() const { return impl_->n; }

torch::Tensor Int8Linear::dequantized_weight() const {
  return impl_->plain.to(torch::kFloat32) * impl_->column_scale;  // [K, N]
}

torch::Tensor Int8Linear::forward(const torch::Tensor& x) const {
  const int64_t k = impl_->k, n = impl_->n;
  check(x.scalar_type() == torch::kFloat32 && x.device().is_cpu() && x.dim() >= 1 && x.size(-1) == k,
        "int8 GEMM: expected float32 CPU activations [..., ", k, "], got ", x.scalar_type(), " ", x.sizes(), " on ",
        x.device());
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  torch::Tensor rows = x.reshape({-1, k}).contiguous();  // [M, K]
  const int64_t m = rows.size(0);
  torch::Tensor out = torch::empty({m, n}, torch::kFloat32);  // [M, N]
  if (m == 0) return out.view(sizes);
  torch::Tensor row_scale;  // [M]
  torch::Tensor q;          // [M, K] int8
  {
    profile::Region region("quantize", 0, profile::active() ? double(m * k) * 5 : 0.0);
    q = quantize_rows(rows, row_scale);
  }
  // A block of rows at a time: the s32 result of one block stays in cache
  // for the dequantizing pass, and is never a fresh multi-MB allocation.
  const int64_t block = std::min(m, kRowBlock);
  torch::Tensor acc = torch::empty({block, n}, torch::kInt32);  // [block, N]
  const float* cs = impl_->column_scale.data_ptr<float>();
  const float* bp = impl_->bias.defined() ? impl_->bias.data_ptr<float>() : nullptr;
  for (int64_t start = 0; start < m; start += block) {
    const int64_t len = std::min(block, m - start);
    std::shared_ptr<const Impl::Entry> e = impl_->entry(len);
    torch::Tensor part = acc.narrow(0, 0, len);
    {
      profile::Region region("s8gemm", profile::matmul_flops(len, n, k));
      run_matmul(e->primitive, e->pd, q.narrow(0, start, len), *e->weights, part);
    }
    profile::Region region("dequantize", 0, profile::active() ? double(len * n) * 8 : 0.0);
    const int32_t* ap = acc.data_ptr<int32_t>();
    const float* rs = row_scale.data_ptr<float>() + start;
    float* yp = out.data_ptr<float>() + start * n;
    at::parallel_for(0, len, std::max<int64_t>(1, 32768 / n), [&](int64_t begin, int64_t end) {
      std::vector<float> scale(static_cast<size_t>(n));
      for (int64_t r = begin; r < end; ++r) {
        const int32_t* a = ap + r * n;
        float* y = yp + r * n;
        const float s = rs[r];
        for (int64_t j = 0; j < n; ++j) scale[j] = s * cs[j];
        if (bp != nullptr) {
          for (int64_t j = 0; j < n; ++j) y[j] = static_cast<float>(a[j]) * scale[j] + bp[j];
        } else {
          for (int64_t j = 0; j < n; ++j) y[j] = static_cast<float>(a[j]) * scale[j];
        }
      }
    });
  }
  return out.view(sizes);
}

double int8_gemm_tops(int n, int repeats) {
  const int64_t size = std::max(1, n);
  auto pd = make_pd(size, size, size);
  dnnl::matmul primitive(pd);
  torch::Tensor src = torch::randint(-127, 128, {size, size}, torch::kInt8);
  torch::Tensor plain = torch::randint(-63, 64, {size, size}, torch::kInt8);
  memory packed = pack_weights(plain, pd.weights_desc());
  torch::Tensor acc = torch::empty({size, size}, torch::kInt32);
  return best_tflops(size, repeats, torch::kCPU, [&] { run_matmul(primitive, pd, src, packed, acc); });
}

}  // namespace videoprism::ops
