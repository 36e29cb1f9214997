// Which GEMM epilogues CUDA bf16 inference may use (and whether CPU GEMMs run
// in int8), set per thread for one model call from RunOptions (Model::encode_video / encode_text):
//   approximate_gelu: the FFN's bias + GELU in the GEMM through cuBLASLt, which
//     computes the tanh approximation instead of the reference's exact erf;
//   fused_residual: a pre-norm block's output projection and second FFN
//     matmul add bias and residual in the GEMM (cuda/linear_residual.h).
// Layers ask EpilogueScope::current(); for anything the fused calls do not
// take (CPU, float32, gradients, padding masks) they compute it unfused.
#pragma once

#include <torch/torch.h>

namespace videoprism {

struct EpilogueOptions {
  bool approximate_gelu = false;
  bool fused_residual = false;
  // CPU float32 inference with `--dtype int8`: the projection GEMMs (Dense,
  // attention projections) run as dynamic int8 GEMMs (layers/packed_weights.h).
  bool int8_gemms = false;
  // CPU float32 inference with RunOptions::cpu_gemm kOneDnn: the projections
  // run through oneDNN with packed weights (layers/packed_weights.h).
  bool packed_f32_gemms = false;
};

class EpilogueScope {
 public:
  explicit EpilogueScope(const EpilogueOptions& options);
  ~EpilogueScope();
  EpilogueScope(const EpilogueScope&) = delete;
  EpilogueScope& operator=(const EpilogueScope&) = delete;
  // This thread's options (all off outside a scope).
  static const EpilogueOptions& current();

 private:
  EpilogueOptions previous_;
};

// x @ W + bias + residual when the current scope has fused_residual and the
// fused CUDA path takes these inputs (weight [K, N], or [N, K] with weight_nk);
// otherwise an undefined tensor and nothing computed.
torch::Tensor fused_linear_residual(const torch::Tensor& x, const torch::Tensor& weight, bool weight_nk,
                                    const torch::Tensor& bias, const torch::Tensor& residual);

}  // namespace videoprism
