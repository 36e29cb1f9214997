// The timing loop behind every GEMM ceiling (gemm_tflops in
// videoprism/cpu_features.h, the oneDNN float32 and int8 kernels' own).
#pragma once

#include <cstdint>
#include <functional>

#include <torch/torch.h>

namespace videoprism::ops {

// One warm-up call of `run`, then the best of `repeats` timed calls (the
// device synchronized around each), as TFLOP/s of an n x n x n matmul.
double best_tflops(int64_t n, int repeats, const torch::Device& device, const std::function<void()>& run);

}  // namespace videoprism::ops
