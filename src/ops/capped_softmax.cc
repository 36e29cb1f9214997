#include "ops/capped_softmax.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "ops/vector_math.h"
#include "videoprism/error.h"

namespace videoprism::ops {

namespace {

// cap * tanh(x / cap), with tanh(y) = -m / (2 + m), m = e^(-2|y|) - 1:
// a few ulp also near 0. Always float32, also for bf16 logits (the reference
// caps in the activation dtype; float32 is the more accurate of the two).
inline float soft_cap(float x, float cap, float inv_cap) {
  const float m = fast_expm1_nonpositive(-2.0f * std::fabs(x * inv_cap));
  return std::copysign(cap * (-m / (2.0f + m)), x);
}

// One row of S logits -> probabilities. `row_mask` may be null (nothing masked).
template <typename T>
VP_TARGET_CLONES
void softmax_row(const T* in, T* out, const bool* row_mask, int64_t s, float cap, float* scratch) {
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

template <typename T>
void run_fused(const torch::Tensor& logits, const torch::Tensor& mask, torch::Tensor& probs, float cap) {
  const int64_t b = logits.size(0), n = logits.size(1), t = logits.size(2), s = logits.size(3);
  const T* in = logits.data_ptr<T>();
  T* out = probs.data_ptr<T>();
  const bool* mask_data = mask.defined() ? mask.data_ptr<bool>() : nullptr;
  const int64_t mask_b = mask.defined() ? mask.size(0) : 0;
  const int64_t mask_t = mask.defined() ? mask.size(2) : 0;
  const int64_t rows = b * n * t;
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(s);
    for (int64_t row = begin; row < end; ++row) {
      const int64_t bi = row / (n * t), ti = row % t;
      const bool* row_mask = nullptr;
      if (mask_data != nullptr) {
        row_mask = mask_data + ((mask_b == 1 ? 0 : bi) * mask_t + (mask_t == 1 ? 0 : ti)) * s;
      }
      softmax_row<T>(in + row * s, out + row * s, row_mask, s, cap, scratch.data());
    }
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
