#include "ops/capped_softmax.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "ops/vector_math.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"

namespace videoprism::ops {

namespace {

// cap * tanh(x / cap), with tanh(y) = -m / (2 + m), m = e^(-2|y|) - 1:
// a few ulp also near 0. Always float32, also for bf16 logits (the reference
// caps in the activation dtype; float32 is the more accurate of the two).
inline __attribute__((always_inline)) float soft_cap(float x, float cap, float inv_cap) {
  const float m = fast_expm1_nonpositive(-2.0f * std::fabs(x * inv_cap));
  return std::copysign(cap * (-m / (2.0f + m)), x);
}

// One row of S logits -> probabilities. `row_mask` may be null (nothing masked).
template <typename T>
inline __attribute__((always_inline)) void softmax_row(const T* in, T* out, const bool* row_mask, int64_t s, float cap,
                                                       float* scratch) {
  const bool capped = cap > 0.0f;
  const float inv_cap = capped ? 1.0f / cap : 0.0f;
  float max_value = kMaskValue;
  if (capped) {
    for (int64_t j = 0; j < s; ++j) scratch[j] = soft_cap(to_float(in[j]), cap, inv_cap);
  } else {
    for (int64_t j = 0; j < s; ++j) scratch[j] = to_float(in[j]);
  }
  if (row_mask != nullptr) {
    for (int64_t j = 0; j < s; ++j) scratch[j] = row_mask[j] ? kMaskValue : scratch[j];
  }
  max_value = lane_max(scratch, s, max_value);
  for (int64_t j = 0; j < s; ++j) scratch[j] = fast_exp_nonpositive(scratch[j] - max_value);
  const float inv_sum = 1.0f / lane_sum(scratch, s);
  for (int64_t j = 0; j < s; ++j) store(out + j, scratch[j] * inv_sum);
}

// Where one row's mask starts: masks broadcast over batch (mask_b == 1) and queries (mask_t == 1).
struct MaskLayout {
  const bool* data = nullptr;  // [mask_b, 1, mask_t, S] or null
  int64_t mask_b = 0, mask_t = 0, n = 0, t = 0, s = 0;
  const bool* row(int64_t row) const {
    if (data == nullptr) return nullptr;
    const int64_t bi = row / (n * t), ti = row % t;
    return data + ((mask_b == 1 ? 0 : bi) * mask_t + (mask_t == 1 ? 0 : ti)) * s;
  }
};

// Rows [begin, end) compiled for each vector ISA; kernel_isa() picks one.
template <typename T>
using RowsFn = void (*)(const T*, T*, const MaskLayout&, float, float*, int64_t, int64_t);
#define VP_SOFTMAX_ROWS(suffix, target_attr)                                                                    \
  template <typename T>                                                                                        \
  target_attr void softmax_rows_##suffix(const T* in, T* out, const MaskLayout& mask, float cap, float* scratch, \
                                         int64_t begin, int64_t end) {                                         \
    for (int64_t row = begin; row < end; ++row)                                                                \
      softmax_row<T>(in + row * mask.s, out + row * mask.s, mask.row(row), mask.s, cap, scratch);              \
  }
VP_SOFTMAX_ROWS(avx512, __attribute__((target("avx512f"))))
VP_SOFTMAX_ROWS(avx2, __attribute__((target("avx2"))))
VP_SOFTMAX_ROWS(default, )
#undef VP_SOFTMAX_ROWS

template <typename T>
RowsFn<T> softmax_rows() {
  switch (kernel_isa()) {
    case KernelIsa::kAvx512: return softmax_rows_avx512<T>;
    case KernelIsa::kAvx2: return softmax_rows_avx2<T>;
    default: return softmax_rows_default<T>;
  }
}

template <typename T>
void run_fused(const torch::Tensor& logits, const torch::Tensor& mask, torch::Tensor& probs, float cap) {
  MaskLayout layout;
  layout.n = logits.size(1);
  layout.t = logits.size(2);
  layout.s = logits.size(3);
  if (mask.defined()) {
    layout.data = mask.data_ptr<bool>();
    layout.mask_b = mask.size(0);
    layout.mask_t = mask.size(2);
  }
  const T* in = logits.data_ptr<T>();
  T* out = probs.data_ptr<T>();
  const int64_t rows = logits.size(0) * layout.n * layout.t;
  const RowsFn<T> rows_fn = softmax_rows<T>();
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(layout.s);
    rows_fn(in, out, layout, cap, scratch.data(), begin, end);
  });
}

}  // namespace

torch::Tensor capped_masked_softmax_reference(const torch::Tensor& logits, const torch::Tensor& mask,
                                              double cap) {
  torch::Tensor x = logits.to(torch::kFloat32);
  if (cap > 0) x = cap * torch::tanh(x / cap);
  if (mask.defined()) x = x.masked_fill(mask, kMaskValue);
  return torch::softmax(x, -1).to(logits.scalar_type());
}

torch::Tensor capped_masked_softmax(const torch::Tensor& logits, const torch::Tensor& mask, double cap) {
  check(logits.dim() == 4, "capped_masked_softmax: expected logits [B,N,T,S], got ", shape_str(logits.sizes()));
  const bool fusable = logits.device().is_cpu() &&
                       (logits.scalar_type() == torch::kFloat32 || logits.scalar_type() == torch::kBFloat16) &&
                       !(torch::GradMode::is_enabled() && logits.requires_grad());
  if (!fusable) return capped_masked_softmax_reference(logits, mask, cap);
  torch::Tensor mask4;
  if (mask.defined()) {
    check(mask.dim() == 4 && mask.size(1) == 1 && mask.size(3) == logits.size(3) &&
              (mask.size(0) == 1 || mask.size(0) == logits.size(0)) &&
              (mask.size(2) == 1 || mask.size(2) == logits.size(2)),
          "capped_masked_softmax: mask ", shape_str(mask.sizes()), " does not broadcast to logits ",
          shape_str(logits.sizes()));
    mask4 = mask.to(torch::kBool).contiguous();
  }
  torch::Tensor input = logits.contiguous();
  torch::Tensor probs = torch::empty_like(input);
  if (input.scalar_type() == torch::kFloat32) {
    run_fused<float>(input, mask4, probs, static_cast<float>(cap));
  } else {
    run_fused<c10::BFloat16>(input, mask4, probs, static_cast<float>(cap));
  }
  return probs;
}

}  // namespace videoprism::ops
