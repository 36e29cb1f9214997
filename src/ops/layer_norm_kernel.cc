#include "ops/layer_norm_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "ops/vector_math.h"
#include "videoprism/core/cpu_features.h"

namespace videoprism::ops {

namespace {

template <typename T>
inline __attribute__((always_inline)) void normalize_row(const T* in, T* out, const float* weight, const float* bias,
                                                         int64_t d, float eps, float* scratch) {
  for (int64_t j = 0; j < d; ++j) scratch[j] = to_float(in[j]);
  const float mean = lane_sum(scratch, d) / static_cast<float>(d);
  // Two passes (mean, then squared deviations): no cancellation for rows far from 0.
  const float var = lane_sum_squared_deviation(scratch, d, mean) / static_cast<float>(d);
  const float inv_std = 1.0f / std::sqrt(var + eps);
  for (int64_t j = 0; j < d; ++j) store(out + j, (scratch[j] - mean) * inv_std * weight[j] + bias[j]);
}

// Rows [begin, end) compiled for each vector ISA; kernel_isa() picks one.
template <typename T>
using RowsFn = void (*)(const T*, T*, const float*, const float*, int64_t, float, float*, int64_t, int64_t);
#define VP_NORMALIZE_ROWS(suffix, target_attr)                                                                \
  template <typename T>                                                                                      \
  target_attr void normalize_rows_##suffix(const T* in, T* out, const float* weight, const float* bias,      \
                                           int64_t d, float eps, float* scratch, int64_t begin, int64_t end) { \
    for (int64_t r = begin; r < end; ++r) normalize_row<T>(in + r * d, out + r * d, weight, bias, d, eps, scratch); \
  }
VP_NORMALIZE_ROWS(avx512, __attribute__((target("avx512f"))))
VP_NORMALIZE_ROWS(avx2, __attribute__((target("avx2"))))
VP_NORMALIZE_ROWS(default, )
#undef VP_NORMALIZE_ROWS

template <typename T>
RowsFn<T> normalize_rows() {
  switch (kernel_isa()) {
    case KernelIsa::kAvx512: return normalize_rows_avx512<T>;
    case KernelIsa::kAvx2: return normalize_rows_avx2<T>;
    default: return normalize_rows_default<T>;
  }
}

template <typename T>
void run(const torch::Tensor& x, torch::Tensor& out, const float* weight, const float* bias, float eps) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  const T* in = x.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  const RowsFn<T> rows_fn = normalize_rows<T>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(d);
    rows_fn(in, dst, weight, bias, d, eps, scratch.data(), begin, end);
  });
}

}  // namespace

torch::Tensor layer_norm_inference(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps) {
  const bool fusable = x.device().is_cpu() && (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16);
  if (!fusable) {
    return torch::layer_norm(x, {x.size(-1)}, weight.to(x.scalar_type()), bias.to(x.scalar_type()), eps);
  }
  torch::Tensor input = x.contiguous();
  torch::Tensor w = weight.to(torch::kFloat32).contiguous(), b = bias.to(torch::kFloat32).contiguous();
  torch::Tensor out = torch::empty_like(input);
  if (input.scalar_type() == torch::kFloat32) {
    run<float>(input, out, w.data_ptr<float>(), b.data_ptr<float>(), static_cast<float>(eps));
  } else {
    run<c10::BFloat16>(input, out, w.data_ptr<float>(), b.data_ptr<float>(), static_cast<float>(eps));
  }
  return out;
}

}  // namespace videoprism::ops
