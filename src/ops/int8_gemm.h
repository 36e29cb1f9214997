// Dynamic int8 projection GEMMs on the CPU through oneDNN's matmul primitive
// (brgemm kernels: AMX-INT8, AVX512-VNNI, ...; see docs/int8.md for why
// oneDNN and not libtorch's quantized engines).
//
//   weights: quantized once, per output column, symmetric s8 (scale = max|w| / 127);
//   activations: quantized at every call, per row (token), symmetric s8;
//   s8 x s8 -> s32 accumulate in oneDNN, then one pass
//   y[m, n] = acc[m, n] * row_scale[m] * column_scale[n] + bias[n] in float32.
//
// Where oneDNN has no VNNI/AMX kernel (AVX2 or AVX-512 without VNNI) it
// multiplies with vpmaddubsw, whose 16-bit pair sums saturate for large
// products; a one-time probe detects that and the weights are then quantized
// to 7 bits (|q| <= 63), which keeps every pair sum in range.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

namespace videoprism::ops {

class Int8Linear {
 public:
  // weight: [K, N] float32 (column n produces output n); bias: [N] float32 or undefined.
  Int8Linear(const torch::Tensor& weight, const torch::Tensor& bias);
  ~Int8Linear();
  Int8Linear(const Int8Linear&) = delete;
  Int8Linear& operator=(const Int8Linear&) = delete;

  // x: [..., K] float32 CPU -> [..., N] float32. Thread-safe.
  torch::Tensor forward(const torch::Tensor& x) const;

  int64_t in_dim() const;
  int64_t out_dim() const;
  // The quantized weights as float32 ([K, N], q * column_scale): for tests.
  torch::Tensor dequantized_weight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Symmetric per-row s8 quantization of x [M, K] float32: returns q [M, K] int8
// and writes scale [M] (x ~= q * scale); rows of zeros get scale 1.
torch::Tensor quantize_rows(const torch::Tensor& x, torch::Tensor& scale);

// Whether this process's oneDNN computes s8 x s8 GEMMs exactly with full-range
// (|q| <= 127) weights; false where its kernels saturate (no VNNI / AMX, or
// the ISA capped below them). Probed once on a small GEMM.
bool int8_full_range_exact();

// The largest weight magnitude Int8Linear quantizes to here: 127 or 63.
int int8_weight_limit();

// Best-of-`repeats` int8 tera-operations per second of an n x n x n s8 x s8 ->
// s32 oneDNN matmul (the GEMM alone, no quantization or epilogue): the int8
// counterpart of gemm_tflops.
double int8_gemm_tops(int n, int repeats = 3);

}  // namespace videoprism::ops
