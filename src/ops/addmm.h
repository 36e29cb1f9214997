// bias + x W for the projections (QKV, output projection, FFN):
// [M] or [N] bias, x [M, K], w [K, N] -> [M, N].
//
// On 2 cores, OpenBLAS splits one large float32 GEMM between its own two
// threads less well than two independent halves of the rows, each a
// single-threaded GEMM on one of libtorch's threads: 4096x768 by 768x3072
// (VideoPrism-B's FFN) ran at 147 against 121 GFLOP/s (AVX-512 kernels) and
// 79 against 70 (AVX2 kernels). So CPU float32 inference splits the rows;
// other dtypes, devices, small matrices and autograd take torch::addmm.
#pragma once

#include <torch/torch.h>

namespace videoprism::ops {

torch::Tensor addmm(const torch::Tensor& bias, const torch::Tensor& x, const torch::Tensor& w);

}  // namespace videoprism::ops
