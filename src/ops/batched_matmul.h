// Batched matmul for attention: [..., M, K] x [..., K, N] -> [..., M, N].
//
// libtorch 1.13's CPU float32 bmm on OpenBLAS multiplies the batch one matrix
// at a time, each call handed to OpenBLAS's two-thread pool: VideoPrism-B's
// spatial attention (192 matrices of 256x64 by 64x256 per layer) ran at
// 0.006 TFLOP/s on 2 cores, a third of a float32 forward. Here the batch is
// split over libtorch's threads, each matrix one single-threaded GEMM (14x
// faster there). Other dtypes and devices (bf16 goes to oneDNN, which batches
// well), and autograd, use torch::matmul.
#pragma once

#include <torch/torch.h>

namespace videoprism::ops {

// a: [..., M, K], b: [..., K, N] with the same leading dims (any strides).
// onednn: CPU float32 without autograd as one oneDNN batched matmul (brgemm
// kernels; 2-4x the per-matrix OpenBLAS split on attention's shapes), as
// RunOptions::cpu_gemm kOneDnn asks; otherwise ignored.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, bool onednn = false);

}  // namespace videoprism::ops
