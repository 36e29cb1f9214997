// The libtorch side of gemm_epilogue.h: a transformer sub-block's projection,
// bias and residual add in one cuBLASLt call, for CUDA bf16 inference (the
// layers call it under RunOptions::fused_residual). Only built with VIDEOPRISM_CUDA.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace videoprism::cuda {

// x @ W + bias + residual as a new tensor shaped like `residual`.
//   x: [..., K]; weight: [K, N], or [N, K] when weight_nk; bias: [N];
//   residual: [..., N] with as many rows as x.
// All CUDA bf16 on one device, no autograd. Returns an undefined tensor (and
// runs nothing) for any other input, or when cuBLASLt refuses the shape (said
// once on stderr); the caller then computes it unfused.
torch::Tensor linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                              const torch::Tensor& bias, const torch::Tensor& residual);

// How many linear_residual calls ran fused in this process (bench checks the
// path it times was taken).
int64_t linear_residual_calls();

}  // namespace videoprism::cuda
