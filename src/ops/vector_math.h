// Row helpers for the CPU kernels (capped softmax, LayerNorm): reductions
// with independent partial results and branch-free float <-> bf16, written so
// the compiler vectorizes them inside the kernels' target_clones functions.
//
// A plain `sum += v[j]` loop cannot be vectorized without -ffast-math (the
// order of float additions is fixed), so it runs one add per 4 cycles; these
// keep kLanes sums side by side and combine them at the end (a different, and
// more accurate, summation order than the serial one).
#pragma once

#include <c10/util/BFloat16.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace videoprism::ops {

constexpr int kLanes = 16;

// The kernels' ISA dispatch: one copy per ISA, picked at load time (GCC).
// clang (the sanitizer and fuzzing build) cannot clone function templates
// and compiles the baseline copy only.
#if defined(__clang__)
#define VP_TARGET_CLONES
#else
#define VP_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

#define VP_ALWAYS_INLINE inline __attribute__((always_inline))

VP_ALWAYS_INLINE float combine_lanes_sum(float* acc) {
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

// Sum of v[0, n).
VP_ALWAYS_INLINE float lane_sum(const float* v, int64_t n) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += v[j + l];
  }
  for (int l = 0; j < n; ++j, ++l) acc[l] += v[j];
  return combine_lanes_sum(acc);
}

// Sum of (v[j] - center)^2 over [0, n).
VP_ALWAYS_INLINE float lane_sum_squared_deviation(const float* v, int64_t n, float center) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float c = v[j + l] - center;
      acc[l] += c * c;
    }
  }
  for (int l = 0; j < n; ++j, ++l) {
    const float c = v[j] - center;
    acc[l] += c * c;
  }
  return combine_lanes_sum(acc);
}

// max(init, v[0], ..., v[n-1]); NaNs are skipped like the serial `v > m ? v : m`.
VP_ALWAYS_INLINE float lane_max(const float* v, int64_t n, float init) {
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = init;
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
  }
  for (int l = 0; j < n; ++j, ++l) acc[l] = v[j] > acc[l] ? v[j] : acc[l];
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] = acc[l + width] > acc[l] ? acc[l + width] : acc[l];
  }
  return acc[0];
}

// Cody-Waite reduction x = k ln2 + r (x clamped to >= -87, so 2^k stays
// normal): returns e^r - 1 by a degree-6 polynomial and sets *scale = 2^k.
VP_ALWAYS_INLINE float expm1_reduced(float x, float* scale) {
  x = x < -87.0f ? -87.0f : x;
  const float kLog2e = 1.44269504088896341f;
  const float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  const float k = std::nearbyint(x * kLog2e);
  float r = x - k * kLn2Hi;
  r = r - k * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  std::memcpy(scale, &bits, sizeof(float));
  return p * r * r + r;
}

// exp(x) for x <= 0 (a softmax after max subtraction), relative error below
// 2e-7, branch-free so loops vectorize.
VP_ALWAYS_INLINE float fast_exp_nonpositive(float x) {
  float scale;
  const float em1 = expm1_reduced(x, &scale);
  return em1 * scale + scale;
}

// e^x - 1 for x <= 0, as 2^k (e^r - 1) + (2^k - 1): no cancellation near 0.
VP_ALWAYS_INLINE float fast_expm1_nonpositive(float x) {
  float scale;
  const float em1 = expm1_reduced(x, &scale);
  return em1 * scale + (scale - 1.0f);
}

VP_ALWAYS_INLINE float to_float(float v) { return v; }
VP_ALWAYS_INLINE float to_float(c10::BFloat16 v) {
  const uint32_t bits = static_cast<uint32_t>(v.x) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

VP_ALWAYS_INLINE void store(float* dst, float v) { *dst = v; }
// float -> bf16 rounding to nearest even, as c10::BFloat16's constructor, but
// branch-free so row loops vectorize; NaN stays NaN (quieted), infinities stay.
VP_ALWAYS_INLINE void store(c10::BFloat16* dst, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  const uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  const uint32_t out = v != v ? (bits | 0x00400000u) : rounded;
  const uint16_t high = static_cast<uint16_t>(out >> 16);
  std::memcpy(dst, &high, sizeof(high));
}

#undef VP_ALWAYS_INLINE

}  // namespace videoprism::ops
