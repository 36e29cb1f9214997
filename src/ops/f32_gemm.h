// Float32 projection GEMMs on the CPU through oneDNN's matmul primitive
// (CPU float32 inference; docs/performance.md, "Projections through oneDNN").
//
//   y = x W + bias, then GELU (exact, erf form) if asked, then + residual if given,
//
// with W packed once into the blocked layout oneDNN's kernels read (OpenBLAS
// packs its operand again at every call) and the epilogue inside the GEMM's
// store, so a row block of the FFN's hidden activations never leaves the cache
// (layers/feed_forward.cc) and no separate GELU or residual pass runs.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

namespace videoprism::ops {

class F32Linear {
 public:
  // weight: [K, N] float32 (column n produces output n); bias: [N] float32 or undefined.
  F32Linear(const torch::Tensor& weight, const torch::Tensor& bias);
  ~F32Linear();
  F32Linear(const F32Linear&) = delete;
  F32Linear& operator=(const F32Linear&) = delete;

  // x: [..., K] float32 CPU; residual: [..., N] float32 CPU or undefined.
  // Returns [..., N] = x W + bias (GELU'd if `gelu`) (+ residual). Thread-safe.
  torch::Tensor forward(const torch::Tensor& x, bool gelu = false, const torch::Tensor& residual = {}) const;
  // The same into `out`: rows [M, K] and out [M, N] (and residual [M, N] if
  // defined) with contiguous rows (a narrow of a larger contiguous tensor is fine).
  void forward_into(const torch::Tensor& rows, torch::Tensor& out, bool gelu, const torch::Tensor& residual) const;

  int64_t in_dim() const;
  int64_t out_dim() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Best-of-`repeats` TFLOP/s of an n x n x n F32Linear (no bias, no epilogue,
// weights packed before timing): oneDNN's float32 GEMM ceiling beside
// libtorch's (gemm_tflops).
double f32_gemm_tflops(int n, int repeats = 3);

}  // namespace videoprism::ops
