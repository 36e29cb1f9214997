// One cuBLASLt matmul that ends a transformer sub-block: the projection, its
// bias and the residual add in a single pass over the output,
//   out[M, N] = x[M, K] @ W + bias[N] + residual[M, N]     (bf16, float32 accumulation)
// instead of a GEMM that writes the projection and a second kernel that reads
// it back with the residual. The raw-pointer interface (gemm_epilogue.cu);
// the libtorch side is linear_residual.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace videoprism::cuda {

struct GemmBiasResidualParams {
  const void* x = nullptr;         // bf16 [M, K], row-major, contiguous
  const void* weight = nullptr;    // bf16 [K, N] row-major, or [N, K] when weight_nk
  bool weight_nk = false;          // the output projection stores W as [D_out, D_in]
  const void* bias = nullptr;      // bf16 [N]
  const void* residual = nullptr;  // bf16 [M, N], row-major, contiguous
  void* out = nullptr;             // bf16 [M, N], row-major, contiguous (may not alias x or weight)
  int64_t m = 0, n = 0, k = 0;
  void* workspace = nullptr;       // device memory for cuBLASLt, 256-byte aligned
  size_t workspace_bytes = 0;
};

// 0 on success, else the cublasStatus_t of the failing call (nothing written
// when it failed before the matmul ran). Thread-safe; plans are cached per shape.
int gemm_bias_residual(const GemmBiasResidualParams& p, cudaStream_t stream);

// cuBLASLt's name for a status code returned above.
const char* gemm_status_name(int status);

}  // namespace videoprism::cuda
