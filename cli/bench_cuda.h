// `videoprism bench --device cuda`: the GPU inference benchmark. Validates the
// fused attention and the model's fused path against the plain one, then times
// VideoPrism at each batch size (eager and CUDA graph, bf16; float32 eager),
// next to bf16 / float32 GEMM ceilings measured in the same run.
#pragma once

#include <string>
#include <vector>

namespace videoprism::cli {

struct CudaBenchOptions {
  std::string preset = "videoprism_public_v1_base";
  std::string device = "cuda";
  int frames = 16, size = 288;
  std::vector<int> batches{16, 1};
  int warmup = 3, iterations = 20;
  int gemm = 8192;
  bool f32 = true;    // also time float32 (TF32 off) at the first batch size
  bool plain = true;  // also time the plain (unfused) attention path at the first batch size
  bool approximate_gelu = true;  // also time RunOptions::approximate_gelu at the first batch size
  bool fused_residual = true;    // also time RunOptions::fused_residual (alone and with tanh-GELU) there
};

// Prints JSON lines and a markdown table; returns the exit code.
int run_cuda_bench(const CudaBenchOptions& options);

}  // namespace videoprism::cli
