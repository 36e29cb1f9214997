#include "ops/layer_norm_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace videoprism::ops {

namespace {

inline float to_float(float v) { return v; }
inline float to_float(c10::BFloat16 v) { return static_cast<float>(v); }
inline void store(float* dst, float v) { *dst = v; }
inline void store(c10::BFloat16* dst, float v) { *dst = c10::BFloat16(v); }

template <typename T>
__attribute__((target_clones("avx512f", "avx2", "default")))
void normalize_row(const T* in, T* out, const float* weight, const float* bias, int64_t d, float eps,
                   float* scratch) {
  float sum = 0.0f;
  for (int64_t j = 0; j < d; ++j) {
    scratch[j] = to_float(in[j]);
    sum += scratch[j];
  }
  const float mean = sum / static_cast<float>(d);
  float sq = 0.0f;
  for (int64_t j = 0; j < d; ++j) {
    const float c = scratch[j] - mean;
    sq += c * c;
  }
  const float inv_std = 1.0f / std::sqrt(sq / static_cast<float>(d) + eps);
  for (int64_t j = 0; j < d; ++j) store(out + j, (scratch[j] - mean) * inv_std * weight[j] + bias[j]);
}

template <typename T>
void run(const torch::Tensor& x, torch::Tensor& out, const float* weight, const float* bias, float eps) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  const T* in = x.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(d);
    for (int64_t r = begin; r < end; ++r) normalize_row<T>(in + r * d, dst + r * d, weight, bias, d, eps, scratch.data());
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
